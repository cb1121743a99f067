"""The tag block that ends every struct of a flexible version: its usual empty form is read in one step;
every other form (a count, unknown tags mid-array, a missing block) is read as before."""

import pytest

from wire.codec import ProtocolError, decode, encode
from wire.messages import APIS

OFFSET_COMMIT = APIS[8]


def body(partitions: int = 3) -> bytes:
    return encode(OFFSET_COMMIT.request, 9, {
        "group_id": "g", "generation_id_or_member_epoch": -1, "member_id": "", "topics": [
            {"name": "t", "partitions": [{"partition_index": p, "committed_offset": p, "committed_metadata": ""}
                                         for p in range(partitions)]}]})


def test_an_unknown_tag_on_one_partition_of_many_is_kept_and_the_rest_read_on():
    plain = body()
    entry = bytes.fromhex("00000001" "0000000000000001" "ffffffff" "01" "00")  # partition 1's bytes
    assert plain.count(entry) == 1
    tagged = plain.replace(entry, entry[:-1] + bytes.fromhex("01" "63" "02" "abcd"))
    decoded = decode(OFFSET_COMMIT.request, 9, tagged)
    partitions = decoded.topics[0].partitions
    assert [p.committed_offset for p in partitions] == [0, 1, 2]
    assert partitions[1]._unknown_tags == [(99, b"\xab\xcd")] and "_unknown_tags" not in partitions[2]
    assert encode(OFFSET_COMMIT.request, 9, decoded) == tagged


def test_a_non_minimal_empty_count_is_still_an_empty_block():
    plain = body(1)
    assert plain.endswith(b"\x00\x00\x00")  # partition, topic and request tag blocks
    decoded = decode(OFFSET_COMMIT.request, 9, plain[:-1] + b"\x80\x00")
    assert decoded.topics[0].partitions[0].committed_offset == 0


def test_a_missing_final_tag_block_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="truncated varint"):
        decode(OFFSET_COMMIT.request, 9, body()[:-1])

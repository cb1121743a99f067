"""The derived codecs: Kafka's classic and compact encodings, tagged fields, and hostile lengths."""

import pytest

from wire.codec import ProtocolError, decode, encode, uvarint_bytes
from wire.messages import APIS
from wire.schema import Field, Message

API_VERSIONS = APIS[18]


def test_classic_api_versions_response_bytes():
    body = encode(API_VERSIONS.response, 1, {"error_code": 0, "throttle_time_ms": 7,
                                             "api_keys": [{"api_key": 3, "min_version": 0, "max_version": 12}]})
    assert body == bytes.fromhex("0000" "00000001" "0003" "0000" "000c" "00000007")


def test_flexible_encoding_uses_compact_lengths_and_tag_blocks():
    body = encode(API_VERSIONS.response, 3, {"api_keys": [{"api_key": 3, "min_version": 0, "max_version": 12}]})
    # error, compact array of 1 (=2), entry + empty tags, throttle, empty top-level tags
    assert body == bytes.fromhex("0000" "02" "0003" "0000" "000c" "00" "00000000" "00")


def test_tagged_field_written_only_when_not_default_and_read_back():
    body = encode(API_VERSIONS.response, 3, {"api_keys": [], "finalized_features_epoch": 9})
    assert body.endswith(bytes.fromhex("01" "01" "08" "0000000000000009"))
    assert decode(API_VERSIONS.response, 3, body).finalized_features_epoch == 9
    assert decode(API_VERSIONS.response, 3, encode(API_VERSIONS.response, 3, {})).finalized_features_epoch == -1


def test_unknown_tags_are_skipped_and_preserved():
    body = bytearray(encode(API_VERSIONS.request, 3, {"client_software_name": "x", "client_software_version": "1"}))
    assert body[-1] == 0
    body[-1:] = bytes.fromhex("01" "63" "03" "aabbcc")  # tag 99, 3 bytes
    decoded = decode(API_VERSIONS.request, 3, bytes(body))
    assert decoded.client_software_name == "x"
    assert decoded._unknown_tags == [(99, b"\xaa\xbb\xcc")]
    assert encode(API_VERSIONS.request, 3, decoded) == bytes(body)


SAMPLE = Message("Sample", 1000, valid="0-1", flexible="1+", fields=[
    Field("name", "string", nullable="0+"),
    Field("data", "bytes", nullable="0+"),
    Field("ids", "[]int32", nullable="0+"),
    Field("id", "uuid"),
    Field("flag", "bool"),
])


@pytest.mark.parametrize("version", [0, 1])
@pytest.mark.parametrize("value", [
    {"name": None, "data": None, "ids": None, "id": b"\x01" * 16, "flag": True},
    {"name": "héllo", "data": b"\x00\xff", "ids": [1, -2, 3], "id": b"\x00" * 16, "flag": False},
    {"name": "", "data": b"", "ids": [], "id": b"\x02" * 16, "flag": True},
])
def test_round_trip_nulls_and_empties(version, value):
    decoded = decode(SAMPLE, version, encode(SAMPLE, version, value))
    assert {k: decoded[k] for k in value} == value


@pytest.mark.parametrize("body, why", [
    (b"\x00\x05ab", "string longer than the frame"),
    (b"\xff\xfe", "negative string length"),
    (b"\xff\xff\x7f\xff\xff\xff", "huge bytes length"),
    (b"\xff\xff\xff\xff\xff\xff\x7f\xff\xff\xff", "huge array count"),
    (b"\x00\x02\xc3\x28", "invalid UTF-8"),
    (b"", "empty"),
])
def test_hostile_classic_bodies_raise_protocol_error(body, why):
    with pytest.raises(ProtocolError):
        decode(SAMPLE, 0, body)


def test_huge_compact_array_count_rejected_before_allocating():
    body = b"\x00" + b"\x00" + uvarint_bytes(2**31)  # null name, null data, absurd ids count
    with pytest.raises(ProtocolError):
        decode(SAMPLE, 1, body)


def test_overlong_varint_rejected():
    with pytest.raises(ProtocolError):
        decode(SAMPLE, 1, b"\xff" * 10)


def test_undeclared_version_rejected():
    with pytest.raises(ProtocolError):
        decode(SAMPLE, 2, b"")


NESTED = Message("Nested", 1001, valid="0-1", flexible="1+", fields=[
    Field("assignment", "Assignment", nullable="0+", default=None, fields=[Field("epoch", "int32")]),
    Field("target", "Target", fields=[Field("epoch", "int32")]),
])


@pytest.mark.parametrize("version", [0, 1])
def test_nullable_struct_has_a_presence_marker(version):
    null_body = encode(NESTED, version, {"assignment": None, "target": {"epoch": 2}})
    assert null_body[0] == 0xFF
    present = encode(NESTED, version, {"assignment": {"epoch": 5}, "target": {"epoch": 2}})
    assert present[0] == 0x01
    assert decode(NESTED, version, present).assignment.epoch == 5
    assert decode(NESTED, version, null_body).assignment is None


def test_absent_non_nullable_struct_encodes_its_defaults():
    assert decode(NESTED, 0, encode(NESTED, 0, {})).target.epoch == 0

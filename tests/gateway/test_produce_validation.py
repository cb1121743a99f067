"""Produce answers malformed records as Kafka does: INVALID_RECORD, KIP-467 record_errors from v8, nothing stored."""

import struct

import pytest
from crc32c import crc32c

from tests.gateway.test_handlers import create, fetch
from tests.wire.test_records import raw_batch, record, varints
from wire.errors import ErrorCode
from wire.records import build_batch, iter_batches

PRODUCE = 0
GOOD = record(b"\x00", varints(0, 0, -1, 1), b"v", varints(0))


@pytest.fixture
def client(broker):
    c = broker.client()
    yield c
    c.close()


def produce(client, name, records, version):
    response = client.request(PRODUCE, version, {"transactional_id": None, "acks": -1, "timeout_ms": 1000,
                                                 "topic_data": [{"name": name, "partition_data": [
                                                     {"index": 0, "records": records}]}]})
    return response.responses[0].partition_responses[0]


@pytest.mark.parametrize("version", [3, 7, 8, 9, 11])
def test_malformed_record_gets_invalid_record_with_record_errors_and_nothing_is_stored(client, version):
    name = f"bad-records-v{version}"
    create(client, name)
    assert produce(client, name, build_batch([(b"k", b"ok", [], 1000)]), version).error_code == ErrorCode.NONE
    negative_headers = record(b"\x00", varints(0, 1, -1, -1, -1))  # record 1: header count -1
    answer = produce(client, name, bytes(raw_batch(GOOD + negative_headers, count=2)), version)
    assert answer.error_code == ErrorCode.INVALID_RECORD
    if version >= 8:
        assert [(e.batch_index, e.batch_index_error_message) for e in answer.record_errors] == [
            (1, "Found invalid number of record headers -1")]
        assert answer.error_message == "Found invalid number of record headers -1"
    else:
        assert "record_errors" not in answer  # the field does not exist before v8
    partition = fetch(client, name, 0).responses[0].partitions[0]
    assert partition.high_watermark == 1
    assert [h.base_offset for h, _ in iter_batches(partition.records)] == [0]


def test_batch_claiming_2_31_records_is_refused_and_the_high_watermark_stays(client):
    create(client, "claims-2-31")
    batch = bytearray(build_batch([(None, b"one", [], 1000)]))
    struct.pack_into(">i", batch, 23, 2**31 - 2)  # lastOffsetDelta
    struct.pack_into(">i", batch, 57, 2**31 - 1)  # recordCount
    struct.pack_into(">I", batch, 17, crc32c(bytes(batch[21:])))
    for _ in range(3):
        answer = produce(client, "claims-2-31", bytes(batch), 9)
        assert answer.error_code == ErrorCode.INVALID_RECORD
        assert [e.batch_index for e in answer.record_errors] == [1]
    assert fetch(client, "claims-2-31", 0).responses[0].partitions[0].high_watermark == 0


def test_decompression_bomb_is_refused_with_message_too_large(client):
    import cramjam

    zeros = bytes(200 * 1024 * 1024)  # a records block of 200 MiB, above the 100 MiB a batch may decompress to
    bomb = bytes(cramjam.zstd.compress(zeros, level=1))
    del zeros
    answer = produce(client, "bomb", bytes(raw_batch(bomb, count=1, attributes=4)), 9)
    assert answer.error_code == ErrorCode.MESSAGE_TOO_LARGE

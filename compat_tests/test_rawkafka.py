"""rawkafka's batch-header reader, on hand-built record sets (no broker needed)."""

from __future__ import annotations

import struct

import pytest

from compat_tests import rawkafka


def batch_bytes(base_offset: int, attributes: int, record_count: int, payload: bytes = b"r" * 20,
                producer_id: int = -1, base_sequence: int = -1) -> bytes:
    """A magic-2 batch header followed by opaque payload (CRC left 0: rawkafka does not check it)."""
    header = rawkafka.BATCH_HEADER.pack(
        base_offset, 0, 0, 2, 0, attributes, record_count - 1, 1_000, 2_000, producer_id, 0, base_sequence,
        record_count,
    )
    body = header[rawkafka.BATCH_LOG_OVERHEAD:] + payload
    return struct.pack(">qi", base_offset, len(body)) + body


def test_reads_each_batch_header_and_codec_bits():
    records = batch_bytes(0, 0x04, 3, producer_id=7, base_sequence=0) + batch_bytes(3, 0x11, 2)
    first, second = rawkafka.batch_headers(records)
    assert (first.base_offset, first.record_count, first.compression, first.next_offset) == (0, 3, "zstd", 3)
    assert (first.producer_id, first.base_sequence) == (7, 0)
    assert (second.base_offset, second.compression, second.is_transactional, second.is_control) == (
        3, "gzip", True, False)


def test_drops_a_trailing_partial_batch():
    whole = batch_bytes(0, 0, 2)
    cut = batch_bytes(2, 0, 2)[:-5]
    assert [b.base_offset for b in rawkafka.batch_headers(whole + cut)] == [0]
    assert rawkafka.batch_headers(whole[:40]) == []


def test_rejects_old_message_formats():
    old = bytearray(batch_bytes(0, 0, 1))
    old[16] = 1  # magic byte
    with pytest.raises(rawkafka.RawKafkaError):
        rawkafka.batch_headers(bytes(old))

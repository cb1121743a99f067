"""Rewriting a stored batch with some of its records, as Kafka's log cleaner does (MemoryRecords.filterTo).

The records kept are copied byte for byte but for their timestamp delta, so keys, values, headers
and offset deltas are exactly the producer's. The new batch keeps the base offset, the last offset
delta (Kafka's overrideLastOffset: the producer's last sequence stays meaningful), the producer id,
epoch and base sequence, the partition leader epoch, the compression codec and the transactional
and control flags; it gets a fresh record count, max timestamp and CRC. With a delete horizon
(KIP-534) the attributes get bit 6 and the base timestamp becomes the horizon.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from wire.crc import crc32c

from wire.record_codec import compress, read_varint, write_varint
from wire.records import (
    ATTRIBUTES_OFFSET,
    CODEC_NONE,
    CRC_OFFSET,
    HEADER,
    HEADER_SIZE,
    LOG_OVERHEAD,
    BatchHeader,
    _records_block,
    read_header,
)

DELETE_HORIZON_MASK = 0x40  # Kafka's DefaultRecordBatch.DELETE_HORIZON_FLAG_MASK
_UINT32 = struct.Struct(">I")


class RawRecord(NamedTuple):
    """One record of a batch: what the cleaner decides on, and where its bytes after the timestamp delta
    are in the decompressed records block (copied only if the batch is rebuilt)."""

    offset: int
    timestamp: int
    key: bytes | None
    has_value: bool
    attributes: int
    block: object  # the batch's records block (bytes or memoryview)
    rest_start: int  # offset delta, key, value and headers: block[rest_start:rest_end], exactly as stored
    rest_end: int

    @property
    def rest(self):
        return self.block[self.rest_start:self.rest_end]


def _varint(buf, pos: int, end: int, max_bytes: int = 5) -> tuple[int, int]:
    """read_varint with a fast path for one-byte values (most deltas and small lengths)."""
    byte = buf[pos]
    if byte < 0x80:
        return (byte >> 1) ^ -(byte & 1), pos + 1
    return read_varint(buf, pos, end, max_bytes)


def delete_horizon(header: BatchHeader) -> int | None:
    """The batch's delete horizon (ms), if the cleaner set one (KIP-534)."""
    return header.base_timestamp if header.attributes & DELETE_HORIZON_MASK else None


def raw_records(batch) -> tuple[BatchHeader, list[RawRecord]]:
    """The header and records of one whole stored batch (decompressed)."""
    header = read_header(batch)
    body = _records_block(batch, 0, header)
    records = []
    pos, end = 0, len(body)
    base_offset, base_timestamp = header.base_offset, header.base_timestamp
    for _ in range(header.record_count):
        length, pos = _varint(body, pos, end)
        record_end = pos + length
        attributes = body[pos]
        timestamp_delta, after_ts = _varint(body, pos + 1, record_end, 10)
        offset_delta, at = _varint(body, after_ts, record_end)
        key_length, at = _varint(body, at, record_end)
        if key_length >= 0:
            key = bytes(body[at:at + key_length])
            at += key_length
        else:
            key = None
        records.append(RawRecord(base_offset + offset_delta, base_timestamp + timestamp_delta, key,
                                 body[at] != 1, attributes, body, after_ts, record_end))  # 1: zig-zag -1, null
        pos = record_end
    return header, records


def rebuild(header: BatchHeader, records: list[RawRecord], *, horizon: int | None = None) -> bytes:
    """A batch like `header`'s holding only `records` (at least one), with `horizon` as its delete
    horizon when given (a batch that already has one keeps it)."""
    if not records:
        raise ValueError("a rebuilt batch holds at least one record")
    attributes = header.attributes
    base_timestamp = header.base_timestamp
    if horizon is not None and not attributes & DELETE_HORIZON_MASK:
        attributes |= DELETE_HORIZON_MASK
        base_timestamp = horizon
    body = bytearray()
    for record in records:
        inner = bytearray((record.attributes,))
        write_varint(record.timestamp - base_timestamp, inner)
        inner += record.rest
        write_varint(len(inner), body)
        body += inner
    if header.compression != CODEC_NONE:
        body = compress(header.compression, body)
    if header.log_append_time:
        max_timestamp = header.max_timestamp
    else:
        max_timestamp = max(record.timestamp for record in records)
    batch = bytearray(HEADER_SIZE)
    batch += body
    HEADER.pack_into(batch, 0, header.base_offset, len(batch) - LOG_OVERHEAD, header.partition_leader_epoch,
                     header.magic, 0, attributes, header.last_offset_delta, base_timestamp, max_timestamp,
                     header.producer_id, header.producer_epoch, header.base_sequence, len(records))
    _UINT32.pack_into(batch, CRC_OFFSET, crc32c(memoryview(batch)[ATTRIBUTES_OFFSET:]))
    return bytes(batch)


def with_horizon(batch: bytes, horizon: int) -> bytes:
    """The batch with a delete horizon set and every record kept (a control batch's first clean)."""
    header, records = raw_records(batch)
    return rebuild(header, records, horizon=horizon)

"""Record batches (magic 2) as opaque bytes: header, CRC-32C, validation, offset rewrite, LogAppendTime.

The hot path (Produce, Fetch) reads the 61-byte header with `struct` and rewrites fields in place; Produce
also walks every record once with `validate_records` (wire/record_validation.py, in C), which builds nothing
per record. Records are parsed into objects only by `iter_records` (timestamp lookups, tests).
Layout, big-endian:

    baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 | crc uint32 |
    attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 |
    producerId int64 | producerEpoch int16 | baseSequence int32 | recordCount int32 | records...

The CRC covers attributes to the end of the batch; baseOffset and partitionLeaderEpoch are outside it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import NamedTuple

from wire.crc import crc32c

from wire.errors import ErrorCode
from wire.record_codec import (
    CODEC_NONE,
    CODEC_ZSTD,
    CorruptRecordError,
    Record,
    compress,
    decode_records,
    decompress,
    decompress_bounded,
    encode_record,
    invalid_record,
)
from wire import record_validation
from wire.record_validation import (
    MAX_UNCOMPRESSED_BATCH_BYTES,
    RecordsSummary,
    RecordValidationError,
    check_records,
    check_timestamp_bounds,
    keyless_record_indexes,
)

__all__ = [
    "BatchHeader", "CorruptRecordError", "HEADER_SIZE", "INT64_MAX", "INT64_MIN", "Record", "RecordValidationError",
    "RecordsSummary", "accept_batch", "accept_python", "assign_offsets", "build_batch", "compress", "control_batch",
    "decompress", "iter_batches", "iter_records", "keyless_record_errors", "read_header", "set_max_timestamp",
    "set_partition_leader_epoch", "split_batches", "stamp_log_append_time", "stored_batch", "stored_copy",
    "stored_python", "validate_batch", "validate_records",
]

HEADER = struct.Struct(">qiibIhiqqqhii")
HEADER_SIZE = HEADER.size  # 61
LOG_OVERHEAD = 12  # baseOffset + batchLength, the bytes batchLength does not count
MIN_BATCH_LENGTH = HEADER_SIZE - LOG_OVERHEAD  # 49: a batchLength below this cannot hold a header
MAGIC = 2
PARTITION_LEADER_EPOCH_OFFSET = 12
CRC_OFFSET = 17
ATTRIBUTES_OFFSET = 21  # the CRC covers from here to the end of the batch
MAX_TIMESTAMP_OFFSET = 35
NO_TIMESTAMP = -1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

COMPRESSION_MASK = 0x07
TIMESTAMP_TYPE_MASK = 0x08  # set: LogAppendTime
TRANSACTIONAL_MASK = 0x10
CONTROL_MASK = 0x20
CONTROL_ABORT, CONTROL_COMMIT = 0, 1

_INT32 = struct.Struct(">i")
_INT64 = struct.Struct(">q")
_UINT32 = struct.Struct(">I")
_ATTRIBUTES = struct.Struct(">h")
_CONTROL_KEY = struct.Struct(">hh")  # version, type
_CONTROL_VALUE = struct.Struct(">hi")  # version, coordinator_epoch


class BatchHeader(NamedTuple):
    """The 61-byte batch header, fields in Kafka's order."""

    base_offset: int
    batch_length: int
    partition_leader_epoch: int
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    record_count: int

    @property
    def size(self) -> int:
        """Bytes the whole batch takes, the log overhead included."""
        return LOG_OVERHEAD + self.batch_length

    @property
    def compression(self) -> int:
        return self.attributes & COMPRESSION_MASK

    @property
    def log_append_time(self) -> bool:
        return bool(self.attributes & TIMESTAMP_TYPE_MASK)

    @property
    def is_transactional(self) -> bool:
        return bool(self.attributes & TRANSACTIONAL_MASK)

    @property
    def is_control(self) -> bool:
        return bool(self.attributes & CONTROL_MASK)

    @property
    def last_offset(self) -> int:
        return self.base_offset + self.last_offset_delta


_make_header = BatchHeader._make
_unpack_header = HEADER.unpack_from


def read_header(buf, pos: int = 0) -> BatchHeader:
    """The header of the batch starting at `pos`."""
    if len(buf) - pos < HEADER_SIZE:
        raise CorruptRecordError(f"record batch header truncated: {len(buf) - pos} of {HEADER_SIZE} bytes")
    return _make_header(_unpack_header(buf, pos))


def split_batches(buf) -> list[tuple[int, BatchHeader]]:
    """(position, header) of each batch of a Produce records blob, which must hold whole batches only."""
    end = len(buf)
    if end == 0:
        raise invalid_record("a produce request needs at least one record batch per partition")
    batches = []
    pos = 0
    while pos < end:
        header = read_header(buf, pos)
        next_pos = _batch_end(buf, pos, header)
        _check_magic(header)
        batches.append((pos, header))
        pos = next_pos
    return batches


def _batch_end(buf, pos: int, header: BatchHeader) -> int:
    """Where the batch at `pos` ends; it must be wholly inside `buf` (Kafka checks the length first)."""
    if header.batch_length < MIN_BATCH_LENGTH:
        raise CorruptRecordError(f"record batch length {header.batch_length} is below {MIN_BATCH_LENGTH}")
    end = pos + header.size
    if end > len(buf):
        raise CorruptRecordError(f"record batch of {header.size} bytes truncated to {len(buf) - pos}")
    return end


def _check_magic(header: BatchHeader) -> None:
    if header.magic != MAGIC:
        raise invalid_record(f"record batch magic {header.magic}: only magic 2 is supported")


def validate_batch(buf, pos: int, header: BatchHeader) -> None:
    """Kafka's batch-level checks for a produced batch; records are not walked (see validate_records).

    Whole batch, magic, CRC-32C, compression codec, record_count >= 1 and last_offset_delta == record_count - 1,
    timestamps (no negative other than -1; max_timestamp >= base_timestamp for CreateTime),
    a base_sequence for an idempotent producer.
    """
    end = _batch_end(buf, pos, header)
    _check_magic(header)
    computed = crc32c(memoryview(buf)[pos + ATTRIBUTES_OFFSET : end])
    if computed != header.crc:
        raise CorruptRecordError(f"record batch is corrupt (stored crc {header.crc}, computed crc {computed})")
    if header.compression > CODEC_ZSTD:
        raise CorruptRecordError(f"unknown compression codec {header.compression}")
    if header.record_count < 1:
        raise invalid_record(f"invalid reported count {header.record_count} for record batch")
    if header.last_offset_delta != header.record_count - 1:
        raise invalid_record(
            f"inconsistent batch offset range (last offset delta {header.last_offset_delta})"
            f" and record count {header.record_count}"
        )
    base_ts, max_ts = header.base_timestamp, header.max_timestamp
    if base_ts < NO_TIMESTAMP or max_ts < NO_TIMESTAMP or (max_ts < base_ts and not header.log_append_time):
        raise CorruptRecordError(
            f"invalid batch timestamps (base {base_ts}, max {max_ts})", ErrorCode.INVALID_TIMESTAMP
        )
    if header.producer_id >= 0 and header.base_sequence < 0:
        raise invalid_record(f"invalid sequence {header.base_sequence} for producer id {header.producer_id}")


def validate_records(buf, pos: int, header: BatchHeader, max_uncompressed: int = MAX_UNCOMPRESSED_BATCH_BYTES,
                     timestamp_bounds: tuple[int, int, int] | None = None, block=None) -> RecordsSummary:
    """Kafka's record-level checks (see wire/record_validation.py), decompressing first, at most
    `max_uncompressed` bytes; raises CorruptRecordError (RecordValidationError names the record at fault).

    timestamp_bounds: (now_ms, message.timestamp.before.max.ms, message.timestamp.after.max.ms) of a
    CreateTime topic, checked against every record's timestamp (not for a producer's LogAppendTime batch).
    block: the records already decompressed (gateway/records_offload.py), or the CorruptRecordError that
    decompressing them raised. One pass in C: ~10 us for 1 MB of 1 KiB records uncompressed, where
    validate_batch (the CRC) takes ~35 us.
    """
    if isinstance(block, CorruptRecordError):
        raise block
    if block is None:
        block = memoryview(buf)[pos + HEADER_SIZE : _batch_end(buf, pos, header)]
        if header.compression != CODEC_NONE:
            block = decompress_bounded(header.compression, block, max_uncompressed)
    summary = check_records(block, header.record_count, header.base_timestamp)
    if timestamp_bounds is not None and not header.log_append_time:
        check_timestamp_bounds(summary, block, header.base_timestamp, *timestamp_bounds)
    return summary


def accept_python(records, max_message_bytes: int, low: int, high: int, compacted: bool):
    """A Produce partition entry's records, if they are exactly one uncompressed batch that passes every check
    PartitionLog._validate makes: (header, summary); one compressed batch passing every check but those of its
    records: (header, None) (they are walked once decompressed); else None (any fault, or more than one
    batch: the caller then takes the full path, which names the fault). `low`/`high`: the record timestamps
    a CreateTime batch may carry (now - message.timestamp.before.max.ms, now + ...after.max.ms, clamped to
    int64; INT64_MIN/INT64_MAX: no bound). The twin of wire/_record_walk.c accept, answer for answer."""
    if not records:
        return None
    try:
        batches = split_batches(records)
        if len(batches) != 1:
            return None
        pos, header = batches[0]
        if header.base_offset != 0 or header.size > max_message_bytes:
            return None
        validate_batch(records, pos, header)
        if header.is_control:
            return None
        if header.compression != CODEC_NONE:
            return header, None
        summary = validate_records(records, pos, header)
    except CorruptRecordError:
        return None
    low_seen = summary.min_timestamp
    if not header.log_append_time and low_seen != NO_TIMESTAMP and (low_seen < low or summary.max_timestamp > high):
        return None
    if compacted and summary.null_keys:
        return None
    return header, summary


def keyless_record_errors(buf, pos: int, header: BatchHeader, partition: str) -> list[tuple[int, str]]:
    """Kafka's record errors for a compacted topic's batch whose summary has null_keys (the error path only)."""
    block = _records_block(buf, pos, header)
    message = f"Compacted topic cannot accept message without key in topic partition {partition}"
    return [(index, message) for index in keyless_record_indexes(block, header.record_count)]


def assign_offsets(buf: bytearray, pos: int, base_offset: int) -> None:
    """Rewrite baseOffset in place; it is outside the CRC, which stays valid."""
    _INT64.pack_into(buf, pos, base_offset)


def set_partition_leader_epoch(buf: bytearray, pos: int, epoch: int) -> None:
    """Rewrite partitionLeaderEpoch in place; it is outside the CRC, which stays valid."""
    _INT32.pack_into(buf, pos + PARTITION_LEADER_EPOCH_OFFSET, epoch)


def stamp_log_append_time(buf: bytearray, pos: int, header: BatchHeader, now_ms: int) -> None:
    """Kafka's LogAppendTime: set the timestamp-type bit and maxTimestamp, then recompute the CRC.

    baseTimestamp and the records are untouched; readers report maxTimestamp for every record.
    """
    if header.log_append_time and header.max_timestamp == now_ms:
        return
    _ATTRIBUTES.pack_into(buf, pos + ATTRIBUTES_OFFSET, header.attributes | TIMESTAMP_TYPE_MASK)
    _set_max_timestamp(buf, pos, header, now_ms)


def set_max_timestamp(buf: bytearray, pos: int, header: BatchHeader, max_timestamp: int) -> None:
    """Kafka's setMaxTimestamp for a CreateTime batch: the records' largest timestamp, whatever the producer
    wrote (retention and ListOffsets go by it); the CRC is recomputed only when the value changes."""
    if header.max_timestamp != max_timestamp:
        _set_max_timestamp(buf, pos, header, max_timestamp)


def _set_max_timestamp(buf: bytearray, pos: int, header: BatchHeader, max_timestamp: int) -> None:
    _INT64.pack_into(buf, pos + MAX_TIMESTAMP_OFFSET, max_timestamp)
    end = pos + header.size
    _UINT32.pack_into(buf, pos + CRC_OFFSET, crc32c(memoryview(buf)[pos + ATTRIBUTES_OFFSET : end]))


def stored_batch(buf, pos: int, header: BatchHeader, base_offset: int, leader_epoch: int, max_timestamp: int,
                 log_append_time: bool = False) -> bytes:
    """The batch at `pos` as the log stores it, built in one copy (`buf` is not changed): baseOffset and
    partitionLeaderEpoch set, maxTimestamp set (a LogAppendTime stamp also sets the timestamp-type bit),
    the CRC recomputed only when a field it covers changed. The same bytes as assign_offsets +
    set_partition_leader_epoch + stamp_log_append_time / set_max_timestamp on a copy of `buf`, one
    copy and one CRC pass fewer."""
    end = pos + header.size
    attributes = header.attributes | TIMESTAMP_TYPE_MASK if log_append_time else header.attributes
    head = bytearray(HEADER_SIZE)
    HEADER.pack_into(
        head, 0, base_offset, header.batch_length, leader_epoch, header.magic, header.crc, attributes,
        header.last_offset_delta, header.base_timestamp, max_timestamp, header.producer_id,
        header.producer_epoch, header.base_sequence, header.record_count,
    )
    body = memoryview(buf)[pos + HEADER_SIZE : end]
    if attributes != header.attributes or max_timestamp != header.max_timestamp:
        crc = crc32c(body, crc32c(memoryview(head)[ATTRIBUTES_OFFSET:]))
        _UINT32.pack_into(head, CRC_OFFSET, crc)
    return b"".join((head, body))


def stored_python(buf, pos: int, size: int, base_offset: int, leader_epoch: int, max_timestamp: int,
                  log_append_time: bool = False) -> bytes:
    """stored_batch for the batch of `size` bytes at `pos` (its header read again): the twin of
    wire/_record_walk.c stored, which builds the same bytes in one C call."""
    return stored_batch(buf, pos, read_header(buf, pos), base_offset, leader_epoch, max_timestamp, log_append_time)


def iter_batches(blob) -> Iterator[tuple[BatchHeader, memoryview]]:
    """(header, whole batch) for each batch of a stored or fetched blob; a partial last batch is skipped."""
    view = memoryview(blob)
    pos, end = 0, len(view)
    while end - pos >= HEADER_SIZE:
        header = read_header(view, pos)
        if header.batch_length < MIN_BATCH_LENGTH:
            raise CorruptRecordError(f"record batch length {header.batch_length} is below {MIN_BATCH_LENGTH}")
        if pos + header.size > end:
            return
        yield header, view[pos : pos + header.size]
        pos += header.size


def iter_records(batch) -> Iterator[Record]:
    """The records of one whole batch, decompressed, with absolute offsets and timestamps.

    A LogAppendTime batch reports its max_timestamp for every record, as Kafka's readers do.
    Bytes after the batch are ignored.
    """
    header = read_header(batch)
    _check_magic(header)
    body = _records_block(batch, 0, header)
    append_time = header.max_timestamp if header.log_append_time else None
    return decode_records(body, header.record_count, header.base_offset, header.base_timestamp, append_time)


def _records_block(buf, pos: int, header: BatchHeader):
    """The records of a batch as one uncompressed block (a view when the batch is not compressed)."""
    block = memoryview(buf)[pos + HEADER_SIZE : _batch_end(buf, pos, header)]
    if header.compression == CODEC_NONE:
        return block
    return decompress(header.compression, block)


def build_batch(
    records: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes | None]], int]],
    *,
    base_offset: int = 0,
    compression: int = CODEC_NONE,
    producer_id: int = -1,
    producer_epoch: int = -1,
    base_sequence: int = -1,
    transactional: bool = False,
    partition_leader_epoch: int = -1,
    log_append_time: bool = False,
    control: bool = False,
) -> bytes:
    """A batch of (key, value, headers, timestamp_ms) records with offset deltas 0..n-1 (tests, tooling)."""
    if not records:
        raise ValueError("a record batch holds at least one record")
    timestamps = [record[3] for record in records]
    base_timestamp = timestamps[0]
    body = bytearray()
    for offset_delta, (key, value, headers, timestamp) in enumerate(records):
        encode_record(offset_delta, timestamp - base_timestamp, key, value, headers, body)
    if compression != CODEC_NONE:
        body = compress(compression, body)
    attributes = (
        compression
        | (TIMESTAMP_TYPE_MASK if log_append_time else 0)
        | (TRANSACTIONAL_MASK if transactional else 0)
        | (CONTROL_MASK if control else 0)
    )
    batch = bytearray(HEADER_SIZE)
    batch += body
    HEADER.pack_into(
        batch, 0, base_offset, len(batch) - LOG_OVERHEAD, partition_leader_epoch, MAGIC, 0, attributes,
        len(records) - 1, base_timestamp, max(timestamps), producer_id, producer_epoch, base_sequence,
        len(records),
    )
    _UINT32.pack_into(batch, CRC_OFFSET, crc32c(memoryview(batch)[ATTRIBUTES_OFFSET:]))
    return bytes(batch)


def control_batch(
    producer_id: int,
    producer_epoch: int,
    *,
    commit: bool,
    coordinator_epoch: int,
    timestamp_ms: int,
    base_offset: int = 0,
) -> bytes:
    """A transaction marker: one control record, key (0, COMMIT or ABORT), value (0, coordinator_epoch)."""
    key = _CONTROL_KEY.pack(0, CONTROL_COMMIT if commit else CONTROL_ABORT)
    value = _CONTROL_VALUE.pack(0, coordinator_epoch)
    return build_batch(
        [(key, value, [], timestamp_ms)], base_offset=base_offset, producer_id=producer_id,
        producer_epoch=producer_epoch, transactional=True, control=True,
    )


accept_batch = accept_python  # wire/_record_walk.c's accept when it is built (the same answers, one C call)
stored_copy = stored_python  # and its stored (the same bytes)
if record_validation.ACCELERATED:
    from wire._record_walk import accept as accept_batch, configure as _configure, stored as stored_copy

    _configure(BatchHeader, RecordsSummary, crc32c)

"""Record-level validation of produced batches: one pass over the records, no per-record objects.

Kafka's LogValidator walks every record of every produced batch (DefaultRecord.readFrom and the record
iterator of DefaultRecordBatch) and refuses the batch with INVALID_RECORD when the framing is wrong.
`check_records` does the same on a batch's records block (decompressed first by wire.records), in one
pass, and reports what later checks need so that nobody walks the records twice:

    RecordsSummary.count          records walked (== the header's record_count)
    RecordsSummary.null_keys      records whose key is null: a compacted topic refuses the batch when this is
                                  not 0 (Kafka: "Compacted topic cannot accept message without key"); the
                                  refusal names each keyless record, found by `keyless_record_indexes`, which
                                  walks again but only on that error path
    RecordsSummary.max_timestamp  the largest record timestamp (base_timestamp + delta), -1 if none is larger:
                                  Kafka sets the batch's maxTimestamp to it (a producer's header may lie)
    RecordsSummary.min_timestamp  the smallest record timestamp other than -1 (-1 if none): with the max, it
                                  decides message.timestamp.before/after.max.ms without a second pass
                                  (`check_timestamp_bounds`; the refusal names each record out of range)
    RecordsSummary.size           bytes of the records block (uncompressed)

Rules (Kafka's, plus one of Ottla's): per record, a length varint (at most 5 bytes) that fits the block,
attributes, a timestamp delta varlong, an offset delta varint equal to the record's index (Ottla stores a
batch as it came, so it cannot renumber records the way Kafka's compressed path does), key and value lengths
that fit the record (negative: null), a header count that is not negative and fits, per header a key length
that is not negative and fits and a value length that fits, and fields that take exactly the declared length;
then exactly record_count records and no bytes after them. A failure raises RecordValidationError (INVALID_RECORD)
naming the record (its index, for the Produce response's record_errors, KIP-467).

The loop runs in C (wire/_record_walk.c, built by setup.py when a compiler is present: ~250x faster than the
Python twin below, which is the fallback and the reference the tests hold the C version to). ACCELERATED
says which one runs.
"""

from __future__ import annotations

from typing import NamedTuple

from wire.errors import ErrorCode
from wire.record_codec import CorruptRecordError, read_varint

__all__ = [
    "ACCELERATED", "MAX_UNCOMPRESSED_BATCH_BYTES", "RecordValidationError", "RecordsSummary",
    "check_records", "check_timestamp_bounds", "keyless_record_indexes", "walk_python",
]

# The most a compressed batch may decompress to: what one uncompressed request may already make the broker
# hold (Kafka's socket.request.max.bytes default). Kafka streams records and has no such limit; a batch past it
# is refused with MESSAGE_TOO_LARGE instead of being decompressed (a decompression bomb).
MAX_UNCOMPRESSED_BATCH_BYTES = 100 * 1024 * 1024

OK, EOF_BEFORE_COUNT, VARINT_TOO_LONG, RECORD_OVERRUNS, STRUCTURE, OFFSET_DELTA = 0, 1, 2, 3, 4, 5
NEGATIVE_HEADER_COUNT, HEADER_COUNT_TOO_LARGE, NEGATIVE_HEADER_KEY, SIZE_MISMATCH, TRAILING = 6, 7, 8, 9, 10

_MESSAGES = {  # Kafka's own texts where Kafka has the check (DefaultRecord, DefaultRecordBatch)
    EOF_BEFORE_COUNT: "Incorrect declared batch size, premature EOF reached",
    VARINT_TOO_LONG: "Found invalid record structure",
    RECORD_OVERRUNS: "Invalid record size: expected {a} bytes in record payload, but instead the buffer has only "
                     "{b} remaining bytes.",
    STRUCTURE: "Found invalid record structure",
    OFFSET_DELTA: "Record {index} has offset delta {a}: the records of a batch must have offset deltas 0 to "
                  "recordCount - 1 in order",
    NEGATIVE_HEADER_COUNT: "Found invalid number of record headers {a}",
    HEADER_COUNT_TOO_LARGE: "Found invalid number of record headers. {a} is larger than the remaining size of "
                            "the buffer",
    NEGATIVE_HEADER_KEY: "Invalid negative header key size {a}",
    SIZE_MISMATCH: "Invalid record size: expected to read {a} bytes in record payload, but instead read {b}",
    TRAILING: "Incorrect declared batch size, records still remaining in file",
}


class RecordsSummary(NamedTuple):
    count: int
    null_keys: int
    max_timestamp: int
    min_timestamp: int
    size: int


class RecordValidationError(CorruptRecordError):
    """A record Kafka's LogValidator refuses; `record_index` is its position in the batch (None: the batch)."""

    def __init__(self, message: str, record_index: int | None = None,
                 code: ErrorCode = ErrorCode.INVALID_RECORD, record_errors: list[tuple[int, str]] | None = None) -> None:
        super().__init__(message, code)
        self.record_index = record_index
        self._record_errors = record_errors

    @property
    def record_errors(self) -> list[tuple[int, str]]:
        """KIP-467 (batch_index, batch_index_error_message) pairs for a Produce response."""
        if self._record_errors is not None:
            return self._record_errors
        return [] if self.record_index is None else [(self.record_index, str(self))]


def check_records(block, count: int, base_timestamp: int) -> RecordsSummary:
    """Walk the `count` records filling `block` (uncompressed); raise RecordValidationError at the first fault."""
    kind, index, a, b, c = _walk(block, count, base_timestamp)
    if kind != OK:
        raise RecordValidationError(_MESSAGES[kind].format(index=index, a=a, b=b), index)
    return RecordsSummary(count, a, b, c, len(block))


def _long(value: int) -> int:
    """Java's long arithmetic: wrap to 64 bits, signed."""
    return (value + 2**63) % 2**64 - 2**63


def check_timestamp_bounds(summary: RecordsSummary, block, base_timestamp: int, now_ms: int, before_max_ms: int,
                           after_max_ms: int) -> None:
    """Kafka's LogValidator.validateTimestamp for a CreateTime topic: every record timestamp other than -1
    within [now - message.timestamp.before.max.ms, now + message.timestamp.after.max.ms], else
    INVALID_TIMESTAMP naming each record out of range. The summary's min and max decide; the records are
    walked again only to name the culprits."""
    low, high = summary.min_timestamp, summary.max_timestamp
    if low == -1 or (now_ms - low <= before_max_ms and high - now_ms <= after_max_ms):
        return
    window = f"[{_long(now_ms - before_max_ms)}, {_long(now_ms + after_max_ms)}]"
    errors = []
    for index, timestamp in _record_timestamps(block, summary.count, base_timestamp):
        diff = _long(now_ms - timestamp)
        if timestamp != -1 and (diff > before_max_ms or _long(-diff) > after_max_ms):
            errors.append((index, f"Timestamp {timestamp} of message with offset {index} is out of range. "
                                  f"The timestamp should be within {window}"))
    if errors:
        raise RecordValidationError("One or more records have been rejected due to invalid timestamp",
                                    errors[0][0], ErrorCode.INVALID_TIMESTAMP, errors)


def _record_timestamps(block, count: int, base_timestamp: int):
    """(index, timestamp) of each record of a block check_records passed (error paths only)."""
    pos, size = 0, len(block)
    for index in range(count):
        length, pos = read_varint(block, pos, size)
        end = pos + length
        delta = read_varint(block, pos + 1, end, 10)[0]
        yield index, _long(base_timestamp + delta)
        pos = end


def keyless_record_indexes(block, count: int) -> list[int]:
    """Indexes of the records with a null key, in a block that check_records passed (the error path only)."""
    indexes = []
    pos, size = 0, len(block)
    for index in range(count):
        length, pos = read_varint(block, pos, size)
        end = pos + length
        pos = read_varint(block, pos + 1, end, 10)[1]  # attributes, timestamp delta
        pos = read_varint(block, pos, end)[1]  # offset delta
        if read_varint(block, pos, end)[0] < 0:
            indexes.append(index)
        pos = end
    return indexes


class _Fault(Exception):
    """Raised inside walk_python to leave the loop with (kind, a, b)."""


def walk_python(block, count: int, base_timestamp: int) -> tuple[int, int, int, int, int]:
    """The walk of wire/_record_walk.c in Python, answer for answer: (kind, index, a, b, c)."""
    end = len(block)
    pos = 0
    null_keys = 0
    max_timestamp = -1
    min_timestamp = None
    index = 0

    def varint(limit: int, max_bytes: int) -> int:
        # one zig-zag varint at `pos` bounded by `limit`; a truncated or over-long one is a STRUCTURE fault
        nonlocal pos
        raw = shift = 0
        stop = min(limit, pos + max_bytes)
        while pos < stop:
            byte = block[pos]
            pos += 1
            raw |= (byte & 0x7F) << shift
            if byte < 0x80:
                raw &= 0xFFFFFFFF if max_bytes == 5 else 0xFFFFFFFFFFFFFFFF
                return (raw >> 1) ^ -(raw & 1)
            shift += 7
        raise _Fault(STRUCTURE, 0, 0)

    try:
        while index < count:
            if pos >= end:
                raise _Fault(EOF_BEFORE_COUNT, 0, 0)
            start = pos
            try:
                length = varint(end, 5)
            except _Fault:
                raise _Fault(VARINT_TOO_LONG if pos - start == 5 else EOF_BEFORE_COUNT, 0, 0) from None
            if length < 0:
                raise _Fault(STRUCTURE, 0, 0)
            if length > end - pos:
                raise _Fault(RECORD_OVERRUNS, length, end - pos)
            record, record_end = pos, pos + length
            if pos >= record_end:
                raise _Fault(STRUCTURE, 0, 0)
            pos += 1  # attributes
            timestamp = (base_timestamp + varint(record_end, 10) + 2**63) % 2**64 - 2**63  # wraps as Java's long
            if timestamp > max_timestamp:
                max_timestamp = timestamp
            if timestamp != -1 and (min_timestamp is None or timestamp < min_timestamp):
                min_timestamp = timestamp
            offset_delta = varint(record_end, 5)
            if offset_delta != index:
                raise _Fault(OFFSET_DELTA, offset_delta, 0)
            size = varint(record_end, 5)  # key
            if size < 0:
                null_keys += 1
            elif size > record_end - pos:
                raise _Fault(STRUCTURE, 0, 0)
            else:
                pos += size
            size = varint(record_end, 5)  # value
            if size >= 0:
                if size > record_end - pos:
                    raise _Fault(STRUCTURE, 0, 0)
                pos += size
            headers = varint(record_end, 5)
            if headers < 0:
                raise _Fault(NEGATIVE_HEADER_COUNT, headers, 0)
            if headers > record_end - pos:
                raise _Fault(HEADER_COUNT_TOO_LARGE, headers, 0)
            for _ in range(headers):
                size = varint(record_end, 5)
                if size < 0:
                    raise _Fault(NEGATIVE_HEADER_KEY, size, 0)
                if size > record_end - pos:
                    raise _Fault(STRUCTURE, 0, 0)
                pos += size
                size = varint(record_end, 5)
                if size >= 0:
                    if size > record_end - pos:
                        raise _Fault(STRUCTURE, 0, 0)
                    pos += size
            if pos != record_end:
                raise _Fault(SIZE_MISMATCH, length, pos - record)
            index += 1
        if pos != end:
            raise _Fault(TRAILING, end - pos, 0)
    except _Fault as fault:
        kind, a, b = fault.args
        return kind, index, a, b, 0
    return OK, count, null_keys, max_timestamp, -1 if min_timestamp is None else min_timestamp


WALK_ABI = 5  # the shape of walk()'s answer (3: accept() added, 4: stored(), 5: accept() of compressed); wire/_record_walk.c says which it was built for

try:
    from wire._record_walk import WALK_ABI as _BUILT_ABI, walk as _walk

    ACCELERATED = _BUILT_ABI == WALK_ABI
except ImportError:  # no C compiler when the package was installed (or a build older than WALK_ABI)
    ACCELERATED = False
if not ACCELERATED:  # the same checks, in Python: `pip install -e .` rebuilds the C walker
    _walk = walk_python

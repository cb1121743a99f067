"""Records inside a magic-2 batch: zig-zag varints, record parse/build and the five compression codecs."""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterator
from typing import NamedTuple

from wire.errors import ErrorCode


class _LazyCramjam:
    """cramjam (gzip, snappy, lz4, zstd), imported on the first compressed batch: its 2.8 MiB shared library
    stays out of a broker that never sees one. The first attribute read replaces this with the module."""

    def __getattr__(self, name: str):
        global cramjam
        import cramjam as module

        cramjam = module
        return getattr(module, name)


cramjam = _LazyCramjam()

CODEC_NONE, CODEC_GZIP, CODEC_SNAPPY, CODEC_LZ4, CODEC_ZSTD = 0, 1, 2, 3, 4
XERIAL_MAGIC = b"\x82SNAPPY\x00"
XERIAL_HEADER_SIZE = 16  # magic (8) + version int32 + compatible-version int32
SNAPPY_MAX_EXPANSION = 32
ZSTD_LEVEL = 3  # Kafka's default compression.zstd.level
_INT32 = struct.Struct(">i")
_MASK_32 = (1 << 32) - 1
_MASK_64 = (1 << 64) - 1


class CorruptRecordError(ValueError):
    """Record bytes Kafka would refuse; `code` is the error a Produce answer carries.

    CORRUPT_MESSAGE (Kafka's CorruptRecordException: bad CRC, impossible sizes, undecodable data) unless
    Kafka raises InvalidRecordException (INVALID_RECORD: inconsistent counts, malformed records) or
    rejects a timestamp (INVALID_TIMESTAMP).
    """

    def __init__(self, message: str, code: ErrorCode = ErrorCode.CORRUPT_MESSAGE) -> None:
        super().__init__(message)
        self.code = code

    @property
    def record_errors(self) -> list[tuple[int, str]]:
        """KIP-467 (batch_index, message) pairs; none for a batch-level fault."""
        return []


def invalid_record(message: str) -> CorruptRecordError:
    """The error for bytes Kafka rejects with InvalidRecordException."""
    return CorruptRecordError(message, ErrorCode.INVALID_RECORD)


class Record(NamedTuple):
    """One record of a batch, with its absolute offset and timestamp."""

    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]]
    attributes: int


# ---- zig-zag varints (Kafka's ByteUtils.readVarint / readVarlong) ----


def read_varint(buf, pos: int, end: int, max_bytes: int = 5) -> tuple[int, int]:
    """A zig-zag varint (5 bytes at most; 10 for a varlong) at `pos`; returns (value, next position)."""
    raw = shift = 0
    limit = min(end, pos + max_bytes)
    while pos < limit:
        byte = buf[pos]
        pos += 1
        raw |= (byte & 0x7F) << shift
        if byte < 0x80:
            raw &= _MASK_32 if max_bytes == 5 else _MASK_64
            return (raw >> 1) ^ -(raw & 1), pos
        shift += 7
    if pos >= end:
        raise invalid_record("record truncated inside a varint")
    raise invalid_record(f"varint longer than {max_bytes} bytes")


def write_varint(value: int, out: bytearray) -> None:
    """Append `value` as a zig-zag varint (also varlong: the encoding is the same)."""
    raw = ((value << 1) ^ (value >> 63)) & _MASK_64
    while raw >= 0x80:
        out.append((raw & 0x7F) | 0x80)
        raw >>= 7
    out.append(raw)


# ---- records ----


def decode_records(
    body, count: int, base_offset: int, base_timestamp: int, append_time: int | None
) -> Iterator[Record]:
    """Parse `count` records filling `body` exactly; every record gets `append_time` when given."""
    pos, end = 0, len(body)
    for _ in range(count):
        length, pos = read_varint(body, pos, end)
        record_end = pos + length
        if length < 0 or record_end > end:
            raise invalid_record(f"record length {length} overruns the batch")
        if pos >= record_end:
            raise invalid_record("record too short for its attributes")
        attributes = body[pos]
        timestamp_delta, pos = read_varint(body, pos + 1, record_end, 10)
        offset_delta, pos = read_varint(body, pos, record_end)
        key, pos = _read_bytes(body, pos, record_end)
        value, pos = _read_bytes(body, pos, record_end)
        header_count, pos = read_varint(body, pos, record_end)
        if header_count < 0:
            raise invalid_record(f"invalid number of record headers {header_count}")
        headers = []
        for _ in range(header_count):
            header_key_len, pos = read_varint(body, pos, record_end)
            if header_key_len < 0 or pos + header_key_len > record_end:
                raise invalid_record(f"invalid header key size {header_key_len}")
            header_key = bytes(body[pos : pos + header_key_len]).decode(errors="replace")  # as Java does
            header_value, pos = _read_bytes(body, pos + header_key_len, record_end)
            headers.append((header_key, header_value))
        if pos != record_end:
            raise invalid_record(f"record declared {length} bytes, its fields end {record_end - pos} early")
        pos = record_end
        timestamp = base_timestamp + timestamp_delta if append_time is None else append_time
        yield Record(base_offset + offset_delta, timestamp, key, value, headers, attributes)
    if pos != end:
        raise invalid_record(f"{end - pos} bytes left after the batch's {count} records")


def _read_bytes(body, pos: int, end: int) -> tuple[bytes | None, int]:
    """Varint-length-prefixed nullable bytes (a negative length is null, as in Kafka)."""
    size, pos = read_varint(body, pos, end)
    if size < 0:
        return None, pos
    if pos + size > end:
        raise invalid_record(f"field of {size} bytes overruns its record")
    return bytes(body[pos : pos + size]), pos + size


def encode_record(
    offset_delta: int,
    timestamp_delta: int,
    key: bytes | None,
    value: bytes | None,
    headers: list[tuple[str, bytes | None]],
    out: bytearray,
) -> None:
    """Append one length-prefixed record (attributes 0) to `out`."""
    record = bytearray(b"\x00")
    write_varint(timestamp_delta, record)
    write_varint(offset_delta, record)
    _write_bytes(key, record)
    _write_bytes(value, record)
    write_varint(len(headers), record)
    for header_key, header_value in headers:
        _write_bytes(header_key.encode(), record)
        _write_bytes(header_value, record)
    write_varint(len(record), out)
    out += record


def _write_bytes(data: bytes | None, out: bytearray) -> None:
    if data is None:
        out.append(1)  # zig-zag -1
    else:
        write_varint(len(data), out)
        out += data


# ---- compression (attributes bits 0-2) ----


def decompress(codec: int, data) -> bytes:
    """The records block of a compressed batch; CorruptRecordError on undecodable data or unknown codec."""
    try:
        if codec == CODEC_GZIP:
            return bytes(cramjam.gzip.decompress(data))
        if codec == CODEC_SNAPPY:
            if bytes(data[:8]) == XERIAL_MAGIC:
                return _xerial_decompress(memoryview(data))
            return bytes(_snappy_raw(data))
        if codec == CODEC_LZ4:
            return bytes(cramjam.lz4.decompress(data))
        if codec == CODEC_ZSTD:
            return bytes(cramjam.zstd.decompress(data))
        if codec == CODEC_NONE:
            return bytes(data)
    except cramjam.DecompressionError as exc:
        raise CorruptRecordError(f"undecodable compression codec {codec} data: {exc}") from exc
    raise CorruptRecordError(f"unknown compression codec {codec}")


def _xerial_decompress(data: memoryview) -> bytes:
    """Snappy in xerial framing (Java and Python clients): a 16-byte header, then (int32 size, block)*."""
    return b"".join(bytes(_snappy_raw(block)) for block in _xerial_blocks(data))


def _snappy_raw(block):
    """Raw snappy, refusing a declared size no block can expand to (a copy makes at most 64 bytes from 3)."""
    _snappy_declared_size(block)
    return cramjam.snappy.decompress_raw(block)


def decompress_bounded(codec: int, data, limit: int):
    """The records block of a compressed batch, never more than `limit` bytes (a decompression bomb stops there).

    Returns a buffer. Raises CorruptRecordError: CORRUPT_MESSAGE for undecodable data or an unknown codec,
    MESSAGE_TOO_LARGE when the block would exceed `limit`. cramjam's decompress_into fails rather than grow
    its output, so each attempt stops once the output is full. Small blocks (every librdkafka batch) go to a
    bytearray from 4x the input, growing fourfold up to HEAP_OUTPUT_BYTES (heap memory the allocator reuses:
    no page faults); a bigger one gets one anonymous mmap of the limit, whose pages the kernel hands out
    zeroed only as they are written, so reserving 100 MiB costs nothing and nothing is zero-filled with the
    GIL held. Snappy declares its size, checked before anything is decompressed.
    """
    if codec == CODEC_SNAPPY:
        view = memoryview(data)
        blocks = _xerial_blocks(view) if bytes(view[:8]) == XERIAL_MAGIC else [view]
        sizes = [_snappy_declared_size(block) for block in blocks]
        total = sum(sizes)
        if total > limit:
            raise _too_large(total, limit)
        out = memoryview(bytearray(total) if total <= HEAP_OUTPUT_BYTES else mmap.mmap(-1, total))[:total]
        pos = 0
        try:
            for block, size in zip(blocks, sizes):
                written = cramjam.snappy.decompress_raw_into(block, out[pos : pos + size])
                if written != size:
                    raise CorruptRecordError("snappy block shorter than its declared size")
                pos += size
        except cramjam.DecompressionError as exc:
            raise CorruptRecordError(f"undecodable compression codec {codec} data: {exc}") from exc
        return out
    module = getattr(cramjam, _STREAM_CODECS[codec]) if codec in _STREAM_CODECS else None
    if module is None:
        raise CorruptRecordError(f"unknown compression codec {codec}")
    size = min(limit, HEAP_OUTPUT_BYTES, max(64 * 1024, 4 * len(data)))
    while True:
        out = bytearray(size) if size <= HEAP_OUTPUT_BYTES else mmap.mmap(-1, size)
        try:
            written = module.decompress_into(data, out)
        except cramjam.DecompressionError as exc:
            if not _output_full(exc):
                raise CorruptRecordError(f"undecodable compression codec {codec} data: {exc}") from exc
            if size >= limit:
                raise _too_large(None, limit) from None
            size = min(size * 4, HEAP_OUTPUT_BYTES, limit) if size < HEAP_OUTPUT_BYTES else limit
            del out  # before the next buffer: one at a time
            continue
        return memoryview(out)[:written]


HEAP_OUTPUT_BYTES = 4 * 1024 * 1024  # above this, decompressed records go to an mmap (see decompress_bounded)
_STREAM_CODECS = {CODEC_GZIP: "gzip", CODEC_LZ4: "lz4", CODEC_ZSTD: "zstd"}  # cramjam's module for each


def _output_full(exc: Exception) -> bool:
    """cramjam's decompress_into stops with this when the output buffer is too small (std::io WriteZero)."""
    return "failed to write whole buffer" in str(exc)


def _too_large(size: int | None, limit: int) -> CorruptRecordError:
    what = f"{size} bytes" if size is not None else f"more than {limit} bytes"
    return CorruptRecordError(f"the record batch decompresses to {what}, above the broker's limit of {limit} "
                              "bytes for one batch", ErrorCode.MESSAGE_TOO_LARGE)


def _xerial_blocks(data: memoryview) -> list[memoryview]:
    """The raw snappy blocks of xerial framing, every (int32 size, block) checked to fit before any is read."""
    pos, end, blocks = XERIAL_HEADER_SIZE, len(data), []
    while pos < end:
        if end - pos < 4:
            raise CorruptRecordError("xerial snappy block size truncated")
        (size,) = _INT32.unpack_from(data, pos)
        pos += 4
        if size < 0 or pos + size > end:
            raise CorruptRecordError(f"xerial snappy block of {size} bytes overruns the batch")
        blocks.append(data[pos : pos + size])
        pos += size
    return blocks


def _snappy_declared_size(block) -> int:
    try:
        size = cramjam.snappy.decompress_raw_len(block)
    except cramjam.DecompressionError as exc:
        raise CorruptRecordError(f"undecodable compression codec {CODEC_SNAPPY} data: {exc}") from exc
    if size > SNAPPY_MAX_EXPANSION * len(block):
        raise CorruptRecordError("snappy block declares an impossible uncompressed size")
    return size


def compress(codec: int, data) -> bytes:
    """Compress a records block the way Kafka's producers do (raw snappy, LZ4 frame of independent blocks)."""
    if codec == CODEC_GZIP:
        return bytes(cramjam.gzip.compress(data))
    if codec == CODEC_SNAPPY:
        return bytes(cramjam.snappy.compress_raw(data))
    if codec == CODEC_LZ4:
        compressor = cramjam.lz4.Compressor(block_linked=False)  # Kafka's reader needs independent blocks
        compressor.compress(data if isinstance(data, bytes) else bytes(data))  # it takes bytes only
        return bytes(compressor.finish())
    if codec == CODEC_ZSTD:
        return bytes(cramjam.zstd.compress(data, level=ZSTD_LEVEL))
    if codec == CODEC_NONE:
        return bytes(data)
    raise CorruptRecordError(f"unknown compression codec {codec}")

"""Decompress a produced batch's records off the event loop when they are big.

Every compressed batch is decompressed to be validated (wire/record_validation.py). Up to
INLINE_UNCOMPRESSED_BYTES that happens on the loop (a few ms: librdkafka's batches are at most
~1 MB uncompressed); a bigger block, up to the 100 MiB a batch may decompress to, is decompressed on
the codec worker thread (gateway/offload.py), which cramjam runs without the GIL, so a small batch
that decompresses to 100 MiB cannot stall every other client. The partition log then walks the
block it is handed instead of decompressing again, and a big block is unmapped on the worker too
(returning 80 MiB of pages to the kernel takes tens of ms).
"""

from __future__ import annotations

from gateway.offload import _off_loop, release
from wire.errors import ErrorCode
from wire.record_codec import CODEC_NONE, decompress_bounded
from wire.record_validation import MAX_UNCOMPRESSED_BATCH_BYTES
from wire.records import HEADER_SIZE, BatchHeader, CorruptRecordError

INLINE_UNCOMPRESSED_BYTES = 2 * 1024 * 1024


NEEDS_WORKER = object()  # inline_block's answer for a block too big to decompress on the loop


def inline_block(records, pos: int, header: BatchHeader, max_message_bytes: int):
    """prepared_block without waiting: its answer, or NEEDS_WORKER when only the worker may decompress
    it (the caller then awaits prepared_block; the Produce handler stores what it staged first)."""
    if header.compression == CODEC_NONE or header.size > max_message_bytes:
        return None
    view = memoryview(records)[pos + HEADER_SIZE : pos + header.size]
    try:
        return decompress_bounded(header.compression, view, INLINE_UNCOMPRESSED_BYTES)
    except CorruptRecordError as exc:
        return exc if exc.code != ErrorCode.MESSAGE_TOO_LARGE else NEEDS_WORKER


async def prepared_block(records, pos: int, header: BatchHeader, max_message_bytes: int):
    """For PartitionLog.append(blocks=...): the batch's decompressed records, or the CorruptRecordError
    decompressing raised, or None when the log should do it itself (uncompressed, or too large a batch to
    be read at all). The log checks the header and CRC before it looks at the block, so Kafka's order of
    errors holds; a batch with a bad CRC costs at most a wasted decompression, on the worker if big."""
    block = inline_block(records, pos, header, max_message_bytes)
    return block if block is not NEEDS_WORKER else await worker_block(records, pos, header)


async def worker_block(records, pos: int, header: BatchHeader):
    """The block inline_block could not decompress on the loop, decompressed on the codec worker."""
    view = memoryview(records)[pos + HEADER_SIZE : pos + header.size]
    box: list = []  # the block comes back here, not as the executor future's result: that future outlives
    try:  # the await, and its last reference would unmap the block on the loop (release_block's work)
        await _off_loop(_decompress_into, box, header.compression, view, MAX_UNCOMPRESSED_BATCH_BYTES)
    except CorruptRecordError as exc:
        return exc
    return box.pop()


def _decompress_into(box: list, codec: int, view, limit: int) -> None:
    box.append(decompress_bounded(codec, view, limit))


async def release_block(held: list) -> None:
    """Drop the block in `held` (its only reference): a big one on the worker, a small one here."""
    block = held[0] if held else None
    if block is None or isinstance(block, CorruptRecordError) or len(block) <= INLINE_UNCOMPRESSED_BYTES:
        held.clear()
        return
    del block
    await release(held)

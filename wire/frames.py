"""Size-prefixed framing (int32 size + payload), checked against a maximum before anything is buffered."""

from __future__ import annotations

import struct

DEFAULT_MAX_REQUEST_SIZE = 100 * 1024 * 1024  # Kafka's socket.request.max.bytes

_SIZE = struct.Struct(">i")
BIG_FRAME = 64 * 1024  # a frame this large that is not all here yet is gathered as chunks, joined once


class FrameError(Exception):
    """A frame size that is negative or above the maximum: the connection cannot continue."""


class FrameDecoder:
    """Buffers received bytes and yields whole frame payloads; no I/O, no clock.

    Either `feed(data)` (buffer, then every whole frame), or `receive(data)` and then, one frame at a
    time, `peek_size()` (the size the next frame declares, before its payload is there: the caller can
    reserve memory for it or refuse it) and `next_frame()`. The buffer grows with the bytes that
    arrive; nothing is allocated for a declared size.

    A frame of BIG_FRAME bytes or more that is not whole in the buffer is gathered as the chunks that
    arrive (bytes chunks are kept as they came, others are copied once) and joined once when it is
    whole, not grown in one bytearray: growing a bytearray to a MiB reallocates and copies it again
    and again, and once glibc's adaptive mmap threshold has risen (it does after the first big block
    is freed) each move leaves the old block resident on the heap, so a few half-sent big requests
    held far more RSS than their bytes (the pool's accounting) said. librdkafka's ~1 MB Produce
    requests (batch.size 1,000,000: just under a MiB) were grown that way until the threshold was
    64 KiB: 28% of the broker's samples at closed-loop produce went to that growth (py-spy, issue 14).
    """

    __slots__ = ("max_size", "_buffer", "_pos", "_chunks", "_chunked", "_big")

    def __init__(self, max_size: int = DEFAULT_MAX_REQUEST_SIZE) -> None:
        self.max_size = max_size
        self._buffer = bytearray()
        self._pos = 0  # start of the first unconsumed byte
        self._chunks: list[bytes] | None = None  # the big frame at the front's payload so far
        self._chunked = 0
        self._big = 0  # its declared size

    def receive(self, data: bytes) -> None:
        if self._chunks is not None:
            self._gather(data)
            return
        buffer = self._buffer
        if self._pos:
            del buffer[: self._pos]
            self._pos = 0
        if not buffer and len(data) >= 4:  # a frame starts this chunk: a big one is gathered from it
            (size,) = _SIZE.unpack_from(data, 0)
            if BIG_FRAME <= size <= self.max_size and len(data) < size + 4:
                self._chunks, self._chunked, self._big = [], 0, size
                self._gather(memoryview(data)[4:])
                return
        buffer += data
        if len(buffer) >= 4:
            (size,) = _SIZE.unpack_from(buffer, 0)
            if BIG_FRAME <= size <= self.max_size and len(buffer) < size + 4:
                self._chunks, self._chunked, self._big = [], 0, size
                rest, self._buffer = bytes(memoryview(buffer)[4:]), bytearray()
                self._gather(rest)

    def _gather(self, data) -> None:
        missing = self._big - self._chunked
        if len(data) > missing:  # the next frame starts in this chunk
            self._buffer += memoryview(data)[missing:]
            data = memoryview(data)[:missing]
        if not isinstance(data, bytes) and not (isinstance(data, memoryview) and isinstance(data.obj, bytes)):
            data = bytes(data)  # a view of a buffer the caller reuses (TlsConnection): copied, once
        self._chunks.append(data)
        self._chunked += len(data)

    def peek_size(self) -> int | None:
        """The next frame's declared payload size, or None until its 4-byte header is here."""
        if self._chunks is not None:
            return self._big
        if len(self._buffer) - self._pos < 4:
            return None
        (size,) = _SIZE.unpack_from(self._buffer, self._pos)
        if size < 0 or size > self.max_size:
            raise FrameError(f"frame size {size} outside 0..{self.max_size}")
        return size

    def next_frame(self) -> bytes | None:
        """The next whole frame's payload (removed from the buffer), or None until it is all here."""
        if self._chunks is not None:
            if self._chunked < self._big:
                return None
            chunks, self._chunks, self._chunked = self._chunks, None, 0
            return b"".join(chunks)  # the one copy
        size = self.peek_size()
        if size is None:
            return None
        buffer = self._buffer
        start = self._pos + 4
        end = start + size
        if end > len(buffer):
            return None
        with memoryview(buffer) as view:
            payload = bytes(view[start:end])  # one copy, no intermediate bytearray
        if end == len(buffer):
            buffer.clear()
            self._pos = 0
        else:
            self._pos = end
        return payload

    def clear(self) -> None:
        """Drop what is buffered, freeing its memory (a new bytearray: clear() may keep the allocation)."""
        self._buffer = bytearray()
        self._pos = 0
        self._chunks, self._chunked = None, 0

    def feed(self, data: bytes) -> list[bytes]:
        self.receive(data)
        frames = []
        while (payload := self.next_frame()) is not None:
            frames.append(payload)
        return frames

    @property
    def buffered(self) -> int:
        big = 4 + self._chunked if self._chunks is not None else 0
        return big + len(self._buffer) - self._pos


def frame(payload: bytes) -> bytes:
    return _SIZE.pack(len(payload)) + payload


def frame_prefix(size: int) -> bytes:
    """The size field alone, for writing a frame as several buffers without joining them."""
    return _SIZE.pack(size)

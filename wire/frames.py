"""Size-prefixed framing (int32 size + payload), checked against a maximum before anything is buffered."""

from __future__ import annotations

import struct

DEFAULT_MAX_REQUEST_SIZE = 100 * 1024 * 1024  # Kafka's socket.request.max.bytes

_SIZE = struct.Struct(">i")


class FrameError(Exception):
    """A frame size that is negative or above the maximum: the connection cannot continue."""


class FrameDecoder:
    """Buffers received bytes and yields whole frame payloads; no I/O, no clock.

    Either `feed(data)` (buffer, then every whole frame), or `receive(data)` and then, one frame at a
    time, `peek_size()` (the size the next frame declares, before its payload is there: the caller can
    reserve memory for it or refuse it) and `next_frame()`. The buffer grows with the bytes that
    arrive; nothing is allocated for a declared size.
    """

    __slots__ = ("max_size", "_buffer", "_pos")

    def __init__(self, max_size: int = DEFAULT_MAX_REQUEST_SIZE) -> None:
        self.max_size = max_size
        self._buffer = bytearray()
        self._pos = 0  # start of the first unconsumed byte

    def receive(self, data: bytes) -> None:
        buffer = self._buffer
        if self._pos:
            del buffer[: self._pos]
            self._pos = 0
        buffer += data

    def peek_size(self) -> int | None:
        """The next frame's declared payload size, or None until its 4-byte header is here."""
        if len(self._buffer) - self._pos < 4:
            return None
        (size,) = _SIZE.unpack_from(self._buffer, self._pos)
        if size < 0 or size > self.max_size:
            raise FrameError(f"frame size {size} outside 0..{self.max_size}")
        return size

    def next_frame(self) -> bytes | None:
        """The next whole frame's payload (removed from the buffer), or None until it is all here."""
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

    def feed(self, data: bytes) -> list[bytes]:
        self.receive(data)
        frames = []
        while (payload := self.next_frame()) is not None:
            frames.append(payload)
        return frames

    @property
    def buffered(self) -> int:
        return len(self._buffer) - self._pos


def frame(payload: bytes) -> bytes:
    return _SIZE.pack(len(payload)) + payload


def frame_prefix(size: int) -> bytes:
    """The size field alone, for writing a frame as several buffers without joining them."""
    return _SIZE.pack(size)

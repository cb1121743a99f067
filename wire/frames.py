"""Size-prefixed framing (int32 size + payload), checked against a maximum before anything is buffered."""

from __future__ import annotations

import struct

DEFAULT_MAX_REQUEST_SIZE = 100 * 1024 * 1024  # Kafka's socket.request.max.bytes

_SIZE = struct.Struct(">i")


class FrameError(Exception):
    """A frame size that is negative or above the maximum: the connection cannot continue."""


class FrameDecoder:
    """Buffers received bytes and yields whole frame payloads; no I/O, no clock."""

    __slots__ = ("max_size", "_buffer")

    def __init__(self, max_size: int = DEFAULT_MAX_REQUEST_SIZE) -> None:
        self.max_size = max_size
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        buffer = self._buffer
        buffer += data
        frames = []
        pos = 0
        end = len(buffer)
        while end - pos >= 4:
            (size,) = _SIZE.unpack_from(buffer, pos)
            if size < 0 or size > self.max_size:
                raise FrameError(f"frame size {size} outside 0..{self.max_size}")
            if end - pos - 4 < size:
                break
            frames.append(bytes(buffer[pos + 4 : pos + 4 + size]))
            pos += 4 + size
        if pos:
            del buffer[:pos]
        return frames

    @property
    def buffered(self) -> int:
        return len(self._buffer)


def frame(payload: bytes) -> bytes:
    return _SIZE.pack(len(payload)) + payload


def frame_prefix(size: int) -> bytes:
    """The size field alone, for writing a frame as several buffers without joining them."""
    return _SIZE.pack(size)

"""Size-prefixed framing (int32 size + payload): the maximum request size, the error a bad size is, and
a frame's bytes. Connections split what they read into frames with gateway.frame_buffer.FrameBuffer,
which checks each size field against the maximum before anything of its payload is buffered."""

from __future__ import annotations

import struct

DEFAULT_MAX_REQUEST_SIZE = 100 * 1024 * 1024  # Kafka's socket.request.max.bytes

_SIZE = struct.Struct(">i")


class FrameError(Exception):
    """A frame size that is negative or above the maximum: the connection cannot continue."""


def frame(payload: bytes) -> bytes:
    return _SIZE.pack(len(payload)) + payload

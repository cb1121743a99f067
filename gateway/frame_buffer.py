"""A connection's size-prefixed frames (int32 size + payload) read with the event loop's buffered
protocol: the socket is read straight into memory we own, and each frame's payload is copied once.

Before (asyncio.Protocol + a decoder fed bytes; its FrameDecoder is retired), a read made three copies of
every byte: the event loop's read buffer into a new bytes object (uvloop's data_received), that into
the decoder's bytearray, and the frame out of it. Now (get_buffer / buffer_updated):

- Between frames the socket is read into one scratch buffer per thread (SCRATCH bytes, as uvloop's
  own read buffer), shared by every connection: a read and its buffer_updated run back to back on
  the loop, and buffer_updated takes everything out of it. Whole frames are copied out as bytes (the
  one copy; the codec's zero-copy record views need immutable bytes).
- A frame that is not whole at the end of a read gets its own buffer, and the socket is read
  straight into it until the frame is whole; then its chunks are joined (the one copy). Its buffer
  grows with what arrives, never with what the size field declares: a chunk is at most as large as
  what the frame has received so far (FIRST_CHUNK at first), so a frame holds at most twice its
  received bytes plus FIRST_CHUNK, and a size field of 100 MB followed by nothing allocates 64 KiB.

The interface: get_buffer / buffer_updated (the loop's reads), receive(data) (bytes read elsewhere: TLS,
a held replay, tests), peek_size, next_frame, has_frame, buffered, clear, max_size. A
size outside 0..max_size raises FrameError from peek_size/next_frame once the frames before it are
taken; nothing after it is kept. No I/O, no clock.
"""

from __future__ import annotations

import collections
import mmap
import struct
import threading

from wire.frames import DEFAULT_MAX_REQUEST_SIZE, FrameError

SCRATCH = 256 * 1024  # the shared read buffer (uvloop reads 256 KiB at a time into its own)
FIRST_CHUNK = 64 * 1024  # a partial frame's first buffer; each next one at most what it has so far
_SIZE = struct.Struct(">i")
_local = threading.local()


def _scratch() -> memoryview:
    view = getattr(_local, "view", None)
    if view is None:
        # anonymous pages, mapped as reads first touch them (bytearray(SCRATCH) writes all 256 KiB: 0.25 MiB of RSS)
        view = _local.view = memoryview(mmap.mmap(-1, SCRATCH))
    return view


class FrameBuffer:
    __slots__ = ("max_size", "_ready", "_ready_bytes", "_head", "_size", "_chunks", "_chunk", "_fill", "_got",
                 "_error", "_into", "_scratch")

    def __init__(self, max_size: int = DEFAULT_MAX_REQUEST_SIZE) -> None:
        self.max_size = max_size
        self._ready: collections.deque[bytes] = collections.deque()  # whole payloads, in order
        self._ready_bytes = 0  # their bytes, size fields included
        self._head = b""  # the first 1-3 bytes of the next size field
        self._size = -1  # the partial frame's declared payload size (-1: none)
        self._chunks: list[bytearray] = []  # its payload so far: full chunks, then the one filling
        self._chunk: bytearray | None = None  # the one filling
        self._fill = 0  # bytes in _chunk
        self._got = 0  # the partial frame's payload bytes received
        self._error: FrameError | None = None  # a bad size field after the ready frames
        self._into: memoryview | None = None  # what get_buffer handed out (None: the scratch)
        self._scratch = _scratch()  # this thread's (the loop's), looked up once

    # the event loop's buffered protocol ---------------------------------------------------------

    def get_buffer(self) -> memoryview:
        """Where the next read goes: the partial frame's own buffer, else the shared scratch."""
        chunk = self._chunk
        if chunk is not None and self._error is None:
            self._into = view = memoryview(chunk)[self._fill:]
            return view
        self._into = None
        return self._scratch

    def buffer_updated(self, nbytes: int) -> None:
        """`nbytes` were read into what get_buffer returned last."""
        into, self._into = self._into, None
        if into is None:
            self._parse(self._scratch, nbytes)
        elif into.obj is self._chunk:  # (else the frame was dropped meanwhile: clear())
            self._filled(nbytes)

    def receive(self, data) -> None:
        """Bytes read elsewhere (TLS, a paused node's replay, tests): the same as a read into the scratch."""
        with memoryview(data) as view:
            if view.itemsize != 1 or view.ndim != 1:
                view = view.cast("B")
            while self._chunk is not None and len(view):  # the partial frame's rest first, chunk by chunk
                take = min(len(view), len(self._chunk) - self._fill)
                self._chunk[self._fill:self._fill + take] = view[:take]
                self._filled(take)
                view = view[take:]
            if len(view):
                self._parse(view, len(view))

    # frames out ----------------------------------------------------------------------------------

    def peek_size(self) -> int | None:
        """The next frame's declared payload size, or None until its size field is here."""
        if self._ready:
            return len(self._ready[0])
        if self._error is not None:
            raise self._error
        return self._size if self._size >= 0 else None

    def next_frame(self) -> bytes | None:
        """The next whole frame's payload, or None until it is all here."""
        if self._ready:
            payload = self._ready.popleft()
            self._ready_bytes -= 4 + len(payload)
            return payload
        if self._error is not None:
            raise self._error
        return None

    def has_frame(self) -> bool:
        """Whether a whole frame is here to take, or a bad size field (next_frame raises once the frames
        before it are taken)."""
        return bool(self._ready) or self._error is not None

    @property
    def buffered(self) -> int:
        """Bytes received and not yet taken (size fields included)."""
        partial = 4 + self._got if self._size >= 0 else 0
        return self._ready_bytes + partial + len(self._head)

    @property
    def allocated(self) -> int:
        """Bytes of the partial frame's buffers (for the bound above; tests)."""
        return sum(map(len, self._chunks))

    def clear(self) -> None:
        """Drop what is buffered, freeing its memory."""
        self._ready.clear()
        self._ready_bytes = 0
        self._head = b""
        self._size = -1
        self._chunks, self._chunk, self._fill, self._got = [], None, 0, 0
        self._into = None

    # inside ----------------------------------------------------------------------------------------

    def _parse(self, view: memoryview, end: int) -> None:
        if self._error is not None:
            return  # nothing after a bad size field is kept
        pos = 0
        if self._head:  # the rest of a size field split across reads
            need = 4 - len(self._head)
            if end < need:
                self._head += bytes(view[:end])
                return
            (size,) = _SIZE.unpack(self._head + bytes(view[:need]))
            self._head = b""
            pos = self._frame(size, view, need, end)
        while 0 <= pos <= end - 4:
            (size,) = _SIZE.unpack_from(view, pos)
            pos = self._frame(size, view, pos + 4, end)
        if 0 <= pos < end:
            self._head = bytes(view[pos:end])

    def _frame(self, size: int, view: memoryview, start: int, end: int) -> int:
        """The frame of `size` whose payload starts at view[start]: where the next one starts, or -1 when
        this one goes on past `end` (it gets its own buffer) or its size is bad."""
        if size < 0 or size > self.max_size:
            self._error = FrameError(f"frame size {size} outside 0..{self.max_size}")
            return -1
        stop = start + size
        if stop <= end:
            self._ready.append(bytes(view[start:stop]))  # the one copy
            self._ready_bytes += 4 + size
            return stop
        self._size, self._got = size, 0
        self._new_chunk()
        got = end - start
        self._chunk[:got] = view[start:end]
        self._filled(got)
        return -1

    def _new_chunk(self) -> None:
        left = self._size - self._got
        self._chunk = bytearray(min(left, max(FIRST_CHUNK, self._got)))
        self._chunks.append(self._chunk)
        self._fill = 0

    def _filled(self, nbytes: int) -> None:
        self._fill += nbytes
        self._got += nbytes
        if self._got >= self._size:
            chunks = self._chunks
            payload = bytes(chunks[0]) if len(chunks) == 1 else b"".join(chunks)  # the one copy
            self._ready.append(payload)
            self._ready_bytes += 4 + self._size
            self._size = -1
            self._chunks, self._chunk, self._fill, self._got = [], None, 0, 0
        elif self._fill == len(self._chunk):
            self._new_chunk()

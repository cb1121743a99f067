"""gateway.frame_buffer: frames read straight into memory the buffer owns (the event loop's buffered
protocol), split every way, against the frames cut out of the stream received so far (an oracle
written here); a size field never allocates its size;
a bad size stops everything after it; and the pipeline and the connection read through it."""

from __future__ import annotations

import asyncio
import random
import struct

import pytest

from gateway import frame_buffer
from gateway.frame_buffer import FIRST_CHUNK, FrameBuffer
from tests.gateway.test_pipeline import api_versions, make, metadata, produce, run, settle
from wire.frames import FrameError, frame


def frames_of(sizes, seed=1) -> list[bytes]:
    rnd = random.Random(seed)
    return [bytes(rnd.getrandbits(8) for _ in range(min(size, 64))) * (size // 64) + bytes(size % 64)
            if size >= 64 else bytes(rnd.getrandbits(8) for _ in range(size)) for size in sizes]


def read(buffer: FrameBuffer, data: bytes, limit: int | None = None) -> None:
    """What the event loop does: read what is there, at most what the buffer offered, into it."""
    view = memoryview(data)
    while len(view):
        into = buffer.get_buffer()
        n = min(len(into), len(view), limit or len(view))
        into[:n] = view[:n]
        buffer.buffer_updated(n)
        view = view[n:]


class WholeFrames:
    """The oracle: the stream received so far, and the payloads of the frames wholly inside it (size field
    + payload) that were not taken yet, in order."""

    def __init__(self) -> None:
        self.stream, self.pos = bytearray(), 0

    def received(self, chunk) -> list[bytes]:
        self.stream += chunk
        out = []
        while len(self.stream) - self.pos >= 4:
            (size,) = struct.unpack_from(">i", self.stream, self.pos)
            assert size >= 0
            if len(self.stream) - self.pos - 4 < size:
                break
            out.append(bytes(self.stream[self.pos + 4:self.pos + 4 + size]))
            self.pos += 4 + size
        return out


def drain(buffer) -> list[bytes]:
    out = []
    while (payload := buffer.next_frame()) is not None:
        out.append(payload)
    return out


SIZES = [0, 1, 3, 4, 5, 100, 16 * 1024, 64 * 1024 - 1, 64 * 1024, 300 * 1024, 1_000_000, 7]


@pytest.mark.parametrize("step", [None, 1, 3, 4, 5, 1000, 4096, 65536, 65537, 262144])
def test_every_split_gives_every_whole_frame_at_once(step):
    payloads = frames_of(SIZES)
    stream = b"".join(map(frame, payloads))
    chunks = [stream] if step is None else [stream[i:i + step] for i in range(0, len(stream), step)]
    for how in ("read", "receive"):
        buffer, oracle, got, expected = FrameBuffer(), WholeFrames(), [], []
        for chunk in chunks:
            if how == "read":
                read(buffer, chunk)
            else:
                buffer.receive(chunk)
            got += drain(buffer)
            expected += oracle.received(chunk)
            assert len(got) == len(expected), how  # each frame out as soon as it is whole, not later
        assert got == expected == payloads, how
        assert all(type(p) is bytes for p in got)  # the codec's zero-copy record views need bytes
        assert buffer.buffered == 0 and buffer.allocated == 0


def test_random_splits_and_reads_limited_by_the_socket():
    rnd = random.Random(7)
    payloads = frames_of([rnd.choice([0, 10, 200, 5000, 70_000, 250_000]) for _ in range(60)], seed=3)
    stream = b"".join(map(frame, payloads))
    buffer, got, pos = FrameBuffer(), [], 0
    while pos < len(stream):
        n = rnd.randint(1, 90_000)
        how = rnd.random()
        if how < 0.5:
            read(buffer, stream[pos:pos + n], limit=rnd.randint(1, 70_000))
        else:
            buffer.receive(stream[pos:pos + n])
        pos += n
        got += drain(buffer)
    assert got == payloads


def test_a_frame_split_across_reads_is_read_into_its_own_buffer_then_copied_once():
    payload = frames_of([40_000])[0]
    data = frame(payload)
    buffer = FrameBuffer()
    scratch = buffer.get_buffer()
    scratch[:1000] = data[:1000]
    buffer.buffer_updated(1000)  # the size field and 996 bytes: the frame gets its own buffer
    assert buffer.peek_size() == 40_000 and buffer.next_frame() is None and not buffer.has_frame()
    assert buffer.buffered == 1000 and buffer.allocated == 40_000  # (under FIRST_CHUNK: its size at once)
    into = buffer.get_buffer()
    assert into.obj is not scratch.obj and len(into) == 40_000 - 996  # the rest of this frame, no more
    into[:10_000] = data[1000:11_000]
    buffer.buffer_updated(10_000)
    into = buffer.get_buffer()
    assert len(into) == 40_000 - 10_996
    into[:] = data[11_000:]
    buffer.buffer_updated(len(into))
    assert buffer.get_buffer().obj is scratch.obj  # between frames: the shared scratch again
    assert buffer.has_frame()
    assert buffer.next_frame() == payload and buffer.buffered == 0 and buffer.allocated == 0


def test_a_size_split_across_reads():
    payloads = frames_of([10, 70_000, 3])
    stream = b"".join(map(frame, payloads))
    buffer = FrameBuffer()
    for cut in (1, 2, 3):
        buffer.receive(stream[:cut])
        assert buffer.peek_size() is None and buffer.buffered == cut
        read(buffer, stream[cut:])
        assert drain(buffer) == payloads
        assert buffer.buffered == 0


def test_a_huge_size_field_allocates_only_what_arrives():
    buffer = FrameBuffer(max_size=200 * 1024 * 1024)
    declared = 100 * 1024 * 1024
    read(buffer, struct.pack(">i", declared) + b"x" * 10)
    assert buffer.peek_size() == declared  # known before the payload is here (the pipeline reserves it)
    assert buffer.allocated <= FIRST_CHUNK and buffer.buffered == 14
    sent = 10
    while sent < 3 * 1024 * 1024:
        chunk = 123_457
        read(buffer, b"y" * chunk, limit=50_000)
        sent += chunk
        assert buffer.allocated <= 2 * sent + FIRST_CHUNK  # grows with what arrived, never with the size field
        assert buffer.buffered == 4 + sent
    assert buffer.next_frame() is None
    buffer.clear()
    assert buffer.buffered == 0 and buffer.allocated == 0


def test_a_big_frame_still_comes_out_whole_and_exact():
    payload = frames_of([5 * 1024 * 1024 + 17])[0]
    buffer = FrameBuffer()
    read(buffer, frame(payload) + frame(b"after"), limit=256 * 1024)
    assert drain(buffer) == [payload, b"after"]


@pytest.mark.parametrize("bad", [-1, 1001])
def test_a_bad_size_comes_after_the_frames_before_it_and_nothing_after_it_is_kept(bad):
    buffer = FrameBuffer(max_size=1000)
    good = frames_of([5, 900])
    read(buffer, frame(good[0]) + frame(good[1]) + struct.pack(">i", bad) + b"z" * 500)
    assert buffer.next_frame() == good[0] and buffer.next_frame() == good[1]
    assert buffer.has_frame()  # the bad size stops reading like a whole frame does
    with pytest.raises(FrameError):
        buffer.peek_size()
    with pytest.raises(FrameError):
        buffer.next_frame()
    held = buffer.buffered
    read(buffer, b"more" * 1000)
    buffer.receive(frame(b"late"))
    assert buffer.buffered == held  # nothing after the bad size is kept
    with pytest.raises(FrameError):
        buffer.peek_size()


def test_the_scratch_is_shared_and_left_empty_between_reads():
    one, two = FrameBuffer(), FrameBuffer()
    assert one.get_buffer().obj is two.get_buffer().obj
    assert len(one.get_buffer()) == frame_buffer.SCRATCH
    into = one.get_buffer()
    data = frame(b"a" * 10) + frame(b"b" * 20)[:7]
    into[:len(data)] = data
    one.buffer_updated(len(data))
    into = two.get_buffer()  # another connection's read overwrites the scratch: one kept what it needs
    into[:8] = b"\xff" * 8
    two.buffer_updated(0)
    one.receive(frame(b"b" * 20)[7:])
    assert drain(one) == [b"a" * 10, b"b" * 20]


def test_the_pipeline_reads_through_get_buffer():
    async def main():
        _, transport, pipeline = make()
        stream = api_versions(1) + produce("t", b"v" * 50_000, 2) + metadata(3)
        pos = 0
        while pos < len(stream):  # reads of at most 10 KB, as a socket might give them
            into = pipeline.get_buffer()
            n = min(len(into), 10_000, len(stream) - pos)
            into[:n] = stream[pos:pos + n]
            pipeline.buffer_updated(n)
            pos += n
            await settle(2)
        await settle()
        assert [c for c, _ in transport.frames()] == [1, 2, 3]
        assert pipeline.pool.used == 0 and pipeline.idle and pipeline.decoder.buffered == 0
    run(main())


def test_the_pipeline_closes_on_a_bad_size_after_answering_the_frames_before_it():
    async def main():
        _, transport, pipeline = make()
        stream = metadata(1) + struct.pack(">i", -5) + metadata(2)
        into = pipeline.get_buffer()
        into[:len(stream)] = stream
        pipeline.buffer_updated(len(stream))
        await settle()
        assert [c for c, _ in transport.frames()] == [1] and transport.closed
        assert pipeline.pool.used == 0
    run(main())


def test_a_real_socket_through_the_connection_under_the_running_loop():
    """KafkaConnection is a BufferedProtocol: the loop reads into the pipeline's buffer."""
    from gateway.broker import Broker
    from gateway.config import Config
    from gateway.connection import KafkaConnection
    from partitions.memory import MemoryStorage

    async def main():
        broker = Broker(Config(memory=True), MemoryStorage())
        connections = []

        def protocol():
            connections.append(KafkaConnection(broker))
            return connections[-1]

        server = await asyncio.get_running_loop().create_server(protocol, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        stream = b"".join(produce("t", bytes([i]) * 100_000, i) for i in range(1, 4)) + metadata(9)
        for i in range(0, len(stream), 30_000):  # a big frame across many reads, then whole ones
            writer.write(stream[i:i + 30_000])
            await writer.drain()
        got = []
        while len(got) < 4:
            (size,) = struct.unpack(">i", await reader.readexactly(4))
            got.append(struct.unpack_from(">i", await reader.readexactly(size))[0])
        assert got == [1, 2, 3, 9]
        assert isinstance(connections[0], asyncio.BufferedProtocol)
        assert connections[0].pipeline.decoder.buffered == 0
        writer.close()
        server.close()
        await server.wait_closed()
    run(main())

"""Framing (wire.frames' size field, read by the connections' gateway.frame_buffer.FrameBuffer): whole
frames out of arbitrary chunks; bad sizes refused before buffering."""

import struct

import pytest

from gateway.frame_buffer import FIRST_CHUNK as BIG_FRAME  # a frame this large not all here gets its own buffer
from gateway.frame_buffer import FrameBuffer
from wire.frames import FrameError, frame


def feed(buffer: FrameBuffer, data: bytes) -> list[bytes]:
    """Buffer `data`, then take every whole frame."""
    buffer.receive(data)
    frames = []
    while (payload := buffer.next_frame()) is not None:
        frames.append(payload)
    return frames


def test_frames_split_across_any_chunking():
    stream = frame(b"abc") + frame(b"") + frame(b"x" * 1000)
    for step in (1, 3, 7, len(stream)):
        decoder = FrameBuffer()
        got = []
        for i in range(0, len(stream), step):
            got += feed(decoder, stream[i : i + step])
        assert got == [b"abc", b"", b"x" * 1000]
        assert decoder.buffered == 0


def test_negative_size_is_refused():
    with pytest.raises(FrameError):
        feed(FrameBuffer(), struct.pack(">i", -5))


def test_size_above_maximum_is_refused_before_the_payload_arrives():
    decoder = FrameBuffer(max_size=1024)
    with pytest.raises(FrameError):
        feed(decoder, struct.pack(">i", 1025))
    assert feed(FrameBuffer(max_size=1024), frame(b"y" * 1024)) == [b"y" * 1024]


def test_big_frames_between_small_ones_split_across_any_chunking():
    # a frame of BIG_FRAME or more that is not all here is read into its own chunks: the same frames, the
    # same byte counts
    big, bigger = bytes(range(256)) * (BIG_FRAME // 256), b"q" * (BIG_FRAME * 3 + 7)
    stream = frame(b"a") + frame(big) + frame(bigger) + frame(b"z" * 10) + frame(big)
    for step in (1000, 65536, 262144 + 3, BIG_FRAME + 1, len(stream)):
        decoder = FrameBuffer(max_size=4 * BIG_FRAME)
        got, fed = [], 0
        for i in range(0, len(stream), step):
            decoder.receive(stream[i : i + step])
            fed += len(stream[i : i + step])
            while True:
                before = decoder.buffered
                payload = decoder.next_frame()
                if payload is None:
                    break
                got.append(payload)
                assert decoder.buffered == before - len(payload) - 4
            assert sum(len(p) + 4 for p in got) + decoder.buffered == fed  # nothing lost, nothing counted twice
        assert got == [b"a", big, bigger, b"z" * 10, big]
        assert decoder.buffered == 0


def test_a_half_received_big_frame_is_held_as_received_and_cleared():
    decoder = FrameBuffer()
    data = frame(b"h" * (BIG_FRAME * 2))
    decoder.receive(data[:5000])
    decoder.receive(data[5000:BIG_FRAME])
    assert decoder.peek_size() == BIG_FRAME * 2 and decoder.next_frame() is None
    assert decoder.buffered == BIG_FRAME
    decoder.clear()
    assert decoder.buffered == 0 and decoder.peek_size() is None

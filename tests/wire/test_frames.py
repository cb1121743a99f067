"""Framing: whole frames out of arbitrary chunks; bad sizes refused before buffering."""

import struct

import pytest

from wire.frames import BIG_FRAME, FrameDecoder, FrameError, frame


def test_frames_split_across_any_chunking():
    stream = frame(b"abc") + frame(b"") + frame(b"x" * 1000)
    for step in (1, 3, 7, len(stream)):
        decoder = FrameDecoder()
        got = []
        for i in range(0, len(stream), step):
            got += decoder.feed(stream[i : i + step])
        assert got == [b"abc", b"", b"x" * 1000]
        assert decoder.buffered == 0


def test_negative_size_is_refused():
    with pytest.raises(FrameError):
        FrameDecoder().feed(struct.pack(">i", -5))


def test_size_above_maximum_is_refused_before_the_payload_arrives():
    decoder = FrameDecoder(max_size=1024)
    with pytest.raises(FrameError):
        decoder.feed(struct.pack(">i", 1025))
    assert FrameDecoder(max_size=1024).feed(frame(b"y" * 1024)) == [b"y" * 1024]


def test_big_frames_between_small_ones_split_across_any_chunking():
    # a frame of BIG_FRAME or more is gathered as chunks: the same frames, the same byte counts
    big, bigger = bytes(range(256)) * (BIG_FRAME // 256), b"q" * (BIG_FRAME * 3 + 7)
    stream = frame(b"a") + frame(big) + frame(bigger) + frame(b"z" * 10) + frame(big)
    for step in (1000, 65536, 262144 + 3, BIG_FRAME + 1, len(stream)):
        decoder = FrameDecoder(max_size=4 * BIG_FRAME)
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
    decoder = FrameDecoder()
    data = frame(b"h" * (BIG_FRAME * 2))
    decoder.receive(data[:5000])
    decoder.receive(data[5000:BIG_FRAME])
    assert decoder.peek_size() == BIG_FRAME * 2 and decoder.next_frame() is None
    assert decoder.buffered == BIG_FRAME
    decoder.clear()
    assert decoder.buffered == 0 and decoder.peek_size() is None

"""Framing: whole frames out of arbitrary chunks; bad sizes refused before buffering."""

import struct

import pytest

from wire.frames import FrameDecoder, FrameError, frame


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

"""The produce path's copy-saving fast paths answer exactly what the slow paths they replace answer.

- wire.records.stored_batch (one copy) against a bytearray copy rewritten in place (assign_offsets,
  set_partition_leader_epoch, stamp_log_append_time / set_max_timestamp), on good and on corrupt batches;
- wire.codec.decode(views=True) (records as views of the request) against decode() (copies);
- gateway.frame_buffer.FrameBuffer's gathered frames against the frames cut out of the whole stream, also
  when every chunk is a view of one reused buffer (TlsConnection hands the buffer such views).
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from wire.codec import VIEW_FROM, ProtocolError, decode, encode
from gateway.frame_buffer import FIRST_CHUNK as BIG_FRAME  # a frame this large not all here gets its own buffer
from gateway.frame_buffer import FrameBuffer
from wire.frames import FrameError, frame
from wire.messages import APIS
from wire.records import (
    HEADER_SIZE,
    assign_offsets,
    build_batch,
    read_header,
    set_max_timestamp,
    set_partition_leader_epoch,
    split_batches,
    stamp_log_append_time,
    stored_batch,
    validate_batch,
)

T0 = 1_700_000_000_000
record = st.tuples(
    st.one_of(st.none(), st.binary(max_size=20)),
    st.one_of(st.none(), st.binary(max_size=100)),
    st.lists(st.tuples(st.text(max_size=5), st.one_of(st.none(), st.binary(max_size=5))), max_size=2),
    st.integers(T0 - 10_000, T0 + 10_000),
)


def slow_stored(buf, pos, header, base_offset, epoch, max_timestamp, stamped):
    """What PartitionLog.stage_append did before stored_batch: a bytearray copy rewritten in place."""
    copy = bytearray(buf)
    assign_offsets(copy, pos, base_offset)
    set_partition_leader_epoch(copy, pos, epoch)
    if stamped:
        stamp_log_append_time(copy, pos, header, max_timestamp)
    else:
        set_max_timestamp(copy, pos, header, max_timestamp)
    return bytes(copy[pos : pos + header.size])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(record, min_size=1, max_size=4), min_size=1, max_size=3),
    st.sampled_from([0, 1, 3, 4]),
    st.booleans(),  # the producer already set LogAppendTime
    st.booleans(),  # the topic stamps LogAppendTime
    st.integers(-1, T0 + 20_000),
    st.integers(0, 2**40),
    st.integers(-1, 2**31 - 1),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=3),
)
def test_stored_batch_is_the_in_place_rewrite(batches, codec, producer_lat, stamped, timestamp, offset, epoch,
                                              flips):
    blob = bytearray().join(build_batch(records, compression=codec, log_append_time=producer_lat)
                            for records in batches)
    split = split_batches(blob)
    for index, value in flips:  # corrupt records too (bad CRC, bad varints): both paths copy what they get
        pos, header = split[index % len(split)]
        blob[pos + HEADER_SIZE + index % (header.size - HEADER_SIZE)] = value
    blob = bytes(blob)
    for pos, header in split:
        for max_timestamp in (timestamp, header.max_timestamp):
            fast = stored_batch(memoryview(blob), pos, header, offset, epoch, max_timestamp, stamped)
            assert type(fast) is bytes
            assert fast == slow_stored(blob, pos, header, offset, epoch, max_timestamp, stamped)
    assert blob == bytes(blob)  # the source is never written


def test_stored_batch_keeps_a_valid_crc_and_sets_the_fields():
    batch = build_batch([(None, b"v" * 50, [], T0 + i) for i in range(4)])
    header = read_header(batch)
    for stamped, max_ts in ((False, T0 + 3), (False, T0 + 77), (True, T0 + 99), (True, T0 + 3)):
        out = stored_batch(batch, 0, header, 1 << 35, 7, max_ts, stamped)
        got = read_header(out)
        assert (got.base_offset, got.partition_leader_epoch, got.max_timestamp) == (1 << 35, 7, max_ts)
        assert got.log_append_time == stamped
        validate_batch(out, 0, got)  # the CRC matches the new contents


PRODUCE = APIS[0].request


def produce_body(version: int, records) -> bytes:
    return encode(PRODUCE, version, {
        "transactional_id": None, "acks": -1, "timeout_ms": 100,
        "topic_data": [{"name": "t", "topic_id": b"\x01" * 16, "partition_data": [
            {"index": 0, "records": records}, {"index": 1, "records": None if version < 13 else b""},
            {"index": 2, "records": b"tail"}]}]})


@pytest.mark.parametrize("version", range(3, 14))
def test_decode_with_views_reads_the_same_records(version):
    batch = build_batch([(b"k", b"v" * VIEW_FROM, [], T0)])
    data = b"\x00\x01\x02" + produce_body(version, batch)
    slow, fast = decode(PRODUCE, version, data, 3), decode(PRODUCE, version, data, 3, views=True)
    assert slow == fast  # memoryviews compare by content
    parts = fast.topic_data[0].partition_data
    assert isinstance(parts[0].records, memoryview) and parts[0].records.readonly
    assert bytes(parts[0].records) == batch
    assert type(parts[2].records) is bytes and parts[2].records == b"tail"  # small: a copy
    assert all(isinstance(p.records, bytes) or p.records is None
               for p in decode(PRODUCE, version, bytearray(data), 3, views=True).topic_data[0].partition_data)


@settings(max_examples=300, deadline=None)
@given(st.integers(3, 13), st.one_of(st.integers(0, 400), st.integers(0, VIEW_FROM + 400)),
       st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=3))
def test_decode_with_views_fails_as_decode_does(version, cut, flips):
    data = bytearray(produce_body(version, build_batch([(None, b"x" * 40, [], T0), (None, b"y" * VIEW_FROM, [], T0)])))
    for index, value in flips:
        data[index % len(data)] = value
    data = bytes(data[: max(0, len(data) - cut)])
    answers = []
    for views in (False, True):
        try:
            answers.append(("ok", decode(PRODUCE, version, data, 0, views=views)))
        except ProtocolError as exc:
            answers.append(("error", str(exc)))
    assert answers[0] == answers[1]


def _frames_of(chunks, max_size):
    decoder, out = FrameBuffer(max_size), []
    for chunk in chunks:
        decoder.receive(chunk)
        while (payload := decoder.next_frame()) is not None:
            out.append(payload)
    return out, decoder


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from([0, 5, BIG_FRAME - 4, BIG_FRAME, BIG_FRAME + 1, 3 * BIG_FRAME + 7, 1_000_100]),
                min_size=1, max_size=5),
       st.sampled_from([1000, 65536, 262144, 262144 + 3, BIG_FRAME - 1, 2_000_000]), st.booleans())
def test_gathered_frames_are_the_frames_in_the_stream(sizes, step, reused_buffer):
    payloads = [bytes([i % 251]) * size for i, size in enumerate(sizes)]
    stream = b"".join(frame(p) for p in payloads)
    if reused_buffer:  # one buffer overwritten by every read, as TlsConnection's
        buffer = bytearray(step)
        view = memoryview(buffer)

        def chunks():
            for i in range(0, len(stream), step):
                piece = stream[i : i + step]
                buffer[: len(piece)] = piece
                yield view[: len(piece)]
                buffer[: len(piece)] = bytes(len(piece))  # the next read overwrites it
    else:
        def chunks():
            for i in range(0, len(stream), step):
                yield stream[i : i + step]
    got, decoder = _frames_of(chunks(), 2_000_000)
    assert got == payloads and all(type(p) is bytes for p in got)
    assert decoder.buffered == 0


@pytest.mark.parametrize("size", [-1, 2_000_001])
def test_a_bad_size_after_a_gathered_frame_is_still_refused(size):
    stream = frame(b"a" * (BIG_FRAME * 2)) + struct.pack(">i", size) + b"zz"
    decoder = FrameBuffer(2_000_000)
    decoder.receive(stream[:1000])
    decoder.receive(stream[1000:])
    assert decoder.next_frame() == b"a" * (BIG_FRAME * 2)
    with pytest.raises(FrameError):
        decoder.next_frame()


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=12), st.integers(0, 14))
def test_tagged_fields_are_skipped_as_the_full_read_skips_them(frame, pos):
    from wire.headers import _read_past_tagged_fields, _skip_tagged_fields

    answers = []
    for skip in (_read_past_tagged_fields, _skip_tagged_fields):
        try:
            answers.append(skip(frame, pos))
        except ProtocolError:
            answers.append("error")
    assert answers[0] == answers[1]


def test_remembered_flexibility_is_the_declarations():
    from wire.headers import request_is_flexible
    from wire.messages import APIS as apis

    for key in list(apis) + [999]:
        api = apis.get(key)
        for version in range(-2, 20):
            if api is None:
                expected = False
            elif key == 18 and version > api.request.valid_versions.high:
                expected = True
            else:
                expected = api.request.is_flexible(version)
            assert request_is_flexible(key, version) is expected
            assert request_is_flexible(key, version) is expected  # asked again: from the dict


def test_response_header_is_correlation_id_and_a_tag_byte_when_flexible():
    from wire.headers import response_header

    assert response_header(0, 9, 5) == b"\x00\x00\x00\x05\x00"  # Produce v9: flexible
    assert response_header(0, 8, -1) == b"\xff\xff\xff\xff"
    assert response_header(18, 3, 5) == b"\x00\x00\x00\x05"  # ApiVersions: always header v0

"""PartitionLog append/read/timestamp lookups, on both engines; outputs checked with kafka-python's reader."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from crc32c import crc32c
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder

from tests.partitions.conftest import T0, batch
from wire.errors import ErrorCode, KafkaError
from wire.record_codec import CODEC_GZIP, CODEC_LZ4
from wire.records import build_batch, control_batch

MIB = 1 << 20


def stored_form(produced: bytes, base_offset: int) -> bytes:
    """What the log must store for a produced batch: baseOffset set, partitionLeaderEpoch 0, rest untouched."""
    stored = bytearray(produced)
    struct.pack_into(">q", stored, 0, base_offset)
    struct.pack_into(">i", stored, 12, 0)
    return bytes(stored)


def kafka_python_batches(blob: bytes) -> list[DefaultRecordBatch]:
    """Split a fetched blob with kafka-python and check every CRC."""
    found, pos = [], 0
    while pos < len(blob):
        size = 12 + struct.unpack_from(">i", blob, pos + 8)[0]
        reader = DefaultRecordBatch(blob[pos:pos + size])
        assert reader.validate_crc()
        found.append(reader)
        pos += size
    return found


def records_of(blob: bytes) -> list[tuple[int, int, bytes | None, bytes | None]]:
    return [(r.offset, r.timestamp, r.key, r.value) for b in kafka_python_batches(blob) for r in b]


def error_of(call, *args, **kwargs) -> ErrorCode:
    with pytest.raises(KafkaError) as raised:
        call(*args, **kwargs)
    return raised.value.code


@pytest.fixture
def log(logs):
    return logs.create_topic("t", 1).partitions[0]


def test_offsets_are_assigned_and_read_returns_the_stored_bytes(log):
    produced = [batch([b"a", b"b", b"c"]), batch([b"d"]), batch([b"e", b"f"])]
    results = [log.append(b, T0) for b in produced]
    assert [r.base_offset for r in results] == [0, 3, 4]
    assert all((r.log_append_time_ms, r.log_start_offset, r.duplicate) == (-1, 0, False) for r in results)
    assert (log.log_start_offset, log.high_watermark, log.last_stable_offset, log.leader_epoch) == (0, 6, 6, 0)
    fetched = log.read(0, MIB)
    assert fetched == b"".join(stored_form(b, r.base_offset) for b, r in zip(produced, results))
    assert [(o, v) for o, _, _, v in records_of(fetched)] == list(enumerate([b"a", b"b", b"c", b"d", b"e", b"f"]))


def test_a_kafka_python_batch_is_stored_verbatim_but_for_offset_and_epoch(log):
    builder = DefaultRecordBatchBuilder(magic=2, compression_type=CODEC_LZ4, is_transactional=False,
                                        producer_id=-1, producer_epoch=-1, base_sequence=-1, batch_size=MIB)
    for i in range(50):
        builder.append(i, T0 + i, b"key-%d" % i, b"value " * 20, [("h", b"v")])
    produced = bytes(builder.build())
    log.append(batch([b"first"]), T0)
    assert log.append(produced, T0).base_offset == 1
    fetched = log.read(1, MIB)
    assert fetched == stored_form(produced, 1)
    assert records_of(fetched)[49] == (50, T0 + 49, b"key-49", b"value " * 20)


def test_read_starts_with_the_batch_holding_the_offset(log):
    for values in ([b"a", b"b", b"c"], [b"d", b"e"], [b"f"]):
        log.append(batch(values), T0)
    assert [r[0] for r in records_of(log.read(4, MIB))] == [3, 4, 5]
    assert [r[0] for r in records_of(log.read(5, MIB))] == [5]
    assert [r[0] for r in records_of(log.read(2, MIB))] == [0, 1, 2, 3, 4, 5]


def test_max_bytes_returns_whole_batches_and_always_the_first(log):
    sizes = []
    for i in range(4):
        produced = batch([b"x" * 100])
        sizes.append(len(produced))
        log.append(produced, T0)
    assert len(log.read(0, 1)) == sizes[0]  # KIP-74: the first batch even when larger than max_bytes
    assert len(log.read(0, 0)) == sizes[0]
    assert len(log.read(0, sizes[0] + sizes[1] - 1)) == sizes[0]
    assert len(log.read(0, sizes[0] + sizes[1])) == sizes[0] + sizes[1]
    assert len(log.read(1, sizes[1] + sizes[2] + 5)) == sizes[1] + sizes[2]
    assert len(log.read(0, MIB)) == sum(sizes)


def test_upper_bound_excludes_batches_starting_at_or_after_it(log):
    for values in ([b"a", b"b"], [b"c", b"d"], [b"e"]):
        log.append(batch(values), T0)
    assert [r[0] for r in records_of(log.read(0, MIB, upper=2))] == [0, 1]
    assert [r[0] for r in records_of(log.read(0, MIB, upper=3))] == [0, 1, 2, 3]
    assert log.read(2, MIB, upper=2) == b""
    assert log.read(4, MIB, upper=2) == b""


def test_offsets_outside_the_log(log):
    assert log.read(0, MIB) == b""
    log.append(batch([b"a", b"b"]), T0)
    assert log.read(2, MIB) == b""
    assert error_of(log.read, 3, MIB) == ErrorCode.OFFSET_OUT_OF_RANGE
    assert error_of(log.read, -1, MIB) == ErrorCode.OFFSET_OUT_OF_RANGE


def corrupted(produced: bytes) -> bytes:
    damaged = bytearray(produced)
    damaged[-1] ^= 0xFF
    return bytes(damaged)


def claiming(produced: bytes, count: int) -> bytes:
    """The batch with recordCount and lastOffsetDelta claiming `count` records, and a CRC to match."""
    edited = bytearray(produced)
    struct.pack_into(">i", edited, 23, count - 1)
    struct.pack_into(">i", edited, 57, count)
    struct.pack_into(">I", edited, 17, crc32c(bytes(edited[21:])))
    return bytes(edited)


@pytest.mark.parametrize("bad, code", [
    (lambda: corrupted(batch([b"a"])), ErrorCode.CORRUPT_MESSAGE),
    (lambda: claiming(batch([b"a"]), 2**31 - 1), ErrorCode.INVALID_RECORD),  # issue 10: the HW jumped by 2^31
    (lambda: claiming(batch([b"a", b"b", b"c"], compression=CODEC_LZ4), 2), ErrorCode.INVALID_RECORD),
    (lambda: batch([b"a", b"b"])[:-3], ErrorCode.CORRUPT_MESSAGE),
    (lambda: b"", ErrorCode.INVALID_RECORD),
    (lambda: batch([b"a"], base_offset=7), ErrorCode.INVALID_RECORD),
    (lambda: control_batch(5, 0, commit=True, coordinator_epoch=0, timestamp_ms=T0), ErrorCode.INVALID_RECORD),
])
def test_rejected_batches_append_nothing(engine, log, bad, code):
    log.append(batch([b"kept"]), T0)
    before = log.read(0, MIB)
    assert error_of(log.append, bad(), T0) == code
    assert (log.high_watermark, log.read(0, MIB)) == (1, before)
    reopened = engine.reopen().partition("t", 0)
    assert (reopened.high_watermark, reopened.read(0, MIB)) == (1, before)


def test_a_batch_claiming_2_31_records_never_moves_the_high_watermark(log):
    log.append(batch([b"a"]), T0)
    for _ in range(3):
        with pytest.raises(KafkaError) as raised:
            log.append(claiming(batch([b"x"]), 2**31 - 1), T0)
        assert raised.value.code == ErrorCode.INVALID_RECORD
        assert raised.value.record_errors == [(1, "Incorrect declared batch size, premature EOF reached")]
    assert log.high_watermark == 1
    assert log.append(batch([b"b"]), T0).base_offset == 1
    assert [offset for offset, *_ in records_of(log.read(0, MIB))] == [0, 1]


@pytest.mark.parametrize("bad_position", [0, 1, 2])
def test_one_bad_batch_rejects_the_whole_append(engine, log, bad_position):
    parts = [batch([b"a"]), batch([b"b", b"c"]), batch([b"d"])]
    parts[bad_position] = corrupted(parts[bad_position])
    assert error_of(log.append, b"".join(parts), T0) == ErrorCode.CORRUPT_MESSAGE
    assert (log.high_watermark, log.read(0, MIB)) == (0, b"")
    assert engine.reopen().partition("t", 0).high_watermark == 0


def test_a_multi_batch_append_is_stored_whole(log):
    parts = [batch([b"a"]), batch([b"b", b"c"]), batch([b"d"])]
    assert log.append(b"".join(parts), T0).base_offset == 0
    assert log.read(0, MIB) == b"".join(stored_form(p, o) for p, o in zip(parts, [0, 1, 3]))


def test_batches_above_max_message_bytes_are_refused(logs):
    log = logs.create_topic("small", 1, {"max.message.bytes": "200"}).partitions[0]
    fits = batch([b"x" * 10])
    assert len(fits) <= 200
    big = batch([b"x" * 200])
    assert error_of(log.append, big, T0) == ErrorCode.MESSAGE_TOO_LARGE
    assert error_of(log.append, fits + big, T0) == ErrorCode.MESSAGE_TOO_LARGE
    assert log.high_watermark == 0
    sized = {len(b): b for b in (batch([b"y" * n]) for n in range(100, 150))}
    assert error_of(log.append, sized[201], T0) == ErrorCode.MESSAGE_TOO_LARGE
    assert log.append(sized[200], T0).base_offset == 0


def test_kafka_default_max_message_bytes(log):
    assert log.topic.config("max.message.bytes") == 1048588
    over = batch([b"z" * (1048588 - 60)])
    assert len(over) > 1048588
    assert error_of(log.append, over, T0) == ErrorCode.MESSAGE_TOO_LARGE
    under = batch([b"z" * (1048588 - 100)])
    assert log.append(under, T0).base_offset == 0
    assert log.read(0, 1) == stored_form(under, 0)


def test_log_append_time_stamps_the_batch(engine):
    logs = engine.open()
    log = logs.create_topic("stamped", 1, {"message.timestamp.type": "LogAppendTime"}).partitions[0]
    now = T0 + 123_456
    result = log.append(batch([b"a", b"b"], compression=CODEC_GZIP), now)
    assert result.log_append_time_ms == now
    (stored,) = kafka_python_batches(log.read(0, MIB))
    assert stored.timestamp_type == 1 and stored.max_timestamp == now
    assert [(r.offset, r.timestamp, r.value) for r in stored] == [(0, now, b"a"), (1, now, b"b")]
    assert log.offset_for_timestamp(now) == (0, now)
    assert log.offset_for_timestamp(now + 1) is None
    assert log.max_timestamp() == (0, now)
    assert engine.reopen().partition("stamped", 0).max_timestamp() == (0, now)


def test_create_time_keeps_the_producers_timestamps(log):
    assert log.append(batch([b"a", b"b"], t0=T0 - 5000), T0).log_append_time_ms == -1
    assert [r[1] for r in records_of(log.read(0, MIB))] == [T0 - 5000, T0 - 4999]


def timed(timestamps, compression=0) -> bytes:
    return build_batch([(None, b"v%d" % i, [], ts) for i, ts in enumerate(timestamps)], compression=compression)


@pytest.mark.parametrize("compression", [0, CODEC_GZIP])
def test_offset_for_timestamp_finds_the_first_record_at_or_after(engine, compression):
    log = engine.open().create_topic("t", 1).partitions[0]
    log.append(timed([T0, T0 + 10, T0 + 5, T0 + 20], compression), T0)   # offsets 0-3
    log.append(timed([T0 + 100, T0 + 90], compression), T0)               # offsets 4-5
    log.append(timed([T0 + 50, T0 + 60], compression), T0)                # offsets 6-7: older than batch 2
    for reopen in (False, True):
        reader = engine.reopen().partition("t", 0) if reopen else log
        assert reader.offset_for_timestamp(T0 - 100) == (0, T0)
        assert reader.offset_for_timestamp(T0) == (0, T0)
        assert reader.offset_for_timestamp(T0 + 6) == (1, T0 + 10)  # not offset 2: first in offset order
        assert reader.offset_for_timestamp(T0 + 11) == (3, T0 + 20)
        assert reader.offset_for_timestamp(T0 + 55) == (4, T0 + 100)
        assert reader.offset_for_timestamp(T0 + 95) == (4, T0 + 100)
        assert reader.offset_for_timestamp(T0 + 101) is None


def test_max_timestamp_is_the_first_record_with_the_largest_timestamp(log):
    assert log.max_timestamp() is None
    log.append(timed([T0, T0 + 50, T0 + 3]), T0)
    assert log.max_timestamp() == (1, T0 + 50)
    log.append(timed([T0 + 1, T0 + 70, T0 + 70, T0 + 2]), T0)
    assert log.max_timestamp() == (4, T0 + 70)
    log.append(timed([T0 + 70]), T0)
    assert log.max_timestamp() == (4, T0 + 70)
    log.append(timed([T0 - 1]), T0)
    assert log.max_timestamp() == (4, T0 + 70)


def test_listeners_hear_successful_appends_only(log):
    heard = []
    log.listeners.append(heard.append)
    log.append(batch([b"a"]), T0)
    assert heard == [log]
    with pytest.raises(KafkaError):
        log.append(corrupted(batch([b"b"])), T0)
    assert heard == [log]


def test_partitions_are_independent(logs):
    topic = logs.create_topic("multi", 3)
    topic.partitions[1].append(batch([b"one", b"two"]), T0)
    topic.partitions[2].append(batch([b"three"]), T0)
    assert [p.high_watermark for p in topic.partitions] == [0, 2, 1]
    assert [r[3] for r in records_of(topic.partitions[2].read(0, MIB))] == [b"three"]


def test_the_log_survives_reopen_and_continues_at_the_high_watermark(engine):
    log = engine.open().create_topic("t", 2).partitions[1]
    for i in range(20):
        log.append(batch([b"%d" % i] * (i % 3 + 1)), T0)
    fetched, high_watermark = log.read(0, MIB), log.high_watermark
    reopened = engine.reopen().partition("t", 1)
    assert (reopened.high_watermark, reopened.read(0, MIB)) == (high_watermark, fetched)
    assert reopened.read(7, 1) == log_batch_at(fetched, 7)
    assert reopened.append(batch([b"next"]), T0).base_offset == high_watermark


def log_batch_at(blob: bytes, offset: int) -> bytes:
    pos = 0
    while True:
        base, length = struct.unpack_from(">qi", blob, pos)
        last = base + struct.unpack_from(">i", blob, pos + 23)[0]
        if base <= offset <= last:
            return blob[pos:pos + 12 + length]
        pos += 12 + length


_topic_names = (f"model-{i}" for i in range(10**9))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(counts=st.lists(st.integers(1, 4), min_size=1, max_size=10),
       queries=st.lists(st.tuples(st.integers(0, 45),
                                  st.integers(-1, 1500) | st.tuples(st.integers(1, 6), st.integers(-1, 1)),
                                  st.none() | st.integers(0, 45)),
                        min_size=1, max_size=8))
def test_read_agrees_with_a_model_of_kip_74(logs, counts, queries):
    """max_bytes is drawn as a number, or as "the sizes of k batches from the one holding offset, +-1"."""
    log = logs.create_topic(next(_topic_names), 1).partitions[0]
    stored = []  # (base offset, stored bytes)
    for n, count in enumerate(counts):
        produced = batch([b"v" * (n * 7) for _ in range(count)])
        stored.append((log.append(produced, T0).base_offset, stored_form(produced, log.high_watermark - count)))
    for offset, max_bytes, upper in queries:
        if offset > log.high_watermark:
            assert error_of(log.read, offset, 100, upper=upper) == ErrorCode.OFFSET_OUT_OF_RANGE
            continue
        limit = log.high_watermark if upper is None else upper
        # the batches from the one holding offset (none when offset is the high watermark)
        from_offset = [(base, data) for i, (base, data) in enumerate(stored)
                       if (stored[i + 1][0] if i + 1 < len(stored) else log.high_watermark) > offset]
        if isinstance(max_bytes, tuple):
            batches, delta = max_bytes
            max_bytes = sum(len(data) for _, data in from_offset[:batches]) + delta
        expected, total = [], 0
        if offset < limit:
            for base, data in from_offset:
                if base >= limit or (expected and total + len(data) > max_bytes):
                    break
                expected.append(data)
                total += len(data)
        assert log.read(offset, max_bytes, upper=upper) == b"".join(expected)


def lying_about(produced: bytes, max_timestamp: int) -> bytes:
    """The batch with a header maxTimestamp its records do not have, and a CRC to match."""
    edited = bytearray(produced)
    struct.pack_into(">q", edited, 35, max_timestamp)
    struct.pack_into(">I", edited, 17, crc32c(bytes(edited[21:])))
    return bytes(edited)


@pytest.mark.parametrize("compression", [0, CODEC_LZ4])
@pytest.mark.parametrize("claimed", [T0 + 10**9, T0 + 1])  # far ahead of its records, and behind the last one
def test_max_timestamp_is_the_records_not_the_headers_claim(log, compression, claimed):
    produced = lying_about(batch([b"a", b"b", b"c"], compression=compression), claimed)  # records: T0..T0+2
    log.append(produced, T0 + 5)
    (stored,) = kafka_python_batches(log.read(0, MIB))  # the CRC was recomputed
    assert stored.max_timestamp == T0 + 2
    assert log.offset_for_timestamp(T0 + 3) is None and log.max_timestamp() == (2, T0 + 2)


def test_record_timestamps_more_than_an_hour_ahead_are_refused_naming_each(logs):
    log = logs.create_topic("clock", 1).partitions[0]  # message.timestamp.after.max.ms: Kafka 4's 1 hour
    now = T0 + 2
    ahead = build_batch([(b"k", b"ok", [], now), (b"k", b"later", [], now + 3_600_001),
                         (b"k", b"past", [], now - 10**9), (b"k", b"much later", [], now + 10**8)])
    with pytest.raises(KafkaError) as raised:
        log.append(ahead, now)
    assert raised.value.code == ErrorCode.INVALID_TIMESTAMP
    assert raised.value.message == "One or more records have been rejected due to invalid timestamp"
    window = f"[{now - (2**63 - 1)}, {now + 3_600_000}]"
    assert raised.value.record_errors == [
        (1, f"Timestamp {now + 3_600_001} of message with offset 1 is out of range. The timestamp should be within "
            f"{window}"),
        (3, f"Timestamp {now + 10**8} of message with offset 3 is out of range. The timestamp should be within "
            f"{window}")]
    assert log.high_watermark == 0
    relaxed = logs.create_topic("relaxed", 1, {"message.timestamp.after.max.ms": str(10**9),
                                               "message.timestamp.before.max.ms": str(10**8)}).partitions[0]
    with pytest.raises(KafkaError) as raised:
        relaxed.append(ahead, now)
    assert [index for index, _ in raised.value.record_errors] == [2]  # now the one 10^9 ms behind
    appended = logs.create_topic("append-time", 1, {"message.timestamp.type": "LogAppendTime"}).partitions[0]
    assert appended.append(ahead, now).base_offset == 0  # the broker's clock: producers' times are not checked

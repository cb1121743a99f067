"""Segments, retention and DeleteRecords on both engines: what goes, what stays, what survives a reopen."""

import pytest

from partitions.retention import delete_old_segments, delete_records
from tests.partitions.conftest import T0, batch
from wire.errors import ErrorCode, KafkaError
from wire.records import iter_batches

MB = 1024 * 1024


def fill(log, count, *, t0=T0, step_ms=1000, size=10):
    """`count` one-record batches, the i-th with timestamp t0 + i*step_ms."""
    for i in range(count):
        log.append(batch([b"x" * size], t0=t0 + i * step_ms), t0 + i * step_ms)


def offsets(log, start):
    return [h.base_offset for h, _ in iter_batches(log.read(start, 1 << 30))]


def test_segments_roll_by_time_and_by_size(logs):
    log = logs.create_topic("t", 1, {"segment.ms": "2500"}).partitions[0]
    fill(log, 7)  # timestamps 0..6 s: rolls when a batch is more than 2.5 s past the segment's first
    assert [(s.base_offset, s.next_offset) for s in log.segments] == [(0, 3), (3, 6), (6, 7)]
    sized = logs.create_topic("s", 1, {"segment.bytes": str(MB)}).partitions[0]
    fill(sized, 5, size=300_000)
    assert [s.batches for s in sized.segments] == [3, 2]
    assert all(s.size <= MB for s in sized.segments)


def test_retention_ms_drops_expired_closed_segments_and_moves_log_start(engine):
    logs = engine.open()
    log = logs.create_topic("t", 1, {"segment.ms": "2500", "retention.ms": "10000"}).partitions[0]
    fill(log, 7)
    assert delete_old_segments(log, T0 + 12_000) is None  # segment 0 holds timestamps up to T0 + 2 s
    removed = delete_old_segments(log, T0 + 12_001)
    assert (removed.start, removed.end, removed.segments) == (0, 3, 1)
    assert log.log_start_offset == 3 and log.high_watermark == 7
    with pytest.raises(KafkaError) as below:
        log.read(2, 100)
    assert below.value.code == ErrorCode.OFFSET_OUT_OF_RANGE
    assert offsets(log, 3) == [3, 4, 5, 6]
    log = engine.reopen().get("t").partitions[0]
    assert (log.log_start_offset, log.high_watermark, offsets(log, 3)) == (3, 7, [3, 4, 5, 6])


def test_an_expired_active_segment_is_rolled_then_removed_and_offsets_continue(engine):
    logs = engine.open()
    log = logs.create_topic("t", 1, {"retention.ms": "1000"}).partitions[0]
    fill(log, 3)
    delete_old_segments(log, T0 + 60_000)
    assert (log.log_start_offset, log.high_watermark, len(log.segments)) == (3, 3, 0)
    assert log.read(3, 100) == b""
    assert log.append(batch([b"new"], t0=T0 + 60_000), T0 + 60_000).base_offset == 3
    log = engine.reopen().get("t").partitions[0]
    assert (log.log_start_offset, log.high_watermark, offsets(log, 3)) == (3, 4, [3])


def test_retention_bytes_keeps_the_newest_segments_within_the_limit(logs):
    log = logs.create_topic("t", 1, {"segment.ms": "1500", "retention.bytes": "300"}).partitions[0]
    fill(log, 10)  # two batches per segment
    per_segment = log.segments.items[0].size
    delete_old_segments(log, T0)
    assert log.segments.size - per_segment < 300 <= log.segments.size + per_segment
    assert log.log_start_offset == log.segments.items[0].base_offset > 0


def test_compact_only_topics_are_not_deleted_by_time(logs):
    log = logs.create_topic("t", 1, {"segment.ms": "1500", "retention.ms": "1",
                                     "cleanup.policy": "compact"}).partitions[0]
    fill(log, 6)
    assert delete_old_segments(log, T0 + 10**9) is None and log.log_start_offset == 0


def test_delete_records_moves_log_start_and_drops_whole_segments_below_it(engine):
    logs = engine.open()
    log = logs.create_topic("t", 1, {"segment.ms": "2500"}).partitions[0]
    fill(log, 7)
    assert delete_records(log, 4) == 4
    assert [s.base_offset for s in log.segments] == [3, 6]  # [0, 3) is gone, [3, 6) holds offset 4
    assert offsets(log, 4)[0] == 4
    assert delete_records(log, 2) == 4  # never backwards
    for bad in (8, -2):
        with pytest.raises(KafkaError) as error:
            delete_records(log, bad)
        assert error.value.code == ErrorCode.OFFSET_OUT_OF_RANGE
    assert delete_records(log, -1) == 7  # -1: the high watermark
    log = engine.reopen().get("t").partitions[0]
    assert (log.log_start_offset, log.high_watermark) == (7, 7)


def test_delete_records_refuses_a_compact_only_topic(logs):
    log = logs.create_topic("t", 1, {"cleanup.policy": "compact"}).partitions[0]
    fill(log, 2)
    with pytest.raises(KafkaError) as error:
        delete_records(log, 1)
    assert error.value.code == ErrorCode.POLICY_VIOLATION


def test_timestamp_lookups_skip_removed_records(logs):
    log = logs.create_topic("t", 1, {"segment.ms": "2500"}).partitions[0]
    fill(log, 7)
    delete_records(log, 4)
    assert log.offset_for_timestamp(T0)[0] == 4
    assert log.offset_for_timestamp(T0 + 5000) == (5, T0 + 5000)
    assert log.max_timestamp() == (6, T0 + 6000)


def test_aborted_transactions_below_the_log_start_are_forgotten(engine):
    logs = engine.open()
    log = logs.create_topic("t", 1, {"segment.ms": "2500"}).partitions[0]
    log.append(batch([b"a"], producer_id=5, producer_epoch=0, base_sequence=0, transactional=True), T0)
    log.append_control(5, 0, commit=False, coordinator_epoch=0, now_ms=T0 + 10)
    fill(log, 3, t0=T0 + 5000)
    assert len(log.transactions.aborted_txns()) == 1
    delete_records(log, 3)
    assert log.transactions.aborted_txns() == []
    log = engine.reopen().get("t").partitions[0]
    assert log.transactions.aborted_txns() == [] and log.log_start_offset == 3


def test_compact_delete_topics_are_deleted_by_time_too(logs):
    log = logs.create_topic("cd", 1, {"segment.ms": "1500", "retention.ms": "1000",
                                      "cleanup.policy": "compact,delete"}).partitions[0]
    fill(log, 4)
    assert delete_old_segments(log, T0 + 60_000) is not None and log.log_start_offset == 4


def test_a_data_dir_from_before_segments_opens_with_its_batches(tmp_path):
    """Written by a broker that kept no segment summaries: the index is read once to build one."""
    from rocksdict import Options, Rdict

    from partitions import Logs, keys
    from partitions.rocks import RocksStorage

    path = str(tmp_path / "rocksdb")
    logs = Logs(RocksStorage(path))
    log = logs.create_topic("old", 1).partitions[0]
    fill(log, 3)
    topic_id = log.topic.topic_id
    logs.close()
    db = Rdict(path, options=Options(raw_mode=True))
    db.delete_range(*keys.kind_range(topic_id, 0, keys.SEGMENT))
    db.close()
    logs = Logs(RocksStorage(path))
    log = logs.get("old").partitions[0]
    assert (log.high_watermark, offsets(log, 0)) == (3, [0, 1, 2])
    assert log.append(batch([b"new"], t0=T0 + 10_000), T0 + 10_000).base_offset == 3
    logs.close()

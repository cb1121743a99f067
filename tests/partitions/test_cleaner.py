"""The log cleaner on both engines: latest value per key, tombstones until their horizon, offsets kept."""

import pytest

from partitions.cleaner import Cleaning, plan
from tests.partitions.conftest import T0
from wire.batch_rewrite import DELETE_HORIZON_MASK, delete_horizon
from wire.errors import ErrorCode, KafkaError
from crc32c import crc32c

from wire.records import ATTRIBUTES_OFFSET, build_batch, iter_batches, iter_records

DAY = 86_400_000
COMPACT = {"cleanup.policy": "compact", "segment.ms": "1000", "min.cleanable.dirty.ratio": "0.01",
           "delete.retention.ms": "5000"}


def put(log, key, value, ts, **options):
    return log.append(build_batch([(key, value, [], ts)], **options), ts).base_offset


def clean(log, now):
    found = plan(log, now)
    assert found is not None, "nothing to clean"
    cleaning = Cleaning(log, found, now)
    steps = sum(1 for _ in cleaning.steps())
    assert not cleaning.aborted
    return cleaning, steps


def contents(log):
    """(offset, key, value) of every record from the log start, checking each batch's CRC on the way."""
    blob = log.read(log.log_start_offset, 1 << 30)
    for header, batch in iter_batches(blob):  # what consumers check (produce-side rules do not hold after
        assert crc32c(batch[ATTRIBUTES_OFFSET:]) == header.crc  # cleaning: gaps, a horizon as base timestamp)
    return [(r.offset, r.key, r.value) for _, batch in iter_batches(blob) for r in iter_records(batch)]


def write_history(log):
    """Keys a, b, c overwritten; b deleted; one segment per second; an active segment left open."""
    offsets = {}
    for i, (key, value) in enumerate([(b"a", b"a1"), (b"b", b"b1"), (b"c", b"c1"), (b"a", b"a2"),
                                      (b"b", None), (b"a", b"a3"), (b"c", b"c2")]):
        offsets[(key, value)] = put(log, key, value, T0 + i * 1500)
    put(log, b"z", b"active", T0 + 20_000)  # rolls: everything before is in closed segments
    return offsets


def test_compaction_keeps_the_latest_value_per_key_with_offsets_and_crcs(engine):
    log = engine.open().create_topic("c", 1, COMPACT).partitions[0]
    write_history(log)
    before = contents(log)
    cleaning, steps = clean(log, T0 + 30_000)
    assert steps >= 1 and cleaning.bytes_after < cleaning.bytes_before
    after = contents(log)
    assert after == [(4, b"b", None), (5, b"a", b"a3"), (6, b"c", b"c2"), (7, b"z", b"active")]
    assert [o for o, _, _ in after] == sorted(o for o, _, _ in after) and set(after) <= set(before)
    assert log.high_watermark == 8 and log.first_dirty_offset == 7
    log = engine.reopen().get("c").partitions[0]  # the compacted state and the checkpoint persist
    assert contents(log) == after and log.first_dirty_offset == 7
    assert log.append(build_batch([(b"a", b"a4", [], T0 + 40_000)]), T0 + 40_000).base_offset == 8


def test_tombstones_get_a_delete_horizon_then_go(logs):
    log = logs.create_topic("c", 1, COMPACT).partitions[0]
    write_history(log)
    cleaning, _ = clean(log, T0 + 30_000)
    tombstone = [h for h, _ in iter_batches(log.read(4, 1 << 20)) if h.base_offset == 4][0]
    assert tombstone.attributes & DELETE_HORIZON_MASK and delete_horizon(tombstone) == T0 + 35_000
    assert cleaning.next_horizon == T0 + 35_000
    assert plan(log, T0 + 31_000) is None  # nothing dirty, horizon ahead
    put(log, b"y", b"y1", T0 + 40_000)  # the open segment closes: something dirty again
    put(log, b"x", b"x1", T0 + 60_000)
    clean(log, T0 + 34_000)
    assert (4, b"b", None) in contents(log)  # before the horizon the tombstone stays
    cleaning = Cleaning(log, plan(log, T0 + 36_000, horizon_due=True), T0 + 36_000)
    for _ in cleaning.steps():
        pass
    assert [k for _, k, _ in contents(log)] == [b"a", b"c", b"z", b"y", b"x"]


def test_min_compaction_lag_and_dirty_ratio_decide_what_is_cleanable(logs):
    log = logs.create_topic("lag", 1, {**COMPACT, "min.compaction.lag.ms": str(DAY)}).partitions[0]
    write_history(log)
    assert plan(log, T0 + 30_000) is None  # every closed segment is younger than a day
    assert plan(log, T0 + DAY + 30_000) is not None
    lazy = logs.create_topic("ratio", 1, {**COMPACT, "min.cleanable.dirty.ratio": "0.99"}).partitions[0]
    write_history(lazy)
    clean_once = Cleaning(lazy, plan(lazy, T0 + 30_000, horizon_due=True), T0 + 30_000)
    for _ in clean_once.steps():
        pass
    put(lazy, b"q", b"q1", T0 + 50_000)
    assert plan(lazy, T0 + 60_000) is None  # a little dirty data over a clean log: below 0.99


def test_max_compaction_lag_forces_a_clean_below_the_ratio(logs):
    log = logs.create_topic("max-lag", 1, {**COMPACT, "min.cleanable.dirty.ratio": "0.99",
                                           "max.compaction.lag.ms": "10000"}).partitions[0]
    write_history(log)
    Cleaning(log, plan(log, T0 + 30_000, horizon_due=True), T0 + 30_000).steps().__next__()
    found = plan(log, T0 + 1_000_000)
    assert found is not None and found.forced


def test_aborted_transactions_go_and_markers_stay_while_their_data_does(logs):
    log = logs.create_topic("txn", 1, COMPACT).partitions[0]
    put(log, b"k", b"committed-1", T0)
    log.append(build_batch([(b"k", b"aborted", [], T0 + 10)], producer_id=7, producer_epoch=0, base_sequence=0,
                           transactional=True), T0 + 10)
    log.append_control(7, 0, commit=False, coordinator_epoch=0, now_ms=T0 + 20)
    log.append(build_batch([(b"m", b"committed-txn", [], T0 + 30)], producer_id=8, producer_epoch=0,
                           base_sequence=0, transactional=True), T0 + 30)
    log.append_control(8, 0, commit=True, coordinator_epoch=0, now_ms=T0 + 40)
    put(log, b"z", b"active", T0 + 5_000)
    clean(log, T0 + 10_000)
    blob = log.read(0, 1 << 20)
    kept = [(h.base_offset, h.is_control) for h, _ in iter_batches(blob)]
    # the aborted data went; the value before it is the latest committed one; its ABORT marker stays
    # (data of its transaction was still there in this pass), as does the COMMIT whose data stays
    assert (0, False) in kept and (1, False) not in kept
    assert (2, True) in kept and (3, False) in kept and (4, True) in kept


def test_idempotent_producer_state_survives_compaction(engine):
    log = engine.open().create_topic("idem", 1, COMPACT).partitions[0]
    first = build_batch([(b"k", b"v0", [], T0)], producer_id=3, producer_epoch=0, base_sequence=0)
    log.append(first, T0)
    log.append(build_batch([(b"k", b"v1", [], T0 + 1500)], producer_id=3, producer_epoch=0, base_sequence=1),
               T0 + 1500)
    put(log, b"z", b"active", T0 + 5_000)
    clean(log, T0 + 10_000)
    log = engine.reopen().get("idem").partitions[0]
    again = log.append(build_batch([(b"k", b"v1", [], T0 + 1500)], producer_id=3, producer_epoch=0,
                                   base_sequence=1), T0 + 20_000)
    assert again.duplicate and again.base_offset == 1
    with pytest.raises(KafkaError) as gap:
        log.append(build_batch([(b"k", b"v9", [], T0)], producer_id=3, producer_epoch=0, base_sequence=5), T0)
    assert gap.value.code == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER


def test_a_compacted_topic_refuses_keyless_records_naming_each(logs):
    log = logs.create_topic("keys", 1, {"cleanup.policy": "compact,delete"}).partitions[0]
    with pytest.raises(KafkaError) as refused:
        log.append(build_batch([(b"k", b"v", [], T0), (None, b"v", [], T0), (None, b"w", [], T0)]), T0)
    assert refused.value.code == ErrorCode.INVALID_RECORD
    assert [i for i, _ in refused.value.record_errors] == [1, 2]
    assert log.high_watermark == 0


def test_cleaned_segments_are_merged_up_to_segment_bytes(engine):
    log = engine.open().create_topic("merge", 1, COMPACT).partitions[0]
    write_history(log)
    assert len(log.segments) == 8  # one per record: segment.ms is 1 s, records 1.5 s apart
    clean(log, T0 + 30_000)
    assert [(s.base_offset, s.next_offset) for s in log.segments] == [(4, 7), (7, 8)]  # emptied go, the rest merge
    assert log.segments.items[0].batches == 3
    log = engine.reopen().get("merge").partitions[0]
    assert [(s.base_offset, s.next_offset, s.batches) for s in log.segments] == [(4, 7, 3), (7, 8, 1)]
    assert contents(log) == [(4, b"b", None), (5, b"a", b"a3"), (6, b"c", b"c2"), (7, b"z", b"active")]

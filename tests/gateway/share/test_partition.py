"""The share-partition state machine with injected time: acquisition, locks, acknowledgements, the SPSO."""

import pytest

from gateway.share.partition import (
    AcknowledgeType as Ack, AcquiredRecords, AcquireMode, DeadLetter, Limits, RecordState, SharePartition,
)
from wire.errors import ErrorCode, KafkaError

LIMITS = Limits(record_lock_duration_ms=1000, delivery_count_limit=3, partition_max_record_locks=100)
DLQ = Limits(record_lock_duration_ms=1000, delivery_count_limit=3, partition_max_record_locks=100,
             dead_letter_topic=True)


def batches(*ranges):
    return list(ranges)


def test_acquire_then_accept_moves_the_spso():
    p = SharePartition(0)
    got = p.acquire("m1", [(0, 4), (5, 9)], max_records=100, now_ms=0, limits=LIMITS)
    assert got == [AcquiredRecords(0, 9, 1)]
    assert p.state(3) is RecordState.ACQUIRED and p.holder(3) == "m1"
    p.acknowledge("m1", [(0, 4, [Ack.ACCEPT])], now_ms=10, limits=LIMITS)
    assert p.start == 5 and p.end == 10
    assert p.next_fetch_offset() == 10  # 5-9 still held


def test_a_second_member_gets_only_what_the_first_does_not_hold():
    p = SharePartition(0)
    p.acquire("m1", [(0, 4)], max_records=100, now_ms=0, limits=LIMITS)
    assert p.acquire("m2", [(0, 4), (5, 7)], max_records=100, now_ms=0, limits=LIMITS) == [AcquiredRecords(5, 7, 1)]


def test_batch_optimized_ends_on_a_batch_boundary_and_record_limit_does_not():
    p = SharePartition(0)
    assert p.acquire("m1", [(0, 4), (5, 9)], max_records=3, now_ms=0, limits=LIMITS) == [AcquiredRecords(0, 4, 1)]
    q = SharePartition(0)
    assert q.acquire("m1", [(0, 4), (5, 9)], max_records=3, now_ms=0, limits=LIMITS,
                     mode=AcquireMode.RECORD_LIMIT) == [AcquiredRecords(0, 2, 1)]
    assert q.next_fetch_offset() == 3


def test_release_redelivers_with_a_higher_delivery_count():
    p = SharePartition(0)
    p.acquire("m1", [(0, 1)], max_records=10, now_ms=0, limits=LIMITS)
    p.acknowledge("m1", [(0, 1, [Ack.RELEASE, Ack.ACCEPT])], now_ms=0, limits=LIMITS)
    assert p.state(0) is RecordState.AVAILABLE and p.start == 0
    assert p.acquire("m2", [(0, 1)], max_records=10, now_ms=0, limits=LIMITS) == [AcquiredRecords(0, 0, 2)]


def test_reject_archives_and_is_never_redelivered():
    p = SharePartition(0)
    p.acquire("m1", [(0, 2)], max_records=10, now_ms=0, limits=LIMITS)
    p.acknowledge("m1", [(1, 1, [Ack.REJECT])], now_ms=0, limits=LIMITS)
    p.acknowledge("m1", [(0, 0, [Ack.RELEASE])], now_ms=0, limits=LIMITS)
    assert p.state(1) is RecordState.ARCHIVED
    assert p.acquire("m1", [(0, 2)], max_records=10, now_ms=0, limits=LIMITS) == [AcquiredRecords(0, 0, 2)]


def test_lock_expiry_makes_records_available_again():
    p = SharePartition(0)
    p.acquire("m1", [(0, 4)], max_records=10, now_ms=0, limits=LIMITS)
    assert p.next_deadline() == 1000
    assert p.expire_locks(999, LIMITS) == 0
    assert p.expire_locks(1000, LIMITS) == 5
    assert p.next_deadline() is None
    assert p.acquire("m2", [(0, 4)], max_records=10, now_ms=1000, limits=LIMITS) == [AcquiredRecords(0, 4, 2)]
    with pytest.raises(KafkaError) as error:  # m1's lock is gone: it holds nothing
        p.acknowledge("m1", [(0, 4, [Ack.ACCEPT])], now_ms=1001, limits=LIMITS)
    assert error.value.code == ErrorCode.INVALID_RECORD_STATE


def test_delivery_count_limit_archives():
    p = SharePartition(0)
    for delivery in (1, 2, 3):
        assert p.acquire("m1", [(0, 0)], max_records=10, now_ms=0, limits=LIMITS) == [AcquiredRecords(0, 0, delivery)]
        p.acknowledge("m1", [(0, 0, [Ack.RELEASE])], now_ms=0, limits=LIMITS)
    assert p.start == 1 and p.acquire("m1", [(0, 0)], max_records=10, now_ms=0, limits=LIMITS) == []


def test_expiry_at_the_limit_archives_too():
    p = SharePartition(0)
    limits = Limits(record_lock_duration_ms=10, delivery_count_limit=2)
    p.acquire("m1", [(0, 0)], max_records=1, now_ms=0, limits=limits)
    p.expire_locks(10, limits)
    p.acquire("m1", [(0, 0)], max_records=1, now_ms=10, limits=limits)
    p.expire_locks(20, limits)
    assert p.start == 1


def test_acknowledging_what_another_member_holds_fails_whole():
    p = SharePartition(0)
    p.acquire("m1", [(0, 1)], max_records=10, now_ms=0, limits=LIMITS)
    p.acquire("m2", [(2, 3)], max_records=10, now_ms=0, limits=LIMITS)
    with pytest.raises(KafkaError) as error:
        p.acknowledge("m1", [(0, 1, [Ack.ACCEPT]), (2, 2, [Ack.ACCEPT])], now_ms=0, limits=LIMITS)
    assert error.value.code == ErrorCode.INVALID_RECORD_STATE
    assert p.state(0) is RecordState.ACQUIRED  # nothing applied
    with pytest.raises(KafkaError) as error:
        p.acknowledge("m1", [(7, 7, [Ack.ACCEPT])], now_ms=0, limits=LIMITS)  # never acquired
    assert error.value.code == ErrorCode.INVALID_RECORD_STATE


@pytest.mark.parametrize("batch", [(3, 2, [1]), (0, 1, [1, 1, 1]), (0, 0, [9]), (0, 0, [Ack.RENEW])])
def test_malformed_acknowledgements_are_invalid_requests(batch):
    p = SharePartition(0)
    p.acquire("m1", [(0, 3)], max_records=10, now_ms=0, limits=LIMITS)
    with pytest.raises(KafkaError) as error:
        p.acknowledge("m1", [batch], now_ms=0, limits=LIMITS)
    assert error.value.code == ErrorCode.INVALID_REQUEST


def test_renew_extends_the_lock():
    p = SharePartition(0)
    p.acquire("m1", [(0, 1)], max_records=10, now_ms=0, limits=LIMITS)
    p.acknowledge("m1", [(0, 0, [Ack.RENEW])], now_ms=900, limits=LIMITS, allow_renew=True)
    assert p.expire_locks(1000, LIMITS) == 1  # offset 1 kept the first lock
    assert p.holder(0) == "m1" and p.next_deadline() == 1900
    assert p.expire_locks(1900, LIMITS) == 1


def test_gap_archives():
    p = SharePartition(0)
    p.acquire("m1", [(0, 2)], max_records=10, now_ms=0, limits=LIMITS)
    p.acknowledge("m1", [(0, 2, [Ack.GAP, Ack.ACCEPT, Ack.GAP])], now_ms=0, limits=LIMITS)
    assert p.start == 3


def test_window_is_bounded_by_max_record_locks():
    limits = Limits(partition_max_record_locks=4)
    p = SharePartition(0)
    assert p.acquire("m1", [(0, 1), (2, 3), (4, 5)], max_records=100, now_ms=0, limits=limits) == [
        AcquiredRecords(0, 3, 1)]
    assert p.acquire("m2", [(4, 5)], max_records=100, now_ms=0, limits=limits) == []
    p.acknowledge("m1", [(0, 1, [Ack.ACCEPT])], now_ms=0, limits=limits)
    assert p.acquire("m2", [(4, 5)], max_records=100, now_ms=0, limits=limits) == [AcquiredRecords(4, 5, 1)]


def test_member_leaving_releases_its_locks_at_once():
    p = SharePartition(0)
    p.acquire("m1", [(0, 1)], max_records=10, now_ms=0, limits=LIMITS)
    p.acquire("m2", [(2, 3)], max_records=10, now_ms=0, limits=LIMITS)
    assert p.release_member("m1", LIMITS) == 2
    assert p.state(0) is RecordState.AVAILABLE and p.holder(2) == "m2"


def test_dead_letters_pass_archiving_and_hold_the_spso():
    p = SharePartition(0)
    p.acquire("m1", [(0, 1)], max_records=10, now_ms=0, limits=DLQ)
    p.acknowledge("m1", [(0, 1, [Ack.REJECT, Ack.ACCEPT])], now_ms=0, limits=DLQ)
    assert p.state(0) is RecordState.ARCHIVING and p.start == 0
    assert p.dead_letters == [DeadLetter(0, 1, "Offset rejected by client.")]
    p.archive_dead_letters([0])
    assert p.start == 2 and p.dead_letters == []


def test_snapshot_keeps_delivery_counts_and_releases_locks():
    p = SharePartition(5)
    p.acquire("m1", [(5, 9)], max_records=10, now_ms=0, limits=DLQ)
    p.acknowledge("m1", [(6, 6, [Ack.ACCEPT]), (7, 7, [Ack.REJECT]), (8, 8, [Ack.RELEASE])], now_ms=0, limits=DLQ)
    q = SharePartition.restore(p.snapshot(), DLQ)
    assert (q.start, q.end) == (5, 10)
    assert [q.state(o) for o in range(5, 10)] == [RecordState.AVAILABLE, RecordState.ACKNOWLEDGED,
                                                  RecordState.ARCHIVING, RecordState.AVAILABLE, RecordState.AVAILABLE]
    assert [q.delivery_count(o) for o in range(5, 10)] == [1, 1, 1, 1, 1]
    assert q.dead_letters == [DeadLetter(7, 1, "Offset rejected by client.")]
    assert q.acquire("m2", [(5, 9)], max_records=10, now_ms=0, limits=DLQ) == [
        AcquiredRecords(5, 5, 2), AcquiredRecords(8, 9, 2)]


def test_log_start_offset_pulls_the_spso_up():
    p = SharePartition(0)
    p.acquire("m1", [(0, 4)], max_records=10, now_ms=0, limits=LIMITS)
    p.advance_start_to(3)
    assert (p.start, p.end) == (3, 5)
    p.advance_start_to(9)
    assert (p.start, p.end) == (9, 9)

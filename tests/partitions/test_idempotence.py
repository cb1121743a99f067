"""Idempotent producers: duplicates, sequence gaps, epochs, wrap-around and persistence, on both engines."""

from __future__ import annotations

import pytest

from partitions.log import StagedAppend
from partitions.producers import MAX_SEQUENCE, decrement_sequence, increment_sequence
from tests.partitions.conftest import T0, batch, idempotent
from wire.errors import ErrorCode, KafkaError

PID = 4000
MIB = 1 << 20


def duplicate(base_offset: int, records: int) -> tuple[int, int, int, bool]:
    """A duplicate's answer: the original base offset and, as Kafka answers, the stored batch's max timestamp
    as log_append_time_ms (the idempotent() batches have timestamps T0, T0+1, ...)."""
    return base_offset, T0 + records - 1, 0, True


def error_of(call, *args) -> ErrorCode:
    with pytest.raises(KafkaError) as raised:
        call(*args)
    return raised.value.code


@pytest.fixture
def log(logs):
    return logs.create_topic("t", 2).partitions[0]


def test_a_retried_batch_gets_its_original_offset_and_is_not_stored_twice(log):
    assert log.append(idempotent([b"a", b"b", b"c"], PID, 0, 0), T0).base_offset == 0
    assert log.append(idempotent([b"d", b"e"], PID, 0, 3), T0).base_offset == 3
    stored = log.read(0, MIB)
    retry = log.append(idempotent([b"a", b"b", b"c"], PID, 0, 0), T0 + 99)
    assert (retry.base_offset, retry.duplicate) == (0, True)
    retry = log.append(idempotent([b"d", b"e"], PID, 0, 3), T0 + 99)
    assert (retry.base_offset, retry.duplicate) == (3, True)
    assert (log.high_watermark, log.read(0, MIB)) == (5, stored)
    assert log.append(idempotent([b"f"], PID, 0, 5), T0).base_offset == 5


def test_a_duplicate_wakes_no_listener(log):
    log.append(idempotent([b"a"], PID, 0, 0), T0)
    heard = []
    log.listeners.append(heard.append)
    assert log.append(idempotent([b"a"], PID, 0, 0), T0).duplicate
    assert heard == []


def test_a_sequence_gap_is_out_of_order(log):
    log.append(idempotent([b"a", b"b"], PID, 0, 0), T0)
    assert error_of(log.append, idempotent([b"x"], PID, 0, 3), T0) == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert error_of(log.append, idempotent([b"x"], PID, 0, 1), T0) == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert log.high_watermark == 2
    assert log.append(idempotent([b"c"], PID, 0, 2), T0).base_offset == 2


def test_an_older_epoch_is_refused(log):
    log.append(idempotent([b"a"], PID, 3, 0), T0)
    assert error_of(log.append, idempotent([b"b"], PID, 2, 1), T0) == ErrorCode.INVALID_PRODUCER_EPOCH
    assert error_of(log.append, idempotent([b"a"], PID, 2, 0), T0) == ErrorCode.INVALID_PRODUCER_EPOCH
    assert log.high_watermark == 1


def test_a_new_epoch_starts_at_sequence_zero(log):
    log.append(idempotent([b"a", b"b"], PID, 0, 0), T0)
    assert error_of(log.append, idempotent([b"c"], PID, 1, 2), T0) == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert log.append(idempotent([b"c"], PID, 1, 0), T0).base_offset == 2
    assert error_of(log.append, idempotent([b"d"], PID, 0, 2), T0) == ErrorCode.INVALID_PRODUCER_EPOCH
    assert log.append(idempotent([b"d"], PID, 1, 1), T0).base_offset == 3
    # the old epoch's batches are forgotten: a retry of one is refused, not answered as a duplicate
    assert error_of(log.append, idempotent([b"a", b"b"], PID, 0, 0), T0) == ErrorCode.INVALID_PRODUCER_EPOCH


def test_a_new_epoch_forgets_the_old_epochs_batches(log):
    log.append(idempotent([b"a", b"b"], PID, 0, 0), T0)                     # epoch 0, seqs 0-1: offsets 0-1
    assert log.append(idempotent([b"c", b"d"], PID, 1, 0), T0).base_offset == 2   # epoch 1, seqs 0-1 again
    assert log.append(idempotent([b"c", b"d"], PID, 1, 0), T0) == duplicate(2, 2)


def test_an_unknown_producer_is_accepted_at_any_sequence_as_in_kafka(log):
    # Kafka 2.5+ (KIP-360): no state for the producer here (e.g. removed by retention): accept, then enforce.
    assert log.append(idempotent([b"a"], PID, 0, 17), T0).base_offset == 0
    assert error_of(log.append, idempotent([b"b"], PID, 0, 19), T0) == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert log.append(idempotent([b"b"], PID, 0, 18), T0).base_offset == 1


def test_only_the_last_five_batches_are_remembered(log):
    for seq in range(6):
        log.append(idempotent([b"%d" % seq], PID, 0, seq), T0)
    assert error_of(log.append, idempotent([b"0"], PID, 0, 0), T0) == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    for seq in range(1, 6):
        assert log.append(idempotent([b"%d" % seq], PID, 0, seq), T0) == duplicate(seq, 1)
    assert log.high_watermark == 6


def test_sequences_wrap_after_int32_max(log):
    assert (increment_sequence(MAX_SEQUENCE - 1, 3), decrement_sequence(1, 3)) == (1, MAX_SEQUENCE - 1)
    log.append(idempotent([b"a", b"b"], PID, 0, MAX_SEQUENCE - 1), T0)        # seqs MAX-1, MAX
    wrapping = idempotent([b"c", b"d", b"e"], PID, 0, 0)                        # seqs 0..2
    assert log.append(wrapping, T0).base_offset == 2
    straddling = idempotent([b"f", b"g"], PID, 0, 3)
    assert log.append(straddling, T0).base_offset == 5
    assert log.append(wrapping, T0) == duplicate(2, 3)
    assert log.append(idempotent([b"a", b"b"], PID, 0, MAX_SEQUENCE - 1), T0) == duplicate(0, 2)


def test_a_batch_that_wraps_inside_is_deduplicated(log):
    crossing = idempotent([b"a", b"b", b"c"], PID, 0, MAX_SEQUENCE)             # seqs MAX, 0, 1
    assert log.append(crossing, T0).base_offset == 0
    assert log.append(idempotent([b"d"], PID, 0, 2), T0).base_offset == 3
    assert log.append(crossing, T0) == duplicate(0, 3)


def test_producers_and_partitions_are_tracked_separately(logs):
    topic = logs.create_topic("p", 2)
    first, second = topic.partitions
    first.append(idempotent([b"a"], PID, 0, 0), T0)
    assert second.append(idempotent([b"a"], PID, 0, 0), T0).duplicate is False
    assert first.append(idempotent([b"a"], PID + 1, 0, 0), T0).duplicate is False
    assert first.append(idempotent([b"a"], PID, 0, 0), T0).duplicate is True


def test_plain_batches_are_never_deduplicated(log):
    plain = batch([b"a"])
    assert [log.append(plain, T0).base_offset for _ in range(3)] == [0, 1, 2]


def test_several_batches_of_one_producer_in_one_append(log):
    two = idempotent([b"a", b"b"], PID, 0, 0) + idempotent([b"c"], PID, 0, 2)
    assert log.append(two, T0).base_offset == 0
    assert log.high_watermark == 3
    gap = idempotent([b"d"], PID, 0, 3) + idempotent([b"e"], PID, 0, 5)
    assert error_of(log.append, gap, T0) == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    # Kafka answers an append holding a stored batch with that batch's offsets and stores nothing
    new_then_duplicate = idempotent([b"d"], PID, 0, 3) + idempotent([b"c"], PID, 0, 2)
    assert log.append(new_then_duplicate, T0) == duplicate(2, 1)
    assert log.high_watermark == 3
    assert log.append(idempotent([b"d"], PID, 0, 3), T0).base_offset == 3


def test_a_duplicate_on_a_log_append_time_topic_reports_the_original_time(logs):
    log = logs.create_topic("stamped", 1, {"message.timestamp.type": "LogAppendTime"}).partitions[0]
    log.append(batch([b"filler"]), T0)
    assert log.append(idempotent([b"a"], PID, 0, 0), T0 + 1000) == (1, T0 + 1000, 0, False)
    assert log.append(idempotent([b"a"], PID, 0, 0), T0 + 5000) == (1, T0 + 1000, 0, True)


def test_producer_state_survives_reopen(engine):
    log = engine.open().create_topic("t", 1).partitions[0]
    for seq in range(0, 12, 2):
        log.append(idempotent([b"x", b"y"], PID, 7, seq), T0)
    log.append(idempotent([b"z"], PID + 1, 2, 0), T0)
    log = engine.reopen().partition("t", 0)
    assert log.high_watermark == 13
    assert log.append(idempotent([b"x", b"y"], PID, 7, 10), T0) == duplicate(10, 2)
    assert log.append(idempotent([b"x", b"y"], PID, 7, 4), T0) == duplicate(4, 2)
    assert error_of(log.append, idempotent([b"x"], PID, 7, 13), T0) == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert error_of(log.append, idempotent([b"x"], PID, 6, 0), T0) == ErrorCode.INVALID_PRODUCER_EPOCH
    assert log.append(idempotent([b"z"], PID + 1, 2, 0), T0) == duplicate(12, 1)
    assert log.append(idempotent([b"w"], PID, 7, 12), T0).base_offset == 13
    log = engine.reopen().partition("t", 0)
    assert log.append(idempotent([b"w"], PID, 7, 12), T0) == duplicate(13, 1)


def test_a_refused_batch_leaves_producer_state_unchanged(engine):
    log = engine.open().create_topic("t", 1).partitions[0]
    log.append(idempotent([b"a"], PID, 0, 0), T0)
    damaged = bytearray(idempotent([b"b"], PID, 0, 1))
    damaged[-1] ^= 1
    assert error_of(log.append, bytes(damaged), T0) == ErrorCode.CORRUPT_MESSAGE
    bumped_then_gap = idempotent([b"b"], PID, 1, 0) + idempotent([b"c"], PID, 1, 5)
    assert error_of(log.append, bumped_then_gap, T0) == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    log = engine.reopen().partition("t", 0)
    assert log.append(idempotent([b"b"], PID, 0, 1), T0).base_offset == 1  # epoch 0 still current


def test_a_staged_append_never_stored_records_no_sequence(log):
    """A Produce staged and then abandoned (its connection closed, its handler cancelled before the
    storage write) leaves no trace: the producer's retry, or its next batch reusing the sequence, is
    appended, not answered as a duplicate of records that were never stored."""
    log.append(idempotent([b"a", b"b"], PID, 0, 0), T0)
    abandoned = log.stage_append(idempotent([b"c", b"d"], PID, 0, 2), T0)
    assert isinstance(abandoned, StagedAppend)  # validated, offsets assigned, never written nor committed
    appended = log.append(idempotent([b"x", b"y"], PID, 0, 2), T0)
    assert (appended.base_offset, appended.duplicate, log.high_watermark) == (2, False, 4)
    assert log.producers()[PID].last_seq == 3


def test_a_duplicate_matches_the_first_and_the_last_sequence(log):
    """Kafka's ProducerStateEntry matches a stored batch by both ends of its sequence range: a batch
    that shares only its first sequence with a stored one is out of order, not a duplicate."""
    log.append(idempotent([b"a", b"b", b"c"], PID, 0, 0), T0)
    assert error_of(log.append, idempotent([b"a", b"b"], PID, 0, 0), T0) == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert error_of(log.append, idempotent([b"b", b"c"], PID, 0, 1), T0) == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert log.append(idempotent([b"a", b"b", b"c"], PID, 0, 0), T0) == duplicate(0, 3)
    assert log.high_watermark == 3

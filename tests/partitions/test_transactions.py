"""Partition side of transactions: LSO, markers, the aborted index and their persistence, on both engines."""

from __future__ import annotations

import pytest

from tests.partitions.conftest import T0, idempotent
from wire.errors import ErrorCode, KafkaError
from wire.records import CONTROL_MASK, iter_batches, iter_records, read_header

A, B = 7000, 7001
MIB = 1 << 20


def txn(values, producer_id, sequence, epoch=0):
    return idempotent(values, producer_id, epoch, sequence, transactional=True)


def marker(log, producer_id, commit, epoch=0):
    return log.append_control(producer_id, epoch, commit=commit, coordinator_epoch=0, now_ms=T0)


@pytest.fixture
def log(logs):
    return logs.create_topic("t", 1).partitions[0]


def test_the_three_offsets_and_a_commit(log):
    log.append(idempotent([b"plain"], 1, 0, 0), T0)
    assert (log.log_end_offset, log.high_watermark, log.last_stable_offset) == (1, 1, 1)
    log.append(txn([b"a", b"b"], A, 0), T0)
    assert (log.log_end_offset, log.high_watermark, log.last_stable_offset) == (3, 3, 1)
    log.append(txn([b"c"], A, 2), T0)
    assert (log.high_watermark, log.last_stable_offset) == (4, 1)
    assert marker(log, A, True) == 4
    assert (log.log_end_offset, log.high_watermark, log.last_stable_offset) == (5, 5, 5)
    assert log.transactions.aborted_overlapping(0, log.read(0, MIB)) == []


def test_the_lso_is_the_oldest_open_transaction(log):
    log.append(txn([b"a"], A, 0), T0)
    log.append(txn([b"b"], B, 0), T0)
    assert log.last_stable_offset == 0
    marker(log, A, True)
    assert log.last_stable_offset == 1  # B's transaction still pins it
    marker(log, B, False)
    assert log.last_stable_offset == log.high_watermark == 4


def test_a_marker_is_one_control_record_with_kafkas_key_and_value(log):
    log.append(txn([b"a"], A, 0), T0)
    marker(log, A, False, epoch=3)
    header, view = list(iter_batches(log.read(1, MIB)))[0]
    assert header.attributes & CONTROL_MASK and header.is_transactional
    assert (header.producer_id, header.producer_epoch, header.base_sequence, header.record_count) == (A, 3, -1, 1)
    (record,) = iter_records(view)
    assert (record.key, record.value) == (b"\x00\x00\x00\x00", b"\x00\x00\x00\x00\x00\x00")  # ABORT, epoch 0


def test_an_abort_is_indexed_and_answers_overlapping_reads_only(log):
    log.append(txn([b"a", b"b"], A, 0), T0)   # 0-1
    marker(log, A, False)                      # 2
    log.append(txn([b"c"], B, 0), T0)         # 3
    marker(log, B, True)                       # 4
    log.append(txn([b"d"], A, 2), T0)         # 5
    marker(log, A, False)                      # 6
    everything = log.read(0, MIB)
    assert log.transactions.aborted_overlapping(0, everything) == [
        {"producer_id": A, "first_offset": 0}, {"producer_id": A, "first_offset": 5}]
    assert log.transactions.aborted_overlapping(3, log.read(3, MIB)) == [{"producer_id": A, "first_offset": 5}]
    first_two = log.read(0, 1)  # only the first batch (offsets 0-1)
    assert read_header(first_two).last_offset_delta == 1
    assert log.transactions.aborted_overlapping(0, first_two) == [{"producer_id": A, "first_offset": 0}]
    assert log.transactions.aborted_overlapping(7, b"") == []


def test_a_non_transactional_write_inside_an_open_transaction_is_refused(log):
    log.append(txn([b"a"], A, 0), T0)
    with pytest.raises(KafkaError) as raised:
        log.append(idempotent([b"x"], A, 0, 1), T0)
    assert raised.value.code == ErrorCode.INVALID_TXN_STATE
    assert log.high_watermark == 1


def test_a_fencing_marker_raises_the_epoch_so_the_old_one_is_refused(log):
    log.append(txn([b"a"], A, 0, epoch=0), T0)
    marker(log, A, False, epoch=1)
    with pytest.raises(KafkaError) as raised:
        log.append(txn([b"zombie"], A, 1, epoch=0), T0)
    assert raised.value.code == ErrorCode.INVALID_PRODUCER_EPOCH
    assert log.append(txn([b"new"], A, 0, epoch=2), T0).base_offset == 2


def test_the_same_epoch_keeps_its_sequence_across_transactions(log):
    log.append(txn([b"a", b"b"], A, 0), T0)
    marker(log, A, True)
    assert log.append(txn([b"c"], A, 2), T0).base_offset == 3
    assert log.append(txn([b"c"], A, 2), T0).duplicate


def test_a_marker_wakes_waiting_readers(log):
    log.append(txn([b"a"], A, 0), T0)
    heard = []
    log.listeners.append(heard.append)
    marker(log, A, True)
    assert heard == [log]


def test_a_marker_with_no_data_here_is_stored_but_indexes_nothing(log):
    marker(log, A, False)
    assert (log.high_watermark, log.last_stable_offset, len(log.transactions)) == (1, 1, 0)


def test_open_and_aborted_transactions_survive_a_reopen(engine, log):
    log.append(txn([b"a"], A, 0), T0)
    marker(log, A, False)
    log.append(txn([b"b"], B, 0), T0)
    log.append(txn([b"c"], A, 1), T0)
    reopened = engine.reopen().partition("t", 0)
    assert (reopened.high_watermark, reopened.last_stable_offset) == (4, 2)
    assert reopened.transactions.aborted_overlapping(0, reopened.read(0, MIB)) == [{"producer_id": A,
                                                                                    "first_offset": 0}]
    marker(reopened, B, True)
    marker(reopened, A, True)
    assert engine.reopen().partition("t", 0).last_stable_offset == 6


def test_the_overlap_search_finds_a_long_transaction_behind_short_ones(log):
    log.append(txn([b"long"], A, 0), T0)                        # 0: A opens
    for i in range(3):
        log.append(txn([b"short"], B, i), T0)                   # 1, 3, 5
        marker(log, B, False)                                   # 2, 4, 6
    marker(log, A, False)                                       # 7: A's span is [0, 7]
    log.append(idempotent([b"plain"], 9, 0, 0), T0)             # 8
    assert log.transactions.aborted_between(1, 2) == [(B, 1, 2), (A, 0, 7)]
    assert log.transactions.aborted_between(8, 9) == []
    first = log.read(1, 1)
    assert log.transactions.aborted_overlapping(1, first) == [{"producer_id": B, "first_offset": 1},
                                                              {"producer_id": A, "first_offset": 0}]

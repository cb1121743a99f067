"""The transaction coordinator as a state machine: every transition and error code, with injected time."""

from __future__ import annotations

import itertools

import pytest

from gateway.groups.store import MemoryGroupStore
from gateway.txn import TransactionCoordinator, TxnConfig
from gateway.txn.coordinator import MARKER_RETRY_MS
from gateway.txn.state import (
    COMPLETE_ABORT, COMPLETE_COMMIT, EMPTY, ONGOING, PREPARE_ABORT, PREPARE_COMMIT, PREPARE_EPOCH_FENCE,
    TransactionMetadata, txn_key,
)
from wire.errors import ErrorCode as E, KafkaError

T0 = 1_000_000
TIMEOUT = 60_000
SWEEP = 10_000
TP = [("t", 0), ("t", 1)]


class Writer:
    """A MarkerWriter that records what it is asked (and the stored state at that moment), and stores the
    completed state it is handed unless it fails or defers (as the broker's writer does in one write)."""

    def __init__(self, store) -> None:
        self.store = store
        self.calls = []
        self.defer = False
        self.fail = 0

    def write(self, markers, now_ms):
        stored = TransactionMetadata.from_bytes(markers.transactional_id,
                                                dict(self.store.scan(b"X"))[txn_key(markers.transactional_id)])
        self.calls.append((markers, stored.state))
        if self.fail:
            self.fail -= 1
            raise OSError("disk on fire")
        if not self.defer:
            self.store.put(*markers.completion)
        return not self.defer


class Harness:
    def __init__(self, store=None, **config) -> None:
        self.store = store if store is not None else MemoryGroupStore()
        self.writer = Writer(self.store)
        self.committed = []
        self.ids = itertools.count(100)
        self.coordinator = TransactionCoordinator(
            TxnConfig(**config), self.store, lambda: next(self.ids), self.writer,
            lambda group, topics, now: self.committed.append((group, topics, now)), T0)

    def reopened(self, now=T0, **config) -> Harness:
        again = Harness(self.store, **config)
        again.ids = self.ids
        again.coordinator.recover(now)
        return again

    def __getattr__(self, name):
        return getattr(self.coordinator, name)

    def init(self, tid="tx", timeout=TIMEOUT, pid=-1, epoch=-1, now=T0):
        return self.coordinator.init_producer_id(tid, timeout, pid, epoch, now_ms=now)

    def begin(self, tid="tx", partitions=TP, now=T0):
        result = self.init(tid, now=now)
        assert self.add(tid, result.producer_id, result.producer_epoch, partitions, now=now) == E.NONE
        return result.producer_id, result.producer_epoch

    def add(self, tid, pid, epoch, partitions=TP, now=T0):
        return self.coordinator.add_partitions(tid, pid, epoch, partitions, now_ms=now)

    def end(self, tid, pid, epoch, commit=True, now=T0):
        return self.coordinator.end_txn(tid, pid, epoch, commit, now_ms=now)

    def state(self, tid="tx"):
        return self.coordinator.txns[tid].state


@pytest.fixture
def h():
    return Harness()


# -- InitProducerId

def test_a_new_transactional_id_gets_a_producer_id_at_epoch_0_stored_empty(h):
    result = h.init()
    assert (result.error_code, result.producer_id, result.producer_epoch) == (E.NONE, 100, 0)
    assert h.reopened().state() == EMPTY


@pytest.mark.parametrize("timeout", [0, -1, 900001])
def test_a_timeout_out_of_range_is_invalid_transaction_timeout(h, timeout):
    assert h.init(timeout=timeout).error_code == E.INVALID_TRANSACTION_TIMEOUT
    assert "tx" not in h.txns


def test_the_maximum_timeout_is_configurable(h):
    assert h.init(timeout=900000).error_code == E.NONE
    assert Harness(transaction_max_timeout_ms=1000).init(timeout=1001).error_code == E.INVALID_TRANSACTION_TIMEOUT


def test_an_empty_transactional_id_is_an_invalid_request(h):
    assert h.init(tid="").error_code == E.INVALID_REQUEST
    assert h.end("", 1, 0) == E.INVALID_REQUEST


def test_init_again_bumps_the_epoch_and_keeps_the_producer_id(h):
    first = h.init()
    second = h.init()
    assert (second.producer_id, second.producer_epoch) == (first.producer_id, 1)
    assert h.end("tx", first.producer_id, 0) == E.PRODUCER_FENCED


def test_kip_360_current_pair_bumps_previous_pair_is_a_retry_anything_else_is_fenced(h):
    pid = h.init().producer_id
    bumped = h.init(pid=pid, epoch=0)
    assert (bumped.error_code, bumped.producer_epoch) == (E.NONE, 1)
    retried = h.init(pid=pid, epoch=0)  # the answer was lost: the same pair again, no second bump
    assert (retried.error_code, retried.producer_id, retried.producer_epoch) == (E.NONE, pid, 1)
    assert h.init(pid=pid, epoch=7).error_code == E.PRODUCER_FENCED
    assert h.init(pid=pid + 50, epoch=1).error_code == E.INVALID_PRODUCER_ID_MAPPING
    assert h.init(pid=pid, epoch=1).producer_epoch == 2


def test_an_exhausted_epoch_moves_to_a_new_producer_id(h):
    pid = h.init().producer_id
    h.txns["tx"].producer_epoch = 32766
    rotated = h.init(pid=pid, epoch=32766)
    assert (rotated.error_code, rotated.producer_epoch) == (E.NONE, 0) and rotated.producer_id != pid
    retried = h.init(pid=pid, epoch=32766)
    assert (retried.producer_id, retried.producer_epoch) == (rotated.producer_id, 0)
    assert h.check_produce(pid, 32766, "t", 0) == E.INVALID_PRODUCER_EPOCH


def test_init_while_ongoing_fences_and_aborts_with_the_bumped_epoch(h):
    pid, epoch = h.begin()
    h.stage_offsets("g", pid, [])
    result = h.init(now=T0 + 5)
    assert (result.error_code, result.producer_id, result.producer_epoch) == (E.NONE, pid, epoch + 2)
    (markers, stored), = h.writer.calls
    assert (markers.commit, markers.producer_epoch, markers.partitions, stored) == (False, epoch + 1, TP,
                                                                                    PREPARE_ABORT)
    assert h.state() == EMPTY and h.txns["tx"].partitions == set()
    assert h.end("tx", pid, epoch) == E.PRODUCER_FENCED
    assert h.add("tx", pid, epoch) == E.PRODUCER_FENCED
    assert h.check_produce(pid, epoch, "t", 0) == E.INVALID_PRODUCER_EPOCH
    assert h.init(pid=pid, epoch=epoch).error_code == E.PRODUCER_FENCED  # the zombie cannot come back


def test_init_while_markers_are_going_out_is_concurrent_transactions(h):
    pid, epoch = h.begin()
    h.writer.defer = True
    assert h.end("tx", pid, epoch) == E.NONE
    assert h.state() == PREPARE_COMMIT
    assert h.init().error_code == E.CONCURRENT_TRANSACTIONS
    h.markers_written("tx", T0)
    assert h.state() == COMPLETE_COMMIT and h.init().error_code == E.NONE


def test_a_fence_whose_markers_are_deferred_answers_concurrent_transactions(h):
    h.begin()
    h.writer.defer = True
    assert h.init().error_code == E.CONCURRENT_TRANSACTIONS
    assert h.state() == PREPARE_ABORT
    h.markers_written("tx", T0)
    assert h.state() == COMPLETE_ABORT


# -- AddPartitionsToTxn / AddOffsetsToTxn

def test_add_partitions_starts_the_transaction_and_is_idempotent(h):
    result = h.init()
    pid, epoch = result.producer_id, result.producer_epoch
    assert h.add("tx", pid, epoch, [("t", 0)], now=T0 + 10) == E.NONE
    assert (h.state(), h.txns["tx"].txn_start_ms) == (ONGOING, T0 + 10)
    assert h.add("tx", pid, epoch, [("t", 0)], now=T0 + 20) == E.NONE
    assert h.add("tx", pid, epoch, [("u", 3)], now=T0 + 30) == E.NONE
    assert h.txns["tx"].partitions == {("t", 0), ("u", 3)} and h.txns["tx"].txn_start_ms == T0 + 10
    assert h.reopened().txns["tx"].partitions == {("t", 0), ("u", 3)}


@pytest.mark.parametrize("tid, pid_delta, epoch_delta, code", [
    ("unknown", 0, 0, E.INVALID_PRODUCER_ID_MAPPING),
    ("tx", 1, 0, E.INVALID_PRODUCER_ID_MAPPING),
    ("tx", 0, -1, E.PRODUCER_FENCED),
    ("tx", 0, 1, E.PRODUCER_FENCED),
])
def test_add_partitions_and_offsets_refuse_the_wrong_producer(h, tid, pid_delta, epoch_delta, code):
    h.init()
    result = h.init()
    pid, epoch = result.producer_id + pid_delta, result.producer_epoch + epoch_delta
    assert h.add(tid, pid, epoch) == code
    assert h.add_offsets(tid, pid, epoch, "g", now_ms=T0) == code
    assert h.end(tid, pid, epoch) == code
    assert h.check_txn_offset_commit(tid, pid, epoch, "g") == code


def test_add_while_preparing_is_concurrent_transactions(h):
    pid, epoch = h.begin()
    h.writer.defer = True
    h.end("tx", pid, epoch)
    assert h.add("tx", pid, epoch) == E.CONCURRENT_TRANSACTIONS
    assert h.add_offsets("tx", pid, epoch, "g", now_ms=T0) == E.CONCURRENT_TRANSACTIONS


# -- EndTxn

def test_commit_persists_prepare_commit_before_the_markers_then_completes(h):
    pid, epoch = h.begin()
    assert h.end("tx", pid, epoch, True, now=T0 + 7) == E.NONE
    (markers, stored), = h.writer.calls
    assert (markers.commit, markers.producer_id, markers.producer_epoch, stored) == (True, pid, epoch,
                                                                                     PREPARE_COMMIT)
    txn = h.reopened().txns["tx"]
    assert (txn.state, txn.partitions, txn.txn_start_ms, txn.last_update_ms) == (COMPLETE_COMMIT, set(), -1, T0 + 7)


def test_a_retried_end_txn_succeeds_and_the_opposite_result_is_invalid_txn_state(h):
    pid, epoch = h.begin()
    assert h.end("tx", pid, epoch, True) == E.NONE
    assert h.end("tx", pid, epoch, True) == E.NONE
    assert h.end("tx", pid, epoch, False) == E.INVALID_TXN_STATE
    h.add("tx", pid, epoch)
    assert h.end("tx", pid, epoch, False) == E.NONE and h.state() == COMPLETE_ABORT
    assert h.end("tx", pid, epoch, False) == E.NONE
    assert h.end("tx", pid, epoch, True) == E.INVALID_TXN_STATE
    assert len(h.writer.calls) == 2


def test_end_txn_with_nothing_begun_is_invalid_txn_state(h):
    result = h.init()
    assert h.end("tx", result.producer_id, result.producer_epoch) == E.INVALID_TXN_STATE


def test_end_txn_while_its_markers_go_out(h):
    pid, epoch = h.begin()
    h.writer.defer = True
    h.end("tx", pid, epoch, True)
    assert h.end("tx", pid, epoch, True) == E.CONCURRENT_TRANSACTIONS
    assert h.end("tx", pid, epoch, False) == E.INVALID_TXN_STATE
    h.writer.defer = False
    h2 = Harness()
    pid2, epoch2 = h2.begin()
    h2.writer.defer = True
    h2.end("tx", pid2, epoch2, False)
    assert h2.end("tx", pid2, epoch2, False) == E.CONCURRENT_TRANSACTIONS
    assert h2.end("tx", pid2, epoch2, True) == E.INVALID_TXN_STATE


def test_a_failed_marker_write_stays_prepared_and_is_retried(h):
    pid, epoch = h.begin()
    h.writer.fail = 1
    assert h.end("tx", pid, epoch, True) == E.NONE  # the decision is stored: the commit will happen
    assert h.state() == PREPARE_COMMIT
    assert h.next_deadline() == T0 + MARKER_RETRY_MS
    h.tick(T0 + MARKER_RETRY_MS)
    assert h.state() == COMPLETE_COMMIT and len(h.writer.calls) == 2


# -- staged offsets

def test_staged_offsets_land_on_commit_only(h):
    pid, epoch = h.begin()
    assert h.check_txn_offset_commit("tx", pid, epoch, "g") == E.INVALID_TXN_STATE  # not added yet
    assert h.add_offsets("tx", pid, epoch, "g", now_ms=T0) == E.NONE
    assert h.check_txn_offset_commit("tx", pid, epoch, "g") == E.NONE
    h.stage_offsets("g", pid, [("t", 0, (42, 3, "meta"))])
    assert h.has_pending_offsets("g", "t", 0) and not h.has_pending_offsets("g", "t", 1)
    assert h.reopened().has_pending_offsets("g", "t", 0)
    h.end("tx", pid, epoch, True, now=T0 + 9)
    assert h.committed == [("g", [{"name": "t", "partitions": [
        {"partition_index": 0, "committed_offset": 42, "committed_leader_epoch": 3, "committed_metadata": "meta"}]}],
        T0 + 9)]
    assert not h.has_pending_offsets("g", "t", 0)
    h.add_offsets("tx", pid, epoch, "g", now_ms=T0)
    h.stage_offsets("g", pid, [("t", 0, (50, 3, ""))])
    h.end("tx", pid, epoch, False)
    assert len(h.committed) == 1 and not h.has_pending_offsets("g", "t", 0)
    assert not h.reopened().has_pending_offsets("g", "t", 0)


def test_offsets_only_transaction_sends_no_partition_markers_needed(h):
    pid = h.init().producer_id
    assert h.add_offsets("tx", pid, 0, "g", now_ms=T0) == E.NONE and h.state() == ONGOING
    h.end("tx", pid, 0, True)
    assert h.writer.calls[0][0].partitions == []


# -- Produce checks

def test_check_produce(h):
    pid, epoch = h.begin(partitions=[("t", 0)])
    assert h.check_produce(pid, epoch, "t", 0) == E.NONE
    assert h.check_produce(pid, epoch, "t", 1) == E.INVALID_TXN_STATE
    assert h.check_produce(pid + 99, 0, "t", 0) == E.INVALID_TXN_STATE
    assert h.check_produce(pid, epoch + 1, "t", 0) == E.INVALID_PRODUCER_EPOCH
    h.end("tx", pid, epoch)
    assert h.check_produce(pid, epoch, "t", 0) == E.INVALID_TXN_STATE  # committed: add it again first


# -- time

def test_a_timed_out_transaction_is_aborted_by_the_sweep_with_an_epoch_bump(h):
    h2 = Harness(transaction_abort_timed_out_transaction_cleanup_interval_ms=1000)
    pid, epoch = h2.begin(partitions=[("t", 0)], now=T0)
    h2.init("other", timeout=TIMEOUT, now=T0)
    assert h2.next_deadline() == T0 + 1000
    h2.tick(T0 + TIMEOUT - 1)
    assert h2.state() == ONGOING and h2.writer.calls == []
    h2.tick(T0 + TIMEOUT + 1000)
    (markers, stored), = h2.writer.calls
    assert (markers.commit, markers.producer_epoch, stored) == (False, epoch + 1, PREPARE_ABORT)
    txn = h2.txns["tx"]
    assert (txn.state, txn.producer_epoch) == (COMPLETE_ABORT, epoch + 1)
    assert h2.end("tx", pid, epoch, True) == E.PRODUCER_FENCED
    assert h2.state("other") == EMPTY  # nothing begun: nothing to time out
    recovered = h2.init(pid=pid, epoch=epoch)  # KIP-588: the timed-out producer may carry on at the new epoch
    assert (recovered.error_code, recovered.producer_epoch) == (E.NONE, epoch + 1)


def test_the_default_sweep_runs_every_10_seconds(h):
    assert h.next_deadline() == T0 + SWEEP


def test_a_transaction_with_only_added_partitions_times_out_too(h):
    h.begin()  # AddPartitionsToTxn and then nothing at all
    h.tick(T0 + TIMEOUT + SWEEP)
    assert h.state() == COMPLETE_ABORT


def test_transactional_ids_expire_after_transactional_id_expiration_ms(h):
    h2 = Harness(transactional_id_expiration_ms=5000,
                 transaction_remove_expired_transaction_cleanup_interval_ms=1000)
    h2.init("idle", now=T0)
    h2.begin("busy", now=T0)
    h2.tick(T0 + 4000)
    assert "idle" in h2.txns
    h2.tick(T0 + 5000)
    assert "idle" not in h2.txns and "busy" in h2.txns
    assert h2.describe("idle")["error_code"] == E.TRANSACTIONAL_ID_NOT_FOUND
    assert "idle" not in h2.reopened().txns


# -- recovery

@pytest.mark.parametrize("commit", [True, False])
def test_a_prepared_transaction_found_at_start_up_is_completed(h, commit):
    pid, epoch = h.begin()
    h.add_offsets("tx", pid, epoch, "g", now_ms=T0)
    h.stage_offsets("g", pid, [("t", 0, (5, -1, ""))])
    h.writer.defer = True  # "killed" after the decision was stored, before the markers
    h.end("tx", pid, epoch, commit)
    again = h.reopened(now=T0 + 100)
    (markers, stored), = again.writer.calls
    assert (markers.commit, markers.partitions, stored) == (commit, TP, PREPARE_COMMIT if commit else PREPARE_ABORT)
    assert again.state() == (COMPLETE_COMMIT if commit else COMPLETE_ABORT)
    assert [group for group, _, _ in again.committed] == (["g"] if commit else [])


def test_a_prepare_epoch_fence_found_at_start_up_is_aborted(h):
    pid, epoch = h.begin()
    h.writer.defer = True
    h.init()
    stored = h.txns["tx"]
    stored.state = PREPARE_EPOCH_FENCE  # as if killed between the fence and the abort
    h.store.put(txn_key("tx"), stored.to_bytes())
    again = h.reopened()
    assert again.writer.calls[0][0].commit is False and again.state() == COMPLETE_ABORT


def test_an_ongoing_transaction_resumes_its_timeout_after_a_restart(h):
    h.begin(now=T0)
    again = h.reopened(now=T0 + 30_000)
    assert again.state() == ONGOING and again.writer.calls == []
    again.tick(T0 + TIMEOUT - 1)
    assert again.state() == ONGOING
    again.tick(T0 + TIMEOUT + SWEEP)
    assert again.state() == COMPLETE_ABORT


# -- states, describe, list

def test_illegal_transitions_are_refused():
    txn = TransactionMetadata("x", 1, 0, 1000)
    with pytest.raises(KafkaError):
        txn.transition(PREPARE_COMMIT, T0)
    txn.transition(ONGOING, T0)
    with pytest.raises(KafkaError):
        txn.transition(COMPLETE_COMMIT, T0)
    txn.transition(PREPARE_EPOCH_FENCE, T0)
    txn.transition(PREPARE_ABORT, T0)
    txn.transition(COMPLETE_ABORT, T0)
    txn.transition(EMPTY, T0)


def test_describe_and_list(h):
    pid, epoch = h.begin("a", now=T0)
    h.init("b")
    described = h.describe("a")
    assert (described["transaction_state"], described["producer_id"], described["transaction_start_time_ms"],
            described["topics"]) == ("Ongoing", pid, T0, [{"topic": "t", "partitions": [0, 1]}])
    ids = lambda listed: sorted(t["transactional_id"] for t in listed[0])  # noqa: E731
    assert ids(h.list_transactions(now_ms=T0)) == ["a", "b"]
    assert ids(h.list_transactions(["Ongoing"], now_ms=T0)) == ["a"]
    assert h.list_transactions(["Bogus", "Empty"], now_ms=T0)[1] == ["Bogus"]
    assert ids(h.list_transactions(producer_ids=[pid], now_ms=T0)) == ["a"]
    assert ids(h.list_transactions(duration_ms=500, now_ms=T0 + 1000)) == ["a"]
    assert ids(h.list_transactions(duration_ms=5000, now_ms=T0 + 1000)) == []
    assert ids(h.list_transactions(matches=lambda tid: tid == "b", now_ms=T0)) == ["b"]

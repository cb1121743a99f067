"""The transaction coordinator (Kafka's TransactionCoordinator, transactions v1) as a sans-IO state machine.

Every call takes `now_ms`; the owner calls `tick(now_ms)` when `next_deadline()` comes (the timed-out
transaction sweep, the transactional id expiry sweep, a failed marker write's retry). Every state
change is written to the store before the call returns, so what a client was told survives kill -9.
Markers go out through a `MarkerWriter`: `write()` returns True once every COMMIT/ABORT marker is
stored together with the completed state it is handed (the broker's writer stores both in one write,
synchronously), or False, and the writer then calls `markers_written()` later (the coordinator then
stores the completed state itself); meanwhile the transaction is PrepareCommit/PrepareAbort and InitProducerId,
AddPartitionsToTxn, AddOffsetsToTxn and a retried EndTxn answer CONCURRENT_TRANSACTIONS. A writer that
raises leaves the transaction prepared; it is retried after MARKER_RETRY_MS (and on the next start).

Errors are returned as values. PRODUCER_FENCED is returned whatever the request's version: the
handlers turn it into INVALID_PRODUCER_EPOCH for versions that predate it, as Kafka does.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple, Protocol

import structlog

from gateway.groups.timers import Timers
from gateway.txn.offsets import PendingTxnOffsets, Staged, as_commit_topics
from gateway.txn.state import (
    COMPLETE_ABORT, COMPLETE_COMMIT, COMPLETED, DEAD, EMPTY, MAX_EPOCH, NO_PRODUCER_EPOCH, NO_PRODUCER_ID,
    NO_START_TIME, ONGOING, PREPARE_ABORT, PREPARE_COMMIT, PREPARE_EPOCH_FENCE, PREPARING, TXN_KEY,
    TransactionMetadata, TxnState, txn_key,
)
from wire.errors import ErrorCode

log = structlog.get_logger("ottla.txn")

MARKER_RETRY_MS = 1000
TIMEOUT_SWEEP_KEY = ("txn-timeouts",)
EXPIRY_SWEEP_KEY = ("txn-expiry",)


@dataclass(frozen=True)
class TxnConfig:
    """Kafka's broker configs of the same names (transaction.*, transactional.id.*)."""

    transaction_max_timeout_ms: int = 900000
    transaction_abort_timed_out_transaction_cleanup_interval_ms: int = 10000
    transactional_id_expiration_ms: int = 7 * 24 * 3600 * 1000
    transaction_remove_expired_transaction_cleanup_interval_ms: int = 3600000


class Markers(NamedTuple):
    """The markers one transaction's completion needs: one per partition, all with this producer and epoch."""

    transactional_id: str
    producer_id: int
    producer_epoch: int
    commit: bool
    partitions: list[tuple[str, int]]
    # The transactional id's CompleteCommit/CompleteAbort state (store key, value): stored with the markers
    completion: tuple[bytes, bytes] | None = None


class MarkerWriter(Protocol):
    def write(self, markers: Markers, now_ms: int) -> bool:
        """Write every marker and, in the same atomic write, `markers.completion`; True when all is stored,
        False when `markers_written` will be called later (and nothing of the completion is stored)."""


class InitResult(NamedTuple):
    error_code: ErrorCode
    producer_id: int = NO_PRODUCER_ID
    producer_epoch: int = NO_PRODUCER_EPOCH


CommitOffsets = Callable[[str, list[dict], int], None]  # (group id, topics, now_ms): a group's offsets land


def _is_current(txn: TransactionMetadata, producer_id: int, producer_epoch: int) -> bool:
    return producer_id == txn.producer_id and producer_epoch == txn.producer_epoch


def _is_previous(txn: TransactionMetadata, producer_id: int, producer_epoch: int) -> bool:
    return producer_id == txn.last_producer_id and producer_epoch == txn.last_producer_epoch != NO_PRODUCER_EPOCH


class TransactionCoordinator:
    def __init__(self, config: TxnConfig, store, next_producer_id: Callable[[], int], markers: MarkerWriter,
                 commit_offsets: CommitOffsets, now_ms: int) -> None:
        self.config = config
        self._store = store
        self._next_producer_id = next_producer_id
        self._markers = markers
        self._commit_offsets = commit_offsets
        self.timers = Timers()
        self.txns: dict[str, TransactionMetadata] = {}
        self._by_producer_id: dict[int, TransactionMetadata] = {}
        self.offsets = PendingTxnOffsets(store)
        for key, value in store.scan(TXN_KEY):
            transactional_id = key[len(TXN_KEY):].decode("utf-8")
            self._install(TransactionMetadata.from_bytes(transactional_id, value))
        self._schedule_sweeps(now_ms)

    def recover(self, now_ms: int) -> None:
        """Finish what a previous run left prepared: markers for PrepareCommit/PrepareAbort, the abort of a
        PrepareEpochFence. (Ongoing transactions simply keep their start time: the sweep times them out.)"""
        for txn in list(self.txns.values()):
            if txn.state == PREPARE_EPOCH_FENCE:
                log.info("txn_recovered", transactional_id=txn.transactional_id, state=str(txn.state))
                self._prepare(txn, PREPARE_ABORT, now_ms)
            elif txn.state in (PREPARE_COMMIT, PREPARE_ABORT):
                log.info("txn_recovered", transactional_id=txn.transactional_id, state=str(txn.state))
                self._send_markers(txn, now_ms)

    # -- InitProducerId

    def init_producer_id(self, transactional_id: str, timeout_ms: int, producer_id: int = NO_PRODUCER_ID,
                         producer_epoch: int = NO_PRODUCER_EPOCH, *, now_ms: int) -> InitResult:
        """InitProducerId with a transactional id. (producer_id, producer_epoch) from v3 (KIP-360): the
        current pair gets a bump, the previous pair (a retry) gets the current one, anything else is fenced."""
        if not transactional_id:
            return InitResult(ErrorCode.INVALID_REQUEST)
        if not 0 < timeout_ms <= self.config.transaction_max_timeout_ms:
            return InitResult(ErrorCode.INVALID_TRANSACTION_TIMEOUT)
        txn = self.txns.get(transactional_id)
        if txn is None:
            txn = TransactionMetadata(transactional_id, self._next_producer_id(), 0, timeout_ms, EMPTY,
                                      last_update_ms=now_ms)
            self._persist(txn)
            log.info("txn_producer_initialized", transactional_id=transactional_id, producer_id=txn.producer_id,
                     producer_epoch=0)
            return InitResult(ErrorCode.NONE, txn.producer_id, txn.producer_epoch)
        expected = producer_id != NO_PRODUCER_ID
        if expected:
            if producer_id not in (txn.producer_id, txn.last_producer_id):
                return InitResult(ErrorCode.INVALID_PRODUCER_ID_MAPPING)
            if not (_is_current(txn, producer_id, producer_epoch) or _is_previous(txn, producer_id, producer_epoch)):
                return InitResult(ErrorCode.PRODUCER_FENCED)
        if txn.state in PREPARING:
            return InitResult(ErrorCode.CONCURRENT_TRANSACTIONS)
        if txn.state == ONGOING:
            self._fence_and_abort(txn, now_ms, reason="init_producer_id")
            txn = self.txns[transactional_id]
            if txn.state != COMPLETE_ABORT:
                return InitResult(ErrorCode.CONCURRENT_TRANSACTIONS)  # markers still going out: retry
        new = self._copy(txn)
        new.timeout_ms = timeout_ms
        if not expected or _is_current(txn, producer_id, producer_epoch):
            if txn.epoch_exhausted:
                new.producer_id, new.producer_epoch = self._next_producer_id(), 0
            else:
                new.producer_epoch = txn.producer_epoch + 1
            new.last_producer_id = txn.producer_id
            new.last_producer_epoch = txn.producer_epoch if expected else NO_PRODUCER_EPOCH
        # else: a retry of the bump that answered (last_producer_id, last_producer_epoch): the current pair again
        new.transition(EMPTY, now_ms)
        new.partitions, new.groups, new.txn_start_ms = set(), set(), NO_START_TIME
        self._persist(new)
        log.info("txn_producer_initialized", transactional_id=transactional_id, producer_id=new.producer_id,
                 producer_epoch=new.producer_epoch)
        return InitResult(ErrorCode.NONE, new.producer_id, new.producer_epoch)

    # -- AddPartitionsToTxn / AddOffsetsToTxn

    def add_partitions(self, transactional_id: str, producer_id: int, producer_epoch: int,
                       partitions: Collection[tuple[str, int]], *, now_ms: int) -> ErrorCode:
        return self._add(transactional_id, producer_id, producer_epoch, set(partitions), set(), now_ms)

    def add_offsets(self, transactional_id: str, producer_id: int, producer_epoch: int, group_id: str, *,
                    now_ms: int) -> ErrorCode:
        return self._add(transactional_id, producer_id, producer_epoch, set(), {group_id}, now_ms)

    def _add(self, transactional_id, producer_id, producer_epoch, partitions, groups, now_ms) -> ErrorCode:
        txn, error = self._check(transactional_id, producer_id, producer_epoch)
        if error:
            return error
        if txn.state in PREPARING:
            return ErrorCode.CONCURRENT_TRANSACTIONS
        if txn.state == ONGOING and partitions <= txn.partitions and groups <= txn.groups:
            return ErrorCode.NONE
        new = self._copy(txn)
        if txn.state != ONGOING:
            new.txn_start_ms = now_ms
        new.partitions |= partitions
        new.groups |= groups
        new.transition(ONGOING, now_ms)
        self._persist(new)
        return ErrorCode.NONE

    # -- EndTxn

    def end_txn(self, transactional_id: str, producer_id: int, producer_epoch: int, committed: bool, *,
                now_ms: int) -> ErrorCode:
        txn, error = self._check(transactional_id, producer_id, producer_epoch)
        if error:
            return error
        state = txn.state
        wanted_prepare, wanted_complete = (PREPARE_COMMIT, COMPLETE_COMMIT) if committed else \
            (PREPARE_ABORT, COMPLETE_ABORT)
        if state == ONGOING:
            self._prepare(txn, wanted_prepare, now_ms)
            return ErrorCode.NONE
        if state == wanted_complete:
            return ErrorCode.NONE  # a retry of what is done
        if state == wanted_prepare:
            return ErrorCode.CONCURRENT_TRANSACTIONS
        return ErrorCode.INVALID_TXN_STATE

    # -- what other handlers ask

    def check_produce(self, producer_id: int, producer_epoch: int, topic: str, partition: int) -> ErrorCode:
        """A transactional batch may be appended only by the current epoch, to a partition in its transaction."""
        txn = self._by_producer_id.get(producer_id)
        if txn is None:
            return ErrorCode.INVALID_TXN_STATE
        if producer_id != txn.producer_id or producer_epoch != txn.producer_epoch:
            return ErrorCode.INVALID_PRODUCER_EPOCH
        if txn.state != ONGOING or (topic, partition) not in txn.partitions:
            return ErrorCode.INVALID_TXN_STATE
        return ErrorCode.NONE

    def check_txn_offset_commit(self, transactional_id: str, producer_id: int, producer_epoch: int,
                                group_id: str) -> ErrorCode:
        """Whether this producer may stage offsets for group_id now: its current epoch, in an Ongoing
        transaction that AddOffsetsToTxn added the group to."""
        txn, error = self._check(transactional_id, producer_id, producer_epoch)
        if error:
            return error
        if txn.state != ONGOING or group_id not in txn.groups:
            return ErrorCode.INVALID_TXN_STATE
        return ErrorCode.NONE

    def stage_offsets(self, group_id: str, producer_id: int, offsets: Sequence[tuple[str, int, Staged]]) -> None:
        """TxnOffsetCommit's offsets, once check_txn_offset_commit and the group's membership allowed them."""
        self.offsets.stage(group_id, producer_id, offsets)

    def has_pending_offsets(self, group_id: str, topic: str, partition: int) -> bool:
        return self.offsets.has_pending(group_id, topic, partition)

    # -- DescribeTransactions / ListTransactions

    def describe(self, transactional_id: str) -> dict:
        txn = self.txns.get(transactional_id)
        if txn is None:
            return {"error_code": ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, "transactional_id": transactional_id,
                    "transaction_state": "", "transaction_timeout_ms": 0, "transaction_start_time_ms": -1,
                    "producer_id": -1, "producer_epoch": -1, "topics": []}
        topics: dict[str, list[int]] = {}
        for topic, partition in txn.sorted_partitions():
            topics.setdefault(topic, []).append(partition)
        return {"error_code": ErrorCode.NONE, "transactional_id": transactional_id,
                "transaction_state": str(txn.state), "transaction_timeout_ms": txn.timeout_ms,
                "transaction_start_time_ms": txn.txn_start_ms, "producer_id": txn.producer_id,
                "producer_epoch": txn.producer_epoch,
                "topics": [{"topic": t, "partitions": p} for t, p in topics.items()]}

    def list_transactions(self, states: Collection[str] = (), producer_ids: Collection[int] = (),
                          duration_ms: int = -1, matches: Callable[[str], bool] | None = None, *,
                          now_ms: int) -> tuple[list[dict], list[str]]:
        """(transactions, unknown state filters): filters are ANDed, and an empty one matches everything;
        duration_ms >= 0 keeps the transactions running for longer than that."""
        known = {str(state) for state in TxnState}
        unknown = [state for state in states if state not in known]
        wanted_states, wanted_ids = set(states), set(producer_ids)
        listed = []
        for txn in self.txns.values():
            if wanted_states and str(txn.state) not in wanted_states:
                continue
            if wanted_ids and txn.producer_id not in wanted_ids:
                continue
            if duration_ms >= 0 and (txn.txn_start_ms == NO_START_TIME or now_ms - txn.txn_start_ms <= duration_ms):
                continue
            if matches is not None and not matches(txn.transactional_id):
                continue
            listed.append({"transactional_id": txn.transactional_id, "producer_id": txn.producer_id,
                           "transaction_state": str(txn.state)})
        return listed, unknown

    # -- time

    def tick(self, now_ms: int) -> None:
        self.timers.run_due(now_ms)

    def next_deadline(self) -> int | None:
        return self.timers.next_deadline()

    def markers_written(self, transactional_id: str, now_ms: int) -> None:
        """A deferring MarkerWriter reports that every marker of the prepared transaction is stored."""
        txn = self.txns.get(transactional_id)
        if txn is not None and txn.state in (PREPARE_COMMIT, PREPARE_ABORT):
            self._complete(txn, now_ms)

    # -- internals

    def _check(self, transactional_id: str, producer_id: int, producer_epoch: int):
        if not transactional_id:
            return None, ErrorCode.INVALID_REQUEST
        txn = self.txns.get(transactional_id)
        if txn is None or txn.producer_id != producer_id:
            return None, ErrorCode.INVALID_PRODUCER_ID_MAPPING
        if txn.producer_epoch != producer_epoch:
            return None, ErrorCode.PRODUCER_FENCED
        return txn, ErrorCode.NONE

    def _fence_and_abort(self, txn: TransactionMetadata, now_ms: int, *, reason: str) -> None:
        """Bump the epoch of an Ongoing transaction (the old producer is fenced) and abort it with markers at
        the bumped epoch, so the old epoch is refused on every partition it wrote to."""
        fenced = self._copy(txn)
        fenced.last_producer_id, fenced.last_producer_epoch = txn.producer_id, txn.producer_epoch
        fenced.producer_epoch = min(txn.producer_epoch + 1, MAX_EPOCH)
        fenced.transition(PREPARE_EPOCH_FENCE, now_ms)
        self._persist(fenced)
        log.info("txn_fenced", transactional_id=txn.transactional_id, producer_id=txn.producer_id,
                 fenced_epoch=txn.producer_epoch, producer_epoch=fenced.producer_epoch, reason=reason)
        self._prepare(fenced, PREPARE_ABORT, now_ms)

    def _prepare(self, txn: TransactionMetadata, state: TxnState, now_ms: int) -> None:
        """The two-phase commit's decision: persisted, then the markers go out."""
        new = self._copy(txn)
        new.transition(state, now_ms)
        self._persist(new)
        self._send_markers(new, now_ms)

    def _send_markers(self, txn: TransactionMetadata, now_ms: int) -> None:
        """The markers, with the completed state in the same write. A commit's staged offsets land first:
        should the markers' write not happen, the transaction stays prepared, and committing the same
        offsets again when it is retried (or on the next start) changes nothing."""
        self.timers.cancel(("markers", txn.transactional_id))
        commit = txn.state == PREPARE_COMMIT
        completed = self._completed(txn, now_ms)
        markers = Markers(txn.transactional_id, txn.producer_id, txn.producer_epoch, commit, txn.sorted_partitions(),
                          (txn_key(txn.transactional_id), completed.to_bytes()))
        try:
            for group_id in sorted(txn.groups) if commit else ():
                staged = self.offsets.staged(group_id, txn.producer_id)
                if staged:
                    self._commit_offsets(group_id, as_commit_topics(staged), now_ms)
            done = self._markers.write(markers, now_ms)
        except Exception as exc:  # a storage failure: stay prepared and try again
            log.warning("txn_markers_failed", transactional_id=txn.transactional_id, error=repr(exc))
            self.timers.schedule(("markers", txn.transactional_id), now_ms + MARKER_RETRY_MS,
                                 lambda at, tid=txn.transactional_id: self._retry_markers(tid, at))
            return
        if done:
            self._finish(txn, completed)

    def _retry_markers(self, transactional_id: str, now_ms: int) -> None:
        txn = self.txns.get(transactional_id)
        if txn is not None and txn.state in (PREPARE_COMMIT, PREPARE_ABORT):
            self._send_markers(txn, now_ms)

    def _completed(self, txn: TransactionMetadata, now_ms: int) -> TransactionMetadata:
        new = self._copy(txn)
        new.transition(COMPLETE_COMMIT if txn.state == PREPARE_COMMIT else COMPLETE_ABORT, now_ms)
        new.partitions, new.groups, new.txn_start_ms = set(), set(), NO_START_TIME
        return new

    def _complete(self, txn: TransactionMetadata, now_ms: int) -> None:
        """A deferring writer stored the markers (not the completed state): store it here."""
        completed = self._completed(txn, now_ms)
        self._store.put(txn_key(completed.transactional_id), completed.to_bytes())
        self._finish(txn, completed)

    def _finish(self, txn: TransactionMetadata, completed: TransactionMetadata) -> None:
        """The completed state is stored: drop the staged offsets, make it visible."""
        for group_id in sorted(txn.groups):
            self.offsets.discard(group_id, txn.producer_id)
        self._install(completed)
        # one line a transaction: debug, as Kafka's coordinator logs completions
        log.debug("txn_completed", transactional_id=txn.transactional_id, producer_id=txn.producer_id,
                 producer_epoch=txn.producer_epoch, result="commit" if completed.state == COMPLETE_COMMIT else "abort",
                 partitions=len(txn.partitions), groups=len(txn.groups))

    def _schedule_sweeps(self, now_ms: int) -> None:
        self._schedule_timeout_sweep(now_ms)
        self._schedule_expiry_sweep(now_ms)

    def _schedule_timeout_sweep(self, now_ms: int) -> None:
        self.timers.schedule(TIMEOUT_SWEEP_KEY,
                             now_ms + self.config.transaction_abort_timed_out_transaction_cleanup_interval_ms,
                             self._abort_timed_out)

    def _schedule_expiry_sweep(self, now_ms: int) -> None:
        self.timers.schedule(EXPIRY_SWEEP_KEY,
                             now_ms + self.config.transaction_remove_expired_transaction_cleanup_interval_ms,
                             self._expire_transactional_ids)

    def _abort_timed_out(self, now_ms: int) -> None:
        for txn in list(self.txns.values()):
            if txn.state == ONGOING and now_ms >= txn.txn_start_ms + txn.timeout_ms:
                self._fence_and_abort(txn, now_ms, reason="timeout")
        self._schedule_timeout_sweep(now_ms)

    def _expire_transactional_ids(self, now_ms: int) -> None:
        for txn in list(self.txns.values()):
            if txn.state in COMPLETED and now_ms - txn.last_update_ms >= self.config.transactional_id_expiration_ms:
                txn.transition(DEAD, now_ms)
                self._store.delete(txn_key(txn.transactional_id))
                del self.txns[txn.transactional_id]
                self._unindex(txn)
                log.info("txn_id_expired", transactional_id=txn.transactional_id, producer_id=txn.producer_id)
        self._schedule_expiry_sweep(now_ms)

    @staticmethod
    def _copy(txn: TransactionMetadata) -> TransactionMetadata:
        return replace(txn, partitions=set(txn.partitions), groups=set(txn.groups))

    def _persist(self, txn: TransactionMetadata) -> None:
        """Store, then make visible: nothing is answered from a state that is not stored."""
        self._store.put(txn_key(txn.transactional_id), txn.to_bytes())
        self._install(txn)

    def _install(self, txn: TransactionMetadata) -> None:
        old = self.txns.get(txn.transactional_id)
        if old is not None:
            self._unindex(old)
        self.txns[txn.transactional_id] = txn
        if txn.last_producer_id != NO_PRODUCER_ID:
            self._by_producer_id[txn.last_producer_id] = txn
        self._by_producer_id[txn.producer_id] = txn

    def _unindex(self, txn: TransactionMetadata) -> None:
        """Drop txn's producer ids from the index where they still point at it."""
        for producer_id in (txn.producer_id, txn.last_producer_id):
            if self._by_producer_id.get(producer_id) is txn:
                del self._by_producer_id[producer_id]

"""One transactional id's state (Kafka's TransactionMetadata), its legal transitions, and its stored form.

States and the states each may be entered from (Kafka's TransactionState, transactions v1):

    Empty             <- Empty, CompleteCommit, CompleteAbort
    Ongoing           <- Ongoing, Empty, CompleteCommit, CompleteAbort
    PrepareCommit     <- Ongoing
    PrepareAbort      <- Ongoing, PrepareEpochFence
    CompleteCommit    <- PrepareCommit
    CompleteAbort     <- PrepareAbort
    PrepareEpochFence <- Ongoing
    Dead              <- Empty, CompleteCommit, CompleteAbort

Stored (through the broker's state store) as one JSON value per transactional id under
TXN_KEY + <transactional id utf-8>: written before any answer that depends on it is sent.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field

from wire.errors import ErrorCode, KafkaError

TXN_KEY = b"X"
NO_PRODUCER_ID = -1
NO_PRODUCER_EPOCH = -1
NO_START_TIME = -1
MAX_EPOCH = 32767  # Short.MAX_VALUE: an epoch at MAX_EPOCH - 1 is exhausted (the next bump takes a new id)


class TxnState(enum.StrEnum):
    EMPTY = "Empty"
    ONGOING = "Ongoing"
    PREPARE_COMMIT = "PrepareCommit"
    PREPARE_ABORT = "PrepareAbort"
    COMPLETE_COMMIT = "CompleteCommit"
    COMPLETE_ABORT = "CompleteAbort"
    PREPARE_EPOCH_FENCE = "PrepareEpochFence"
    DEAD = "Dead"


EMPTY, ONGOING = TxnState.EMPTY, TxnState.ONGOING
PREPARE_COMMIT, PREPARE_ABORT = TxnState.PREPARE_COMMIT, TxnState.PREPARE_ABORT
COMPLETE_COMMIT, COMPLETE_ABORT = TxnState.COMPLETE_COMMIT, TxnState.COMPLETE_ABORT
PREPARE_EPOCH_FENCE, DEAD = TxnState.PREPARE_EPOCH_FENCE, TxnState.DEAD

VALID_PREVIOUS_STATES: dict[TxnState, frozenset[TxnState]] = {
    EMPTY: frozenset({EMPTY, COMPLETE_COMMIT, COMPLETE_ABORT}),
    ONGOING: frozenset({ONGOING, EMPTY, COMPLETE_COMMIT, COMPLETE_ABORT}),
    PREPARE_COMMIT: frozenset({ONGOING}),
    PREPARE_ABORT: frozenset({ONGOING, PREPARE_EPOCH_FENCE}),
    COMPLETE_COMMIT: frozenset({PREPARE_COMMIT}),
    COMPLETE_ABORT: frozenset({PREPARE_ABORT}),
    PREPARE_EPOCH_FENCE: frozenset({ONGOING}),
    DEAD: frozenset({EMPTY, COMPLETE_COMMIT, COMPLETE_ABORT}),
}
COMPLETED = frozenset({EMPTY, COMPLETE_COMMIT, COMPLETE_ABORT})
PREPARING = frozenset({PREPARE_COMMIT, PREPARE_ABORT, PREPARE_EPOCH_FENCE})


@dataclass
class TransactionMetadata:
    transactional_id: str
    producer_id: int
    producer_epoch: int
    timeout_ms: int
    state: TxnState = EMPTY
    last_producer_id: int = NO_PRODUCER_ID
    last_producer_epoch: int = NO_PRODUCER_EPOCH
    partitions: set[tuple[str, int]] = field(default_factory=set)
    groups: set[str] = field(default_factory=set)
    txn_start_ms: int = NO_START_TIME
    last_update_ms: int = 0

    def transition(self, state: TxnState, now_ms: int) -> None:
        """Move to `state` (the caller persists the result before answering); an illegal move is a bug."""
        if self.state not in VALID_PREVIOUS_STATES[state]:
            raise KafkaError(ErrorCode.INVALID_TXN_STATE,
                             f"transactional id {self.transactional_id}: no transition from {self.state} to {state}")
        self.state = state
        self.last_update_ms = now_ms

    @property
    def epoch_exhausted(self) -> bool:
        return self.producer_epoch >= MAX_EPOCH - 1

    def sorted_partitions(self) -> list[tuple[str, int]]:
        return sorted(self.partitions)

    def to_bytes(self) -> bytes:
        return json.dumps({
            "v": 0, "pid": self.producer_id, "epoch": self.producer_epoch, "last_pid": self.last_producer_id,
            "last_epoch": self.last_producer_epoch, "timeout_ms": self.timeout_ms, "state": str(self.state),
            "partitions": [[t, p] for t, p in self.sorted_partitions()], "groups": sorted(self.groups),
            "start_ms": self.txn_start_ms, "update_ms": self.last_update_ms,
        }, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_bytes(cls, transactional_id: str, data: bytes) -> TransactionMetadata:
        d = json.loads(data)
        if d.get("v") != 0:
            raise ValueError(f"unknown transaction state record version {d.get('v')}")
        return cls(transactional_id, d["pid"], d["epoch"], d["timeout_ms"], TxnState(d["state"]), d["last_pid"],
                   d["last_epoch"], {(t, p) for t, p in d["partitions"]}, set(d["groups"]), d["start_ms"],
                   d["update_ms"])


def txn_key(transactional_id: str) -> bytes:
    return TXN_KEY + transactional_id.encode("utf-8")

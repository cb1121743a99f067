"""Transactions: every transactional id the coordinator holds, open ones first."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.txn.state import COMPLETED


@dataclass(frozen=True)
class TransactionView:
    transactional_id: str
    producer_id: int
    producer_epoch: int
    state: str
    open: bool  # Ongoing or being completed (holds the last stable offset of its partitions back)
    timeout_ms: int
    started_ms: int  # -1 when no transaction is running
    partitions: list[tuple[str, int]]
    groups: list[str]


def list_transactions(broker, *, open_only: bool = False) -> list[TransactionView]:
    views = []
    for txn in broker.txn.txns.values():
        is_open = txn.state not in COMPLETED
        if open_only and not is_open:
            continue
        views.append(TransactionView(txn.transactional_id, txn.producer_id, txn.producer_epoch, str(txn.state),
                                     is_open, txn.timeout_ms, txn.txn_start_ms, txn.sorted_partitions(),
                                     sorted(txn.groups)))
    return sorted(views, key=lambda v: (not v.open, v.transactional_id))

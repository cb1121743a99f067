"""The transaction scenarios every client module runs (test_txn_*.py), each through that client's own calls.

A client supplies `TxnCalls`: run transactions, read a partition read_committed or read_uncommitted,
and consume-transform-produce once with its send_offsets_to_transaction. The group's committed offset
is read through kafka-python's admin client, which works against any broker.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Callable

from compat_tests import samples, topics

# Short enough for a test, long enough that nothing times out while a slow client runs its transaction.
TXN_TIMEOUT_MS = 20_000


@dataclass(frozen=True)
class TxnCalls:
    # (bootstrap, topic, transactional_id, plan): for each ("commit" | "abort", [values]) one transaction that
    # writes the values to partition 0 (flushed, so an aborted one is stored too), then commits or aborts.
    run_transactions: Callable[[str, str, str, list[tuple[str, list[bytes]]]], None]
    # (bootstrap, topic, count, committed) -> [(offset, value)] of partition 0 from the start
    read: Callable[[str, str, int, bool], list[tuple[int, bytes]]]
    # (bootstrap, source, destination, group, transactional_id, commit): read every record of source partition
    # 0 as `group` (from its committed offset), write value.upper() to destination partition 0 and the
    # offset after the last record read to the group in one transaction, then commit or abort it
    transform: Callable[[str, str, str, str, str, bool], None]


def txn_id(client: str) -> str:
    return f"compat-txn-{client}-{uuid.uuid4().hex[:8]}"


def values(tag: str, n: int = 3) -> list[bytes]:
    return [f"{tag}-{i}".encode() for i in range(n)]


def commit_abort_commit(calls: TxnCalls, bootstrap: str, topic: str, client: str) -> None:
    """Commit, abort, commit again with one producer: read_committed sees exactly the committed records in
    order; read_uncommitted sees all of them (aborted ones included) in order."""
    first, aborted, second = values("c1"), values("aborted"), values("c2")
    calls.run_transactions(bootstrap, topic, txn_id(client), [("commit", first), ("abort", aborted),
                                                              ("commit", second)])
    committed = calls.read(bootstrap, topic, 6, True)
    assert [v for _, v in committed] == first + second
    everything = calls.read(bootstrap, topic, 9, False)
    assert [v for _, v in everything] == first + aborted + second
    offsets = [o for o, _ in everything]
    assert offsets == sorted(offsets) and len(set(offsets)) == 9
    # markers occupy offsets: one after each transaction, none shown as a record
    assert offsets[3] > offsets[2] + 1 and offsets[6] > offsets[5] + 1


def send_offsets_abort_then_commit(calls: TxnCalls, bootstrap: str, client: str) -> None:
    """Consume-transform-produce: an aborted transaction leaves the group's offset and output invisible;
    a committed one moves the offset and shows the output."""
    source = samples.unique_name(f"compat-txn-src-{client}")
    destination = samples.unique_name(f"compat-txn-dst-{client}")
    topics.create_topic(bootstrap, source)
    topics.create_topic(bootstrap, destination)
    group = samples.unique_name(f"compat-txn-group-{client}")
    inputs = values("in", 4)
    calls.run_transactions(bootstrap, source, txn_id(client), [("commit", inputs)])
    transactional_id = txn_id(client)
    calls.transform(bootstrap, source, destination, group, transactional_id, False)
    assert committed_offset(bootstrap, group, source) is None
    calls.transform(bootstrap, source, destination, group, transactional_id, True)
    assert committed_offset(bootstrap, group, source) == 4
    assert [v for _, v in calls.read(bootstrap, destination, 4, True)] == [v.upper() for v in inputs]
    assert [v for _, v in calls.read(bootstrap, destination, 8, False)] == [v.upper() for v in inputs] * 2


def committed_offset(bootstrap: str, group: str, topic: str) -> int | None:
    from kafka import TopicPartition

    admin = topics.admin_client(bootstrap)
    try:
        found = admin.list_group_offsets({group: [TopicPartition(topic, 0)]}).get(group, {})
    finally:
        admin.close()
    entry = found.get(TopicPartition(topic, 0))
    return None if entry is None or entry.offset < 0 else entry.offset


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.2)

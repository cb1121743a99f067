"""Transactions with kafkajs 2.2.4 (versions 0-1 of the transaction APIs; js/txn.js): commit/abort,
read_committed/uncommitted through kafkajs's own fetch and Batch filtering (js/fetch.js), sendOffsets."""

from __future__ import annotations

import pytest

from compat_tests import transactions
from compat_tests.test_kafkajs import node, pytestmark as kafkajs_marks

pytestmark = kafkajs_marks


def run_transactions(bootstrap, topic, transactional_id, plan) -> None:
    node("txn.js", bootstrap, action="run", topic=topic, transactionalId=transactional_id,
         plan=[[outcome, [v.decode() for v in values]] for outcome, values in plan],
         timeoutMs=transactions.TXN_TIMEOUT_MS)


def read(bootstrap, topic, count, committed, timeout_ms=5000) -> list[tuple[int, bytes]]:
    messages = node("fetch.js", bootstrap, topic=topic, count=count, timeoutMs=timeout_ms,
                    isolationLevel=1 if committed else 0)["messages"]
    return [(m["offset"], m["value"].encode()) for m in messages]


def transform(bootstrap, source, destination, group, transactional_id, commit) -> None:
    node("txn.js", bootstrap, action="transform", source=source, destination=destination, groupId=group,
         transactionalId=transactional_id, commit=commit, timeoutMs=transactions.TXN_TIMEOUT_MS)


CALLS = transactions.TxnCalls(run_transactions=run_transactions, read=read, transform=transform)


def test_commit_abort_commit_read_committed_and_uncommitted(bootstrap, topic):
    transactions.commit_abort_commit(CALLS, bootstrap, topic, "kafkajs")


@pytest.mark.groups
def test_send_offsets_moves_the_group_offset_only_on_commit(bootstrap):
    transactions.send_offsets_abort_then_commit(CALLS, bootstrap, "kafkajs")

"""Transactions with kafka-python 3.0.12 (InitProducerId v4, the other transaction APIs up to v3, KIP-447
group metadata in TxnOffsetCommit): commit/abort, read_committed/uncommitted, send_offsets_to_transaction."""

from __future__ import annotations

import time

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from compat_tests import transactions

TIMEOUTS = dict(request_timeout_ms=10_000, client_id="compat-kafka-python-txn")


def producer_for(bootstrap: str, transactional_id: str) -> KafkaProducer:
    producer = KafkaProducer(bootstrap_servers=bootstrap, transactional_id=transactional_id,
                             transaction_timeout_ms=transactions.TXN_TIMEOUT_MS, linger_ms=5, max_block_ms=15_000,
                             **TIMEOUTS)
    producer.init_transactions()
    return producer


def run_transactions(bootstrap, topic, transactional_id, plan) -> None:
    producer = producer_for(bootstrap, transactional_id)
    try:
        for outcome, batch in plan:
            producer.begin_transaction()
            for value in batch:
                producer.send(topic, value=value, partition=0)
            producer.flush(timeout=15)
            (producer.commit_transaction if outcome == "commit" else producer.abort_transaction)()
    finally:
        producer.close(timeout=5)


def consumer_for(bootstrap: str, committed: bool, group: str | None = None) -> KafkaConsumer:
    return KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                         auto_offset_reset="earliest", fetch_max_wait_ms=100,
                         isolation_level="read_committed" if committed else "read_uncommitted", **TIMEOUTS)


def poll(consumer: KafkaConsumer, count: int, timeout: float) -> list:
    records: list = []
    deadline = time.monotonic() + timeout
    while len(records) < count and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=200).values():
            records.extend(batch)
    return records


def read(bootstrap, topic, count, committed, timeout=5.0) -> list[tuple[int, bytes]]:
    consumer = consumer_for(bootstrap, committed)
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        return [(r.offset, r.value) for r in poll(consumer, count, timeout)]
    finally:
        consumer.close()


def transform(bootstrap, source, destination, group, transactional_id, commit) -> None:
    consumer = consumer_for(bootstrap, True, group)
    producer = producer_for(bootstrap, transactional_id)
    try:
        consumer.subscribe([source])
        records = poll(consumer, 4, 20)
        assert len(records) == 4
        producer.begin_transaction()
        for r in records:
            producer.send(destination, value=r.value.upper(), partition=0)
        producer.send_offsets_to_transaction({TopicPartition(source, 0): OffsetAndMetadata(records[-1].offset + 1)},
                                             consumer.group_metadata())
        producer.flush(timeout=15)
        (producer.commit_transaction if commit else producer.abort_transaction)()
    finally:
        producer.close(timeout=5)
        consumer.close()


CALLS = transactions.TxnCalls(run_transactions=run_transactions, read=read, transform=transform)


def test_commit_abort_commit_read_committed_and_uncommitted(bootstrap, topic):
    transactions.commit_abort_commit(CALLS, bootstrap, topic, "kafka-python")


@pytest.mark.groups
def test_send_offsets_to_transaction_moves_the_group_offset_only_on_commit(bootstrap):
    transactions.send_offsets_abort_then_commit(CALLS, bootstrap, "kafka-python")

"""Transactions with aiokafka 0.14.0 (version 0 of every transaction API: no KIP-360, no KIP-447):
commit/abort, read_committed/uncommitted, send_offsets_to_transaction."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from compat_tests import transactions

RUN_TIMEOUT_S = 45.0
SETTINGS = dict(request_timeout_ms=10_000, client_id="compat-aiokafka-txn")


def blocking(coroutine_function):
    return lambda *args: asyncio.run(asyncio.wait_for(coroutine_function(*args), RUN_TIMEOUT_S))


async def started_producer(bootstrap: str, transactional_id: str) -> AIOKafkaProducer:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id=transactional_id,
                                transaction_timeout_ms=transactions.TXN_TIMEOUT_MS, linger_ms=5, **SETTINGS)
    await producer.start()
    return producer


async def run_transactions(bootstrap, topic, transactional_id, plan) -> None:
    producer = await started_producer(bootstrap, transactional_id)
    try:
        for outcome, batch in plan:
            await producer.begin_transaction()
            for value in batch:
                await producer.send(topic, value=value, partition=0)
            await producer.flush()
            await (producer.commit_transaction() if outcome == "commit" else producer.abort_transaction())
    finally:
        await producer.stop()


def consumer_for(bootstrap: str, committed: bool, group: str | None = None) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                            auto_offset_reset="earliest", fetch_max_wait_ms=100,
                            isolation_level="read_committed" if committed else "read_uncommitted", **SETTINGS)


async def poll(consumer: AIOKafkaConsumer, count: int, timeout: float) -> list:
    records: list = []
    deadline = time.monotonic() + timeout
    while len(records) < count and time.monotonic() < deadline:
        for batch in (await consumer.getmany(timeout_ms=200)).values():
            records.extend(batch)
    return records


async def read(bootstrap, topic, count, committed, timeout=5.0) -> list[tuple[int, bytes]]:
    consumer = consumer_for(bootstrap, committed)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        return [(r.offset, r.value) for r in await poll(consumer, count, timeout)]
    finally:
        await consumer.stop()


async def transform(bootstrap, source, destination, group, transactional_id, commit) -> None:
    consumer = consumer_for(bootstrap, True, group)
    await consumer.start()
    producer = await started_producer(bootstrap, transactional_id)
    try:
        consumer.subscribe([source])
        records = await poll(consumer, 4, 20)
        assert len(records) == 4
        await producer.begin_transaction()
        for r in records:
            await producer.send(destination, value=r.value.upper(), partition=0)
        await producer.send_offsets_to_transaction({TopicPartition(source, 0): records[-1].offset + 1}, group)
        await producer.flush()
        await (producer.commit_transaction() if commit else producer.abort_transaction())
    finally:
        await producer.stop()
        await consumer.stop()


CALLS = transactions.TxnCalls(run_transactions=blocking(run_transactions), read=blocking(read),
                              transform=blocking(transform))


def test_commit_abort_commit_read_committed_and_uncommitted(bootstrap, topic):
    transactions.commit_abort_commit(CALLS, bootstrap, topic, "aiokafka")


@pytest.mark.groups
def test_send_offsets_to_transaction_moves_the_group_offset_only_on_commit(bootstrap):
    transactions.send_offsets_abort_then_commit(CALLS, bootstrap, "aiokafka")

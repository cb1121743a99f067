"""aiokafka against the broker: topics, exact read-back, codecs, idempotence, seeks, restarts."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka import codec as aiokafka_codec
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from compat_tests import rawkafka, samples, scenarios, topics
from compat_tests.samples import expected_rows, make_samples

READ_TIMEOUT_S = 15.0
RUN_TIMEOUT_S = 45.0


def run(coro):
    """Run one coroutine to completion with a bound well inside the per-test timeout."""
    return asyncio.run(asyncio.wait_for(coro, RUN_TIMEOUT_S))


async def produce(bootstrap: str, topic: str, records: list[samples.Sample], **config) -> list[int]:
    """Send every record to partition 0 and return the offsets the broker acknowledged."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=5, request_timeout_ms=10_000,
        client_id="compat-aiokafka", **config,
    )
    await producer.start()
    try:
        futures = [
            await producer.send(topic, value=r.value, key=r.key, partition=0, timestamp_ms=r.timestamp,
                                headers=list(r.headers))
            for r in records
        ]
        return [(await f).offset for f in futures]
    finally:
        await producer.stop()


def consumer_for(bootstrap: str, **config) -> AIOKafkaConsumer:
    settings = dict(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
        auto_offset_reset="earliest", fetch_max_wait_ms=100, request_timeout_ms=10_000,
        client_id="compat-aiokafka",
    )
    return AIOKafkaConsumer(**(settings | config))


async def poll_rows(consumer: AIOKafkaConsumer, count: int, timeout: float = READ_TIMEOUT_S) -> list[tuple]:
    rows: list[tuple] = []
    deadline = time.monotonic() + timeout
    while len(rows) < count and time.monotonic() < deadline:
        for records in (await consumer.getmany(timeout_ms=200)).values():
            rows.extend(
                (r.offset, r.key, r.value, [(k, v) for k, v in r.headers], r.timestamp) for r in records
            )
    return rows


async def read_partition(
    bootstrap: str, topic: str, count: int, offset: int | None = None, timeout: float = READ_TIMEOUT_S
) -> list[tuple]:
    """Assign partition 0 (no group), start at `offset` (or the beginning), return `count` rows."""
    consumer = consumer_for(bootstrap)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        if offset is None:
            await consumer.seek_to_beginning(tp)
        else:
            consumer.seek(tp, offset)
        return await poll_rows(consumer, count, timeout)
    finally:
        await consumer.stop()


async def end_offset(bootstrap: str, topic: str) -> int:
    consumer = consumer_for(bootstrap)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        return (await consumer.end_offsets([tp]))[tp]
    finally:
        await consumer.stop()


async def with_admin(bootstrap: str, action):
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        return await action(admin)
    finally:
        await admin.close()


def blocking(coroutine_function):
    """`coroutine_function` as a plain call that runs it to completion (see run)."""
    return lambda *args, **kwargs: run(coroutine_function(*args, **kwargs))


CALLS = scenarios.Calls(
    produce=blocking(produce), read=blocking(read_partition), end=blocking(end_offset), end_of=lambda n: n,
    acks_all={"acks": "all"}, acks_1={"acks": 1},
)


def test_create_topic_shows_in_metadata(bootstrap):
    name = samples.unique_name("compat-aio-create")

    async def create_and_describe(admin):
        response = await admin.create_topics([NewTopic(name, num_partitions=3, replication_factor=1)])
        errors = [(t[0], t[1]) for t in response.topic_errors]
        return errors, await admin.list_topics()

    errors, listed = run(with_admin(bootstrap, create_and_describe))
    assert errors == [(name, 0)]
    assert name in listed
    rawkafka.leader_address(bootstrap, name, 2)  # all three partitions get a leader
    (described,) = run(with_admin(bootstrap, lambda admin: admin.describe_topics([name])))
    assert described["error_code"] == 0
    assert sorted(p["partition"] for p in described["partitions"]) == [0, 1, 2]


def test_produce_and_read_back_exactly(bootstrap, topic):
    scenarios.produce_and_read_back_exactly(CALLS, bootstrap, topic)


@pytest.mark.parametrize("codec", scenarios.codec_params(aiokafka_codec, "aiokafka"))
def test_compressed_batches_round_trip(bootstrap, topic, codec):
    scenarios.compressed_batches_round_trip(CALLS, bootstrap, topic, codec, 5, compression_type=codec)


def test_idempotent_producer_writes_each_record_once(bootstrap, topic):
    scenarios.idempotent_producer_writes_each_record_once(CALLS, bootstrap, topic, enable_idempotence=True)


def test_seek_to_offset(bootstrap, topic):
    scenarios.seek_to_offset(CALLS, bootstrap, topic)


def test_offsets_for_times_finds_exact_record(bootstrap, topic):
    records = make_samples(6)
    run(produce(bootstrap, topic, records))
    tp = TopicPartition(topic, 0)

    async def look_up():
        consumer = consumer_for(bootstrap)
        await consumer.start()
        try:
            exact = (await consumer.offsets_for_times({tp: records[2].timestamp}))[tp]
            between = (await consumer.offsets_for_times({tp: records[4].timestamp - 1}))[tp]
            after = (await consumer.offsets_for_times({tp: records[-1].timestamp + 1}))[tp]
            consumer.assign([tp])
            consumer.seek(tp, exact.offset)
            return exact, between, after, await poll_rows(consumer, 1)
        finally:
            await consumer.stop()

    exact, between, after, rows = run(look_up())
    assert (exact.offset, exact.timestamp) == (2, records[2].timestamp)
    assert (between.offset, between.timestamp) == (4, records[4].timestamp)
    assert after is None
    assert rows[0] == expected_rows(records)[2]


def test_delete_topic_then_recreate_is_empty(bootstrap, topic):
    run(produce(bootstrap, topic, make_samples(3)))

    async def delete(admin):
        response = await admin.delete_topics([topic])
        errors = [(t[0], t[1]) for t in response.topic_error_codes]
        deadline = time.monotonic() + 10
        while topic in (listed := await admin.list_topics()) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        return errors, listed

    errors, listed = run(with_admin(bootstrap, delete))
    assert errors == [(topic, 0)]
    assert topic not in listed
    topics.create_topic(bootstrap, topic)
    assert run(end_offset(bootstrap, topic)) == 0
    assert run(read_partition(bootstrap, topic, 1, offset=0, timeout=1.5)) == []
    assert rawkafka.stored_batches(bootstrap, topic) == []


def test_restart_between_produce_and_consume_loses_nothing(bootstrap, topic, restart_broker):
    scenarios.nothing_lost_across(CALLS, bootstrap, topic, restart_broker)


def test_kill9_between_produce_and_consume_loses_nothing(bootstrap, topic, kill9_broker):
    scenarios.nothing_lost_across(CALLS, bootstrap, topic, kill9_broker)


@pytest.mark.groups
def test_group_consumer_resumes_from_committed_offset(bootstrap, topic):
    group = samples.unique_name("compat-aio-group")
    tp = TopicPartition(topic, 0)

    async def consume_in_group(count: int) -> tuple[list[tuple], int]:
        consumer = consumer_for(bootstrap, group_id=group, session_timeout_ms=10_000, heartbeat_interval_ms=1_000)
        await consumer.start()
        try:
            consumer.subscribe([topic])
            rows = await poll_rows(consumer, count)
            await consumer.commit()
            return rows, await consumer.committed(tp)
        finally:
            await consumer.stop()

    scenarios.group_consumer_resumes_from_committed_offset(
        CALLS, bootstrap, topic, lambda count: run(consume_in_group(count)))

"""A long-polling Fetch of several partitions (librdkafka's shape: every assigned partition of a broker in one
request, min_bytes 1, fetch.wait.max.ms 500) wakes at the first append to any of them and answers every
partition that holds data by the time it runs, as Kafka's DelayedFetch does (completed from the append,
then every partition read again). In-process, memory engine; the handler is driven by the loop, and the
test waits for states (listeners registered, task done), never for a time."""

import asyncio

import structlog

from gateway.long_poll import wait_for_any
from gateway.registry import RequestContext, lookup
from tests.gateway.inprocess import call, new_broker
from wire.codec import decode, encode
from wire.errors import ErrorCode
from wire.records import build_batch

PRODUCE, FETCH, CREATE_TOPICS = 0, 1, 19
PARTITIONS = 8
LONG_WAIT_MS = 60_000  # far beyond any test run: the Fetch must end by a wake, not by its timeout


def _broker():
    broker = new_broker()
    call(broker, CREATE_TOPICS, 7, {"timeout_ms": 1000, "validate_only": False, "topics": [
        {"name": "t", "num_partitions": PARTITIONS, "replication_factor": -1, "assignments": [], "configs": []}]})
    return broker


def _fetch_body(offsets, max_wait_ms=LONG_WAIT_MS):
    return {"replica_id": -1, "max_wait_ms": max_wait_ms, "min_bytes": 1, "max_bytes": 50 << 20,
            "isolation_level": 0, "session_id": 0, "session_epoch": -1, "forgotten_topics_data": [], "rack_id": "",
            "topics": [{"topic": "t", "partitions": [
                {"partition": p, "current_leader_epoch": -1, "fetch_offset": offset, "last_fetched_epoch": -1,
                 "log_start_offset": -1, "partition_max_bytes": 1 << 20} for p, offset in enumerate(offsets)]}]}


def _start_fetch(broker, body, version=12):
    registration = lookup(FETCH, version)
    request = decode(registration.api.request, version, encode(registration.api.request, version, body))
    ctx = RequestContext(broker, FETCH, version, 1, "test", structlog.get_logger())
    return asyncio.ensure_future(registration.handler(ctx, request)), registration, version


async def _until(predicate, turns=10_000):
    for _ in range(turns):  # loop turns, not time: the handler gets there in a few
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("the state was not reached")


def _append(broker, partition, value):
    log = broker.logs.get("t").partition(partition)
    return log.append(build_batch([(None, value, [], 1000)]), 1000).base_offset


def _records_by_partition(registration, version, response):
    answer = decode(registration.api.response, version, encode(registration.api.response, version, response))
    return {p.partition_index: (p.error_code, p.records) for p in answer.responses[0].partitions}


def test_a_fetch_woken_by_one_append_answers_every_partition_that_has_data():
    broker = _broker()

    async def scenario():
        logs = [broker.logs.get("t").partition(p) for p in range(PARTITIONS)]
        task, registration, version = _start_fetch(broker, _fetch_body([0] * PARTITIONS))
        await _until(lambda: task.done() or all(log.listeners for log in logs))  # waiting on every partition
        assert not task.done()
        # appends to three partitions before the woken Fetch runs again (one loop turn of Produce requests)
        for partition in (5, 1, 6):
            _append(broker, partition, b"value-%d" % partition)
        await asyncio.wait_for(task, timeout=30)  # (a generous bound on a hang, not a timing assertion)
        answered = _records_by_partition(registration, version, task.result())
        assert set(answered) == set(range(PARTITIONS))
        for partition, (code, records) in answered.items():
            assert code == ErrorCode.NONE
            if partition in (5, 1, 6):
                assert b"value-%d" % partition in records
            else:
                assert records == b""
        assert not any(log.listeners for log in logs)  # the wake-up callback left every list

    asyncio.run(scenario())


def test_a_fetch_woken_by_the_last_partition_in_its_request_answers_it():
    broker = _broker()

    async def scenario():
        logs = [broker.logs.get("t").partition(p) for p in range(PARTITIONS)]
        _append(broker, 0, b"old")  # partition 0 is read from offset 1: nothing new there
        task, registration, version = _start_fetch(broker, _fetch_body([1] + [0] * (PARTITIONS - 1)))
        await _until(lambda: task.done() or all(log.listeners for log in logs))
        assert not task.done()
        _append(broker, PARTITIONS - 1, b"last")
        await asyncio.wait_for(task, timeout=30)
        answered = _records_by_partition(registration, version, task.result())
        assert b"last" in answered[PARTITIONS - 1][1]
        assert answered[0] == (ErrorCode.NONE, b"")

    asyncio.run(scenario())


def test_a_fetch_with_data_in_any_partition_answers_without_waiting():
    broker = _broker()

    async def scenario():
        _append(broker, 3, b"there")
        task, registration, version = _start_fetch(broker, _fetch_body([0] * PARTITIONS))
        await asyncio.wait_for(task, timeout=30)
        answered = _records_by_partition(registration, version, task.result())
        assert b"there" in answered[3][1]
        assert not any(broker.logs.get("t").partition(p).listeners for p in range(PARTITIONS))

    asyncio.run(scenario())


def test_wait_for_any_returns_at_the_first_call_of_any_list_and_leaves_none_registered():
    async def scenario():
        lists = [[] for _ in range(4)]
        waiter = asyncio.ensure_future(wait_for_any(lists, LONG_WAIT_MS / 1000))
        await _until(lambda: waiter.done() or all(lists))
        assert not waiter.done()
        lists[2][0](None)  # what PartitionLog._appended does with each listener
        lists[2][0](None)  # a second append before the waiter runs: harmless
        await asyncio.wait_for(waiter, timeout=30)
        assert lists == [[], [], [], []]

    asyncio.run(scenario())

"""The pytest plugin as a user meets it (pytester runs a test module in a fresh pytest): kafka_broker
with pytest-kafka-broker's API, restart, kill -9, faults, the trace, kafka_cluster, and the same module
against an external Kafka (--kafka-bootstrap), where the Ottla-only tests skip."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["pytester"]

# Written for pytest-kafka-broker (its KafkaBrokerContext: bootstrap_server, config(), admin(),
# producer(), consumer(), aio_producer(), aio_consumer()): nothing Ottla-specific.
PKB_STYLE = '''
import asyncio
import uuid

from confluent_kafka import KafkaException, TopicPartition
from confluent_kafka.admin import NewTopic


def consume_all(consumer, topic, want, timeout=30):
    import time
    consumer.assign([TopicPartition(topic, 0, 0)])
    got, deadline = [], time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            got.append(message.value())
    consumer.close()
    return got


def test_produce_and_consume(kafka_broker):
    topic = "pkb-" + uuid.uuid4().hex[:8]
    assert kafka_broker.config({"x": 1})["bootstrap.servers"] == kafka_broker.bootstrap_server
    assert kafka_broker.config({"x": 1})["x"] == 1
    admin = kafka_broker.admin()
    admin.create_topics([NewTopic(topic, 1)])[topic].result(30)
    producer = kafka_broker.producer({"linger.ms": 5})
    for i in range(10):
        producer.produce(topic, b"v%d" % i)
    assert producer.flush(30) == 0
    consumer = kafka_broker.consumer({"group.id": "g-" + topic, "enable.auto.commit": False})
    assert consume_all(consumer, topic, 10) == [b"v%d" % i for i in range(10)]


def test_asyncio_clients(kafka_broker):
    topic = "pkb-aio-" + uuid.uuid4().hex[:8]

    async def main():
        producer = kafka_broker.aio_producer({"linger.ms": 5})
        delivered = await (await producer.produce(topic, b"async"))
        await producer.flush()
        await producer.close()
        consumer = kafka_broker.aio_consumer({"group.id": "g-" + topic, "auto.offset.reset": "earliest"})
        await consumer.assign([TopicPartition(topic, 0, delivered.offset())])
        for _ in range(60):
            message = await consumer.poll(0.5)
            if message is not None and message.error() is None:
                await consumer.close()
                return message.value()
        await consumer.close()

    assert asyncio.run(main()) == b"async"
'''

OTTLA_OWN = '''
import time
import uuid

import pytest
from confluent_kafka import KafkaError
from confluent_kafka.admin import NewTopic

from test_pkb_style import consume_all


def produce(kafka_broker, topic, values, **config):
    producer = kafka_broker.producer({"linger.ms": 5, "acks": "all", **config})
    errors = []
    for value in values:
        producer.produce(topic, value, on_delivery=lambda err, msg: errors.append(err))
    assert producer.flush(30) == 0
    return errors


def test_restart_keeps_the_data(kafka_broker):
    topic = "restart-" + uuid.uuid4().hex[:8]
    assert produce(kafka_broker, topic, [b"a", b"b"]) == [None, None]
    bootstrap = kafka_broker.bootstrap_server
    kafka_broker.restart()
    assert kafka_broker.bootstrap_server == bootstrap
    assert consume_all(kafka_broker.consumer({"group.id": "r"}), topic, 2) == [b"a", b"b"]


def test_kill_keeps_every_acknowledged_record(kafka_broker):
    topic = "kill-" + uuid.uuid4().hex[:8]
    values = [b"k%d" % i for i in range(200)]
    assert produce(kafka_broker, topic, values) == [None] * 200
    assert kafka_broker.kill() == -9
    kafka_broker.start()
    assert consume_all(kafka_broker.consumer({"group.id": "k"}), topic, 200) == values


def test_a_retriable_fault_is_retried_and_counted(kafka_broker):
    topic = "fault-" + uuid.uuid4().hex[:8]
    produce(kafka_broker, topic, [b"warm"])
    with kafka_broker.fault(api="Produce", error="NOT_LEADER_OR_FOLLOWER", count=3, topic=topic) as fault:
        assert produce(kafka_broker, topic, [b"x"], **{"retry.backoff.ms": 20}) == [None]
        assert fault.fired == 3
    assert kafka_broker.faults() == []


def test_a_fatal_fault_is_surfaced(kafka_broker):
    topic = "fatal-" + uuid.uuid4().hex[:8]
    produce(kafka_broker, topic, [b"warm"])
    with kafka_broker.fault(api="Produce", error="TOPIC_AUTHORIZATION_FAILED", topic=topic) as fault:
        errors = produce(kafka_broker, topic, [b"x"])
        assert [e.code() for e in errors] == [KafkaError.TOPIC_AUTHORIZATION_FAILED]
        assert fault.wait(1)["fired"] >= 1


def test_the_trace_of_the_test(kafka_broker):
    from ottla.testing import serve_flags

    if "--trace" not in serve_flags():
        pytest.skip("this Ottla has no --trace yet")
    topic = "traced-" + uuid.uuid4().hex[:8]
    produce(kafka_broker, topic, [b"t"])
    with kafka_broker.fault(api="Produce", error="NOT_LEADER_OR_FOLLOWER", count=1, topic=topic):
        produce(kafka_broker, topic, [b"u"], **{"retry.backoff.ms": 20})
    produces = [e for e in kafka_broker.trace() if e["api"] == "Produce" and topic in e["request"]["topics"]]
    assert [e["errors"].get("NOT_LEADER_OR_FOLLOWER", 0) for e in produces] == [0, 1, 0], produces


def test_a_cluster(kafka_cluster):
    brokers = kafka_cluster.cluster()["brokers"]
    host, port = kafka_cluster.bootstrap_server.split(":")
    assert kafka_cluster.config()["bootstrap.servers"] == ",".join(f"{host}:{int(port) + i}" for i in range(3))
    assert [b["id"] for b in brokers] == [1, 2, 3]
    topic = "cluster-" + uuid.uuid4().hex[:8]
    admin = kafka_cluster.admin()
    admin.create_topics([NewTopic(topic, 1, 3)])[topic].result(30)
    leader = next(t for t in kafka_cluster.cluster()["topics"] if t["name"] == topic)["partitions"][0]["leader"]
    other = next(b["id"] for b in brokers if b["id"] != leader)
    assert kafka_cluster.move_leader(topic, 0, other)["leader"] == other
    kafka_cluster.stop_broker(other)
    assert produce(kafka_cluster, topic, [b"after-stop"]) == [None]
    kafka_cluster.start_broker(other)
    assert consume_all(kafka_cluster.consumer({"group.id": "c"}), topic, 1) == [b"after-stop"]
'''


@pytest.fixture
def user_project(pytester):
    pytester.makepyfile(test_pkb_style=PKB_STYLE, test_ottla_own=OTTLA_OWN)
    pytester.makeini("[pytest]\ntimeout = 90\n")
    return pytester


def _run(pytester, *args):
    env_bootstrap = os.environ.pop("KAFKA_BOOTSTRAP", None)
    try:
        return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs", *args, timeout=600)
    finally:
        if env_bootstrap is not None:
            os.environ["KAFKA_BOOTSTRAP"] = env_bootstrap


def _has_brokers_flag() -> bool:
    from ottla.testing import serve_flags

    return "--brokers" in serve_flags()


@pytest.mark.skipif(bool(os.environ.get("KAFKA_BOOTSTRAP")), reason="the plugin starts Ottla itself")
def test_the_plugin_runs_a_users_tests_against_ottla(user_project):
    result = _run(user_project)
    outcomes = result.parseoutcomes()
    trace_skipped = "no --trace" in result.stdout.str()
    cluster_skipped = not _has_brokers_flag()
    assert outcomes.get("failed", 0) == 0 and outcomes.get("errors", 0) == 0, result.stdout.str()
    assert outcomes.get("passed") == 8 - trace_skipped - cluster_skipped, result.stdout.str()


@pytest.mark.skipif(bool(os.environ.get("KAFKA_BOOTSTRAP")), reason="the plugin starts Ottla itself")
def test_against_an_external_kafka_the_ottla_only_tests_skip(user_project, broker):
    """--kafka-bootstrap: here the compat session's broker plays "any Kafka"."""
    result = _run(user_project, "--kafka-bootstrap", broker.bootstrap, "test_pkb_style.py",
                  "test_ottla_own.py::test_restart_keeps_the_data", "test_ottla_own.py::test_a_fatal_fault_is_surfaced",
                  "test_ottla_own.py::test_a_cluster")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed") == 2 and outcomes.get("skipped") == 3, result.stdout.str()
    assert "restart() needs Ottla" in result.stdout.str()

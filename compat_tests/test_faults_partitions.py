"""A fault matching one partition errors only that partition of a Produce (as a broker that does not
lead it would answer): confluent-kafka's idempotent producer gets the others acknowledged at once and
retries only the faulted one, and nothing is appended twice. Ottla-only: skipped against KAFKA_BOOTSTRAP."""

from __future__ import annotations

import os
import uuid

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import NewTopic

from compat_tests.test_faults import stored

pytestmark = pytest.mark.skipif(bool(os.environ.get("KAFKA_BOOTSTRAP")), reason="fault injection is Ottla's")


@pytest.fixture(scope="module")
def ottla():
    from ottla.testing import broker

    with broker() as b:
        yield b


def test_not_leader_on_one_partition_retries_only_that_partition_without_duplicates(ottla):
    topic = f"partial-{uuid.uuid4().hex[:10]}"
    admin = ottla.admin()
    admin.create_topics([NewTopic(topic, 2, 1)])[topic].result(20)
    producer = Producer({"bootstrap.servers": ottla.bootstrap_server, "enable.idempotence": True, "acks": "all",
                         "linger.ms": 500, "retry.backoff.ms": 100, "message.timeout.ms": 30000})
    producer.produce(topic, b"warm-0", partition=0)
    producer.produce(topic, b"warm-1", partition=1)
    assert producer.flush(30) == 0  # metadata and producer id known before the fault goes in
    fault = ottla.fault(api="Produce", error="NOT_LEADER_OR_FOLLOWER", count=3, topic=topic, partition=0)
    reports = []  # (partition, error, the fault's fired count when the report arrived)

    def on_delivery(err, msg):
        reports.append((msg.partition(), err, fault.fired))

    for i in range(5):
        for partition in (0, 1):
            producer.produce(topic, b"p%d-%d" % (partition, i), partition=partition, on_delivery=on_delivery)
    assert producer.flush(40) == 0
    assert [err for _, err, _ in reports] == [None] * 10
    assert fault.fired == 3
    order = [p for p, _, _ in reports]
    assert order == [1] * 5 + [0] * 5, reports  # partition 1 acknowledged first, 0 after its retries
    assert all(fired < 3 for p, _, fired in reports if p == 1), reports  # before the retries were done
    assert all(fired == 3 for p, _, fired in reports if p == 0), reports
    assert stored(ottla.bootstrap_server, topic, 0) == [b"warm-0"] + [b"p0-%d" % i for i in range(5)]
    assert stored(ottla.bootstrap_server, topic, 1) == [b"warm-1"] + [b"p1-%d" % i for i in range(5)]


def test_kafka_python_batching_both_partitions_in_one_request_gets_one_acknowledged_at_once(ottla):
    """kafka-python puts both partitions' batches in one ProduceRequest: only partition 0's is refused."""
    from kafka import KafkaProducer

    topic = f"partial-kp-{uuid.uuid4().hex[:10]}"
    admin = ottla.admin()
    admin.create_topics([NewTopic(topic, 2, 1)])[topic].result(20)
    producer = KafkaProducer(bootstrap_servers=ottla.bootstrap_server, enable_idempotence=True, acks="all",
                             linger_ms=500, retry_backoff_ms=100, request_timeout_ms=20000)
    try:
        for partition in (0, 1):
            producer.send(topic, b"warm-%d" % partition, partition=partition).get(30)
        fault = ottla.fault(api="Produce", error="NOT_LEADER_OR_FOLLOWER", count=3, topic=topic, partition=0)
        reports = []
        futures = []
        for i in range(5):
            for partition in (0, 1):
                future = producer.send(topic, b"p%d-%d" % (partition, i), partition=partition)
                future.add_callback(lambda md, p=partition: reports.append((p, fault.fired)))
                futures.append(future)
        for future in futures:
            future.get(40)
        assert fault.fired == 3
        assert [p for p, _ in reports] == [1] * 5 + [0] * 5, reports
        assert all(fired < 3 for p, fired in reports if p == 1), reports
    finally:
        producer.close(10)
    assert stored(ottla.bootstrap_server, topic, 0) == [b"warm-0"] + [b"p0-%d" % i for i in range(5)]
    assert stored(ottla.bootstrap_server, topic, 1) == [b"warm-1"] + [b"p1-%d" % i for i in range(5)]

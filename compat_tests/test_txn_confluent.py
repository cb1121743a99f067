"""Transactions with confluent-kafka 2.16.1 (librdkafka 2.16.0): commit/abort, read_committed, send_offsets,
zombie fencing, and kill -9 of the producer and of the broker mid-transaction and mid-EndTxn."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition

from compat_tests import samples, topics, transactions
from compat_tests.conftest import Broker, free_port

CALL_TIMEOUT_S = 15


def producer_for(bootstrap: str, transactional_id: str, **config) -> Producer:
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id,
                         "transaction.timeout.ms": transactions.TXN_TIMEOUT_MS, "linger.ms": 5,
                         "client.id": "compat-confluent-txn", **config})
    producer.init_transactions(CALL_TIMEOUT_S)
    return producer


def run_transactions(bootstrap, topic, transactional_id, plan, partitions=(0,)) -> None:
    producer = producer_for(bootstrap, transactional_id)
    for outcome, batch in plan:
        producer.begin_transaction()
        for value in batch:
            for partition in partitions:
                producer.produce(topic, value=value, partition=partition)
        producer.flush(CALL_TIMEOUT_S)
        if outcome == "commit":
            producer.commit_transaction(CALL_TIMEOUT_S)
        else:
            producer.abort_transaction(CALL_TIMEOUT_S)


def consumer_for(bootstrap: str, committed: bool, group: str | None = None, **config) -> Consumer:
    return Consumer({
        "bootstrap.servers": bootstrap, "group.id": group or samples.unique_name("compat-txn-unused"),
        "enable.auto.commit": False, "auto.offset.reset": "earliest", "fetch.wait.max.ms": 100,
        "isolation.level": "read_committed" if committed else "read_uncommitted", **config,
    })


def read(bootstrap, topic, count, committed, partition=0, timeout=5.0) -> list[tuple[int, bytes]]:
    """Up to `count` records of one partition from the start (waits `timeout` for more than it finds)."""
    consumer = consumer_for(bootstrap, committed)
    rows = []
    try:
        consumer.assign([TopicPartition(topic, partition, OFFSET_BEGINNING)])
        deadline = time.monotonic() + timeout
        while len(rows) < count and time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is None:
                continue
            if msg.error():
                raise KafkaException(msg.error())
            rows.append((msg.offset(), msg.value()))
    finally:
        consumer.close()
    return rows


def transform(bootstrap, source, destination, group, transactional_id, commit) -> None:
    consumer = consumer_for(bootstrap, True, group)
    producer = producer_for(bootstrap, transactional_id)
    try:
        consumer.subscribe([source])
        records = []
        deadline = time.monotonic() + 20
        while len(records) < 4 and time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is not None and not msg.error():
                records.append(msg)
        assert len(records) == 4
        producer.begin_transaction()
        for msg in records:
            producer.produce(destination, value=msg.value().upper(), partition=0)
        producer.send_offsets_to_transaction([TopicPartition(source, 0, records[-1].offset() + 1)],
                                             consumer.consumer_group_metadata(), CALL_TIMEOUT_S)
        producer.flush(CALL_TIMEOUT_S)
        (producer.commit_transaction if commit else producer.abort_transaction)(CALL_TIMEOUT_S)
    finally:
        consumer.close()


CALLS = transactions.TxnCalls(run_transactions=run_transactions, read=read, transform=transform)


def test_commit_abort_commit_read_committed_and_uncommitted(bootstrap, topic):
    transactions.commit_abort_commit(CALLS, bootstrap, topic, "confluent")


@pytest.mark.groups
def test_send_offsets_to_transaction_moves_the_group_offset_only_on_commit(bootstrap):
    transactions.send_offsets_abort_then_commit(CALLS, bootstrap, "confluent")


def test_zombie_producer_is_fenced_and_none_of_its_writes_become_visible(bootstrap, topic):
    transactional_id = transactions.txn_id("zombie")
    zombie = producer_for(bootstrap, transactional_id)
    zombie.begin_transaction()
    zombie.produce(topic, value=b"zombie-before", partition=0)
    zombie.flush(CALL_TIMEOUT_S)
    successor = producer_for(bootstrap, transactional_id)  # fences the zombie and aborts its transaction
    zombie.produce(topic, value=b"zombie-after", partition=0)
    with pytest.raises(KafkaException) as raised:
        zombie.flush(CALL_TIMEOUT_S)
        zombie.commit_transaction(CALL_TIMEOUT_S)
    assert raised.value.args[0].fatal() or raised.value.args[0].txn_requires_abort(), raised.value
    successor.begin_transaction()
    successor.produce(topic, value=b"successor", partition=0)
    successor.commit_transaction(CALL_TIMEOUT_S)
    assert [v for _, v in read(bootstrap, topic, 2, True, timeout=1)] == [b"successor"]
    assert [v for _, v in read(bootstrap, topic, 3, False, timeout=1)] == [b"zombie-before", b"successor"]


KILLED_PRODUCER = """
import os, signal, sys
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1], "transactional.id": sys.argv[3], "transaction.timeout.ms": 2000})
p.init_transactions(15)
p.begin_transaction()
for i in range(5):
    p.produce(sys.argv[2], value=b"doomed-%d" % i, partition=0)
assert p.flush(15) == 0
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_killed_producer_is_aborted_after_its_timeout_and_the_lso_moves_on(broker, bootstrap, topic):
    proc = subprocess.run([sys.executable, "-c", KILLED_PRODUCER, bootstrap, topic, transactions.txn_id("killed")],
                          timeout=60, capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    plain = Producer({"bootstrap.servers": bootstrap})
    plain.produce(topic, value=b"after", partition=0)
    assert plain.flush(CALL_TIMEOUT_S) == 0
    assert [v for _, v in read(bootstrap, topic, 6, False, timeout=3)] == [b"doomed-%d" % i for i in range(5)] + [
        b"after"]
    # pinned by the open transaction until the broker aborts it: 2 s timeout, then the sweep (0.5 s on the
    # brokers these tests start; Kafka's default 10 s elsewhere)
    assert read(bootstrap, topic, 1, True, timeout=0.5) == []
    wait = 10 if broker.managed else 25
    assert [v for _, v in read(bootstrap, topic, 1, True, timeout=wait)] == [b"after"]


def test_broker_kill9_mid_transaction_then_commit_loses_nothing(bootstrap, topic, kill9_broker):
    producer = producer_for(bootstrap, transactions.txn_id("kill9"))
    producer.begin_transaction()
    for i in range(5):
        producer.produce(topic, value=b"kept-%d" % i, partition=0)
    producer.flush(CALL_TIMEOUT_S)
    kill9_broker()
    producer.commit_transaction(30)  # the open transaction and its partitions survived the kill
    assert [v for _, v in read(bootstrap, topic, 5, True)] == [b"kept-%d" % i for i in range(5)]


class CrashingBroker(Broker):
    """A broker of its own that SIGKILLs itself at a fault point in EndTxn (--crash-at), until cleared."""

    crash_at: str | None = None

    def command(self) -> list[str]:
        extra = ["--crash-at", self.crash_at] if self.crash_at else []
        return [*super().command(), "--transaction-abort-timed-out-transaction-cleanup-interval-ms", "500", *extra]


@pytest.fixture(scope="module")
def crashing_broker(broker, tmp_path_factory):
    if not broker.managed:
        pytest.skip("needs a broker this session started; KAFKA_BOOTSTRAP points at an external one")
    root = tmp_path_factory.mktemp("ottla-crash")
    own = CrashingBroker("127.0.0.1", free_port(), data_dir=root / "data", log_path=root / "broker.log")
    own.data_dir.mkdir()
    yield own
    own.stop(signal.SIGTERM)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("point, commit", [("txn-marker", True), ("txn-prepared", False)])
def test_broker_kill9_mid_end_txn_completes_the_decision_on_restart(crashing_broker, point, commit):
    own = crashing_broker
    own.crash_at = point
    own.start()
    name = samples.unique_name("compat-txn-crash")
    topics.create_topic(own.bootstrap, name, partitions=2)
    producer = producer_for(own.bootstrap, transactions.txn_id("crash"), **{"message.timeout.ms": 5000})
    producer.begin_transaction()
    for i in range(3):
        for partition in (0, 1):
            producer.produce(name, value=b"v-%d" % i, partition=partition)
    producer.flush(CALL_TIMEOUT_S)
    with pytest.raises(KafkaException):
        (producer.commit_transaction if commit else producer.abort_transaction)(3)
    own.proc.wait(15)
    assert own.proc.returncode == -signal.SIGKILL
    own.crash_at = None
    own.start()  # recovery completes what was decided before the kill
    expected = [b"v-%d" % i for i in range(3)] if commit else []
    for partition in (0, 1):
        assert [v for _, v in read(own.bootstrap, name, 3, True, partition, timeout=3 if commit else 1.5)] == expected
        assert [v for _, v in read(own.bootstrap, name, 3, False, partition)] == [b"v-%d" % i for i in range(3)]
    del producer
    own.stop(signal.SIGTERM)


def test_read_committed_sees_nothing_of_an_open_transaction_until_commit(bootstrap, topic):
    producer = producer_for(bootstrap, transactions.txn_id("open"))
    producer.begin_transaction()
    producer.produce(topic, value=b"pending", partition=0)
    producer.flush(CALL_TIMEOUT_S)
    assert read(bootstrap, topic, 1, True, timeout=1) == []
    assert [v for _, v in read(bootstrap, topic, 1, False)] == [b"pending"]
    consumer = consumer_for(bootstrap, True)
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=CALL_TIMEOUT_S)
        assert (low, high) == (0, 0)  # librdkafka's read_committed "high" watermark is the LSO
    finally:
        consumer.close()
    producer.commit_transaction(CALL_TIMEOUT_S)
    assert [v for _, v in read(bootstrap, topic, 1, True)] == [b"pending"]

"""A 3-broker Ottla (`ottla serve --brokers 3`) with real clients: every client sees three brokers and
spread leaders; producers, consumer groups and transactions follow leaders and coordinators as brokers
stop, start and move. One cluster for the module, driven through the control API (ottla.testing).

Ottla-only (brokers are stopped and started): skipped against KAFKA_BOOTSTRAP.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid

import pytest

from compat_tests.test_kafkajs import JS_DIR, node
from gateway.placement import coordinator_partition

pytestmark = pytest.mark.skipif(bool(os.environ.get("KAFKA_BOOTSTRAP")),
                                reason="stops and starts brokers of an Ottla cluster (ottla serve --brokers 3)")
DEADLINE_S = 45


@pytest.fixture(scope="module")
def cluster():
    from ottla.testing import OttlaBroker

    c = OttlaBroker(brokers=3, trace=False, args=["--set", "default.replication.factor=3",
                                                         "--set", "replica.lag.time.max.ms=1500",
                                                         "--set", "broker.session.timeout.ms=3000"])
    c.start()
    try:
        yield c
    finally:
        c.stop()
        c.close()


@pytest.fixture(autouse=True)
def all_brokers_back(cluster):
    yield
    for b in cluster.cluster()["brokers"]:
        if b["paused"]:
            cluster.resume_broker(b["id"])
        if not b["alive"]:
            cluster.start_broker(b["id"])


def new_topic() -> str:
    return f"cluster-{uuid.uuid4().hex[:10]}"


def bootstrap(cluster) -> str:
    """Every broker: a client started while broker 1 is stopped must still find the cluster (as with Kafka)."""
    return ",".join(f"{cluster.host}:{cluster.port + i}" for i in range(3))


def conf(cluster, **extra) -> dict:
    return {"bootstrap.servers": bootstrap(cluster), "log_level": 0, **extra}


def create(cluster, topic, partitions=3, replication=3, configs=None):
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(conf(cluster))
    admin.create_topics([NewTopic(topic, partitions, replication, config=configs or {})])[topic].result(15)
    return admin


def partitions_of(cluster, topic) -> list[dict]:
    return next(t["partitions"] for t in cluster.cluster()["topics"] if t["name"] == topic)


def consume_all(cluster, topic, expected: int, **extra) -> list[bytes]:
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(conf(cluster, **{"group.id": f"read-{uuid.uuid4().hex[:6]}", "enable.auto.commit": False,
                                         **extra}))
    partitions = len(partitions_of(cluster, topic))
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    values = []
    deadline = time.monotonic() + DEADLINE_S
    while len(values) < expected and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is not None and not msg.error():
            values.append(msg.value())
    # a little more: anything beyond `expected` would be a duplicate
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        msg = consumer.poll(0.2)
        if msg is not None and not msg.error():
            values.append(msg.value())
    consumer.close()
    return values


# every client sees three brokers and spread leaders -------------------------------------------------

def test_confluent_kafka_sees_three_brokers_and_spread_leaders(cluster):
    from confluent_kafka import Producer

    topic = new_topic()
    admin = create(cluster, topic, partitions=6)
    metadata = admin.list_topics(topic, timeout=10)
    assert sorted(metadata.brokers) == [1, 2, 3]
    assert metadata.controller_id in (1, 2, 3)
    partitions = metadata.topics[topic].partitions.values()
    assert {p.leader for p in partitions} == {1, 2, 3}
    assert all(sorted(p.replicas) == [1, 2, 3] == sorted(p.isrs) for p in partitions)
    producer = Producer(conf(cluster, acks="all", **{"linger.ms": 5}))
    errors = []
    for p in range(6):
        producer.produce(topic, b"v%d" % p, partition=p, on_delivery=lambda err, msg: err and errors.append(err))
    assert producer.flush(20) == 0 and errors == []


def test_kafka_python_sees_three_brokers_and_spread_leaders(cluster):
    from kafka import KafkaAdminClient, KafkaProducer

    topic = new_topic()
    create(cluster, topic)
    admin = KafkaAdminClient(bootstrap_servers=cluster.bootstrap_server)
    try:
        described = admin.describe_cluster()
        assert sorted(b.get("node_id", b.get("broker_id")) for b in described["brokers"]) == [1, 2, 3]
        (topic_info,) = admin.describe_topics([topic])
        assert {p["leader_id"] for p in topic_info["partitions"]} == {1, 2, 3}
        assert all(sorted(p["replica_nodes"]) == [1, 2, 3] for p in topic_info["partitions"])
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=cluster.bootstrap_server, acks="all")
    try:
        offsets = [producer.send(topic, b"v", partition=p).get(timeout=20).offset for p in range(3)]
        assert offsets == [0, 0, 0]
        assert {producer._metadata.leader_for_partition(_tp(topic, p)) for p in range(3)} == {1, 2, 3}
    finally:
        producer.close()


def _tp(topic, partition):
    from kafka.structs import TopicPartition

    return TopicPartition(topic, partition)


def test_aiokafka_sees_three_brokers_and_spread_leaders(cluster):
    from aiokafka import AIOKafkaProducer
    from aiokafka.structs import TopicPartition

    topic = new_topic()
    create(cluster, topic)

    async def run():
        producer = AIOKafkaProducer(bootstrap_servers=cluster.bootstrap_server, acks="all")
        await producer.start()
        try:
            sent = [await producer.send_and_wait(topic, b"v", partition=p) for p in range(3)]
            metadata = producer.client.cluster
            brokers = sorted(b.nodeId for b in metadata.brokers())
            leaders = {metadata.leader_for_partition(TopicPartition(topic, p)) for p in range(3)}
            return [s.offset for s in sent], brokers, leaders
        finally:
            await producer.stop()

    offsets, brokers, leaders = asyncio.run(run())
    assert offsets == [0, 0, 0] and brokers == [1, 2, 3] and leaders == {1, 2, 3}


@pytest.mark.skipif(not (JS_DIR / "node_modules" / "kafkajs").is_dir(), reason="kafkajs is not installed")
def test_kafkajs_sees_three_brokers_and_spread_leaders(cluster):
    topic = new_topic()
    result = node("admin.js", cluster.bootstrap_server, action="cluster", topic=topic, partitions=3)
    assert sorted(b["nodeId"] for b in result["cluster"]["brokers"]) == [1, 2, 3]
    partitions = result["metadata"]["topics"][0]["partitions"]
    assert {p["leader"] for p in partitions} == {1, 2, 3}
    assert all(sorted(p["replicas"]) == [1, 2, 3] for p in partitions)
    assert sorted(r["partition"] for r in result["produced"]) == [0, 1, 2]
    assert all(r["errorCode"] == 0 for r in result["produced"])


# brokers stop and start ----------------------------------------------------------------------------

def _check_no_loss_no_duplicates(cluster, topic, victim, acked, total):
    moved = partitions_of(cluster, topic)[0]
    assert moved["leader"] != victim and moved["leader_epoch"] >= 1  # the client followed a new leader
    values = consume_all(cluster, topic, total)
    assert len(values) == len(set(values)) == total  # no duplicates
    assert set(acked) == set(values)  # nothing acknowledged was lost


def _bounce(cluster, victim, i, total, flush) -> None:
    """Stop the victim after a third of the records (flushed first), start it again after two thirds."""
    if i == total // 3:
        flush(20)
        cluster.stop_broker(victim)
    if i == 2 * total // 3:
        flush(30)
        cluster.start_broker(victim)


def _idempotent_producer(cluster, **extra):
    """A confluent-kafka idempotent acks=all producer, and the values it got acknowledged and its errors."""
    from confluent_kafka import Producer

    producer = Producer(conf(cluster, acks="all", **{"enable.idempotence": True, "linger.ms": 5, **extra}))
    acked, failed = [], []

    def delivered(err, msg):
        (failed if err else acked).append(err or msg.value())

    return producer, delivered, acked, failed


def test_an_idempotent_producer_loses_and_duplicates_nothing_while_a_broker_stops_and_starts(cluster):
    topic = new_topic()
    create(cluster, topic, partitions=3)
    victim = partitions_of(cluster, topic)[0]["leader"]
    producer, delivered, acked, failed = _idempotent_producer(cluster, **{"message.timeout.ms": 40000})
    total = 3000
    for i in range(total):
        producer.produce(topic, b"%d" % i, partition=i % 3, on_delivery=delivered)
        producer.poll(0)
        _bounce(cluster, victim, i, total, producer.flush)
        time.sleep(0.0005)
    assert producer.flush(40) == 0
    assert failed == []
    _check_no_loss_no_duplicates(cluster, topic, victim, acked, total)


def test_kafka_python_idempotent_producer_loses_and_duplicates_nothing_while_a_broker_stops_and_starts(cluster):
    from kafka import KafkaProducer

    topic = new_topic()
    create(cluster, topic, partitions=3)
    victim = partitions_of(cluster, topic)[0]["leader"]
    producer = KafkaProducer(bootstrap_servers=bootstrap(cluster), acks="all", enable_idempotence=True,
                             linger_ms=5, request_timeout_ms=10000, retry_backoff_ms=100)
    total, futures = 900, []
    try:
        for i in range(total):
            futures.append((b"%d" % i, producer.send(topic, b"%d" % i, partition=i % 3)))
            _bounce(cluster, victim, i, total, producer.flush)
        producer.flush(40)
        acked = [value for value, future in futures if future.get(timeout=40) is not None]
    finally:
        producer.close(5)
    assert len(acked) == total
    _check_no_loss_no_duplicates(cluster, topic, victim, acked, total)


def test_aiokafka_idempotent_producer_loses_and_duplicates_nothing_while_a_broker_stops_and_starts(cluster):
    from aiokafka import AIOKafkaProducer

    topic = new_topic()
    create(cluster, topic, partitions=3)
    victim = partitions_of(cluster, topic)[0]["leader"]
    total = 900

    async def run():
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap(cluster), acks="all", enable_idempotence=True,
                                    linger_ms=5, request_timeout_ms=10000, retry_backoff_ms=100)
        await producer.start()
        acked, pending = [], []
        try:
            for i in range(total):
                pending.append((b"%d" % i, await producer.send(topic, b"%d" % i, partition=i % 3)))
                if i == total // 3:
                    await producer.flush()
                    await asyncio.to_thread(cluster.stop_broker, victim)
                if i == 2 * total // 3:
                    await asyncio.wait_for(producer.flush(), 30)
                    await asyncio.to_thread(cluster.start_broker, victim)
            for value, future in pending:
                await asyncio.wait_for(future, 40)
                acked.append(value)
        finally:
            await producer.stop()
        return acked

    acked = asyncio.run(run())
    assert len(acked) == total
    _check_no_loss_no_duplicates(cluster, topic, victim, acked, total)


def test_a_group_whose_coordinator_stops_finds_the_new_one_and_resumes_from_committed_offsets(cluster):
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.admin import AdminClient

    topic, group = new_topic(), f"group-{uuid.uuid4().hex[:8]}"
    create(cluster, topic, partitions=3)
    producer = Producer(conf(cluster, acks="all"))
    for i in range(30):
        producer.produce(topic, b"%d" % i, partition=i % 3)
    assert producer.flush(20) == 0

    def consumer():
        c = Consumer(conf(cluster, **{"group.id": group, "enable.auto.commit": False, "auto.offset.reset": "earliest",
                                      "session.timeout.ms": 10000, "heartbeat.interval.ms": 500}))
        c.subscribe([topic])
        return c

    def read(c, count):
        got = []
        deadline = time.monotonic() + DEADLINE_S
        while len(got) < count and time.monotonic() < deadline:
            msg = c.poll(0.5)
            if msg is not None and not msg.error():
                got.append(msg.value())
        return got

    first = consumer()
    before = read(first, 12)
    assert len(before) == 12
    first.commit(asynchronous=False)
    admin = AdminClient(conf(cluster))
    old = admin.describe_consumer_groups([group])[group].result(10).coordinator.id
    cluster.stop_broker(old)
    first.close()  # its LeaveGroup finds the new coordinator
    second = consumer()
    after = read(second, 18)
    assert len(after) == 18, (len(after), before)
    second.commit(asynchronous=False)
    second.close()
    assert sorted(before + after, key=int) == [b"%d" % i for i in range(30)]  # resumed exactly where it committed
    # the coordinator moved with the leadership of the group's __consumer_offsets partition
    new = partitions_of(cluster, "__consumer_offsets")[coordinator_partition(group, 50)]["leader"]
    assert new not in (old, -1)


def test_a_transactional_producer_survives_coordinator_moves(cluster):
    from confluent_kafka import Producer

    topic, txid = new_topic(), f"tx-{uuid.uuid4().hex[:8]}"
    create(cluster, topic, partitions=3)
    producer = Producer(conf(cluster, **{"transactional.id": txid, "linger.ms": 5}))
    producer.init_transactions(20)
    state_partition = coordinator_partition(txid, 50)

    def coordinator():
        return partitions_of(cluster, "__transaction_state")[state_partition]["leader"]

    producer.begin_transaction()
    for i in range(10):
        producer.produce(topic, b"a%d" % i, partition=i % 3)
    producer.commit_transaction(20)
    first = coordinator()
    second = next(b for b in (1, 2, 3) if b != first)
    cluster.move_coordinator("transaction", txid, second)
    producer.begin_transaction()
    for i in range(10):
        producer.produce(topic, b"b%d" % i, partition=i % 3)
    producer.flush(20)
    third = next(b for b in (1, 2, 3) if b not in (first, second))
    cluster.move_coordinator("transaction", txid, third)  # in the middle of a transaction
    producer.commit_transaction(30)
    assert coordinator() == third
    values = consume_all(cluster, topic, 20, **{"isolation.level": "read_committed"})
    assert sorted(values) == sorted([b"a%d" % i for i in range(10)] + [b"b%d" % i for i in range(10)])


def test_min_insync_replicas_refuses_acks_all_after_two_brokers_stop_and_accepts_after_one_returns(cluster):
    from confluent_kafka import KafkaError, Producer

    topic = new_topic()
    create(cluster, topic, partitions=1, configs={"min.insync.replicas": "2"})
    leader = partitions_of(cluster, topic)[0]["leader"]
    followers = [b for b in (1, 2, 3) if b != leader]

    def send(value: bytes):
        producer = Producer(conf(cluster, acks="all", retries=0, **{"enable.idempotence": False,
                                                                     "message.timeout.ms": 10000}))
        result = []
        producer.produce(topic, value, partition=0, on_delivery=lambda err, msg: result.append(err))
        producer.flush(15)
        return result[0] if result else "no delivery report"

    assert send(b"three") is None
    cluster.stop_broker(followers[0])
    assert send(b"two") is None  # ISR of 2 = min.insync.replicas
    cluster.stop_broker(followers[1])
    refused = send(b"one")
    assert refused is not None and refused.code() == KafkaError.NOT_ENOUGH_REPLICAS
    cluster.start_broker(followers[0])
    assert send(b"two again") is None
    assert sorted(partitions_of(cluster, topic)[0]["isr"]) == sorted([leader, followers[0]])


def test_a_paused_broker_holds_requests_until_it_resumes(cluster):
    from confluent_kafka import Producer

    topic = new_topic()
    create(cluster, topic, partitions=1)
    leader = partitions_of(cluster, topic)[0]["leader"]
    producer = Producer(conf(cluster, acks="all", **{"linger.ms": 0}))
    producer.produce(topic, b"warm", partition=0)
    assert producer.flush(15) == 0
    cluster.pause_broker(leader)
    done = threading.Event()
    producer.produce(topic, b"held", partition=0, on_delivery=lambda err, msg: done.set())
    producer.poll(1.0)
    assert not done.is_set()  # accepted, unanswered
    cluster.resume_broker(leader)
    assert producer.flush(15) == 0 and done.is_set()


def test_an_idempotent_producer_keeps_going_when_the_leader_hangs_and_is_fenced(cluster):
    """A paused leader is fenced after broker.session.timeout.ms (3 s here): leadership moves, the client
    follows; resumed, the broker answers what it held (NOT_LEADER_OR_FOLLOWER) and rejoins the ISR."""
    topic = new_topic()
    create(cluster, topic, partitions=3)
    before = partitions_of(cluster, topic)[0]
    victim = before["leader"]
    # against a hung broker a client waits socket.timeout.ms, then retries where Metadata sends it
    producer, delivered, acked, failed = _idempotent_producer(cluster, **{
        "request.timeout.ms": 5000, "socket.timeout.ms": 6000, "message.timeout.ms": 50000})
    total = 1500
    for i in range(total):
        producer.produce(topic, b"%d" % i, partition=i % 3, on_delivery=delivered)
        producer.poll(0)
        if i == total // 3:
            assert producer.flush(20) == 0
            cluster.pause_broker(victim)
        if i == 2 * total // 3:
            deadline = time.monotonic() + DEADLINE_S
            while partitions_of(cluster, topic)[0]["leader"] == victim and time.monotonic() < deadline:
                producer.poll(0.2)
            fenced = next(b for b in cluster.cluster()["brokers"] if b["id"] == victim)
            assert fenced["fenced"] and fenced["paused"]
            state = partitions_of(cluster, topic)[0]
            assert state["leader"] != victim and victim not in state["isr"]
            assert state["leader_epoch"] > before["leader_epoch"]
            assert producer.flush(45) == 0  # acknowledged by the new leader while the old one still hangs
            cluster.resume_broker(victim)
        time.sleep(0.0005)
    assert producer.flush(45) == 0
    assert failed == []
    deadline = time.monotonic() + DEADLINE_S
    while sorted(partitions_of(cluster, topic)[0]["isr"]) != [1, 2, 3] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sorted(partitions_of(cluster, topic)[0]["isr"]) == [1, 2, 3]  # registered again, back in sync
    _check_no_loss_no_duplicates(cluster, topic, victim, acked, total)


def test_a_fenced_broker_answers_what_it_held_on_resume_as_a_follower(cluster):
    """A Produce sent to a leader that then hangs and is fenced: on resume it is answered as the
    broker now is, NOT_LEADER_OR_FOLLOWER naming the new leader (KIP-951), as a real broker would."""
    from tests.gateway.rawclient import RawClient
    from wire.errors import ErrorCode
    from wire.records import build_batch

    topic = new_topic()
    create(cluster, topic, partitions=1)
    victim = partitions_of(cluster, topic)[0]["leader"]
    raw = RawClient((cluster.host, cluster.port + victim - 1), timeout=DEADLINE_S)
    try:
        cluster.pause_broker(victim)
        raw.send(0, 10, {"transactional_id": None, "acks": -1, "timeout_ms": 30000, "topic_data": [
            {"name": topic, "partition_data": [{"index": 0, "records": build_batch([(None, b"held", [], 1000)])}]}]})
        deadline = time.monotonic() + DEADLINE_S
        while partitions_of(cluster, topic)[0]["leader"] == victim and time.monotonic() < deadline:
            time.sleep(0.1)
        moved = partitions_of(cluster, topic)[0]
        assert moved["leader"] != victim
        cluster.resume_broker(victim)
        _, response = raw.recv(0, 10)
    finally:
        raw.close()
    result = response.responses[0].partition_responses[0]
    assert result.error_code == ErrorCode.NOT_LEADER_OR_FOLLOWER  # it is a follower now
    hint = result.current_leader
    assert (hint.leader_id, hint.leader_epoch) == (moved["leader"], moved["leader_epoch"])
    assert [e.node_id for e in response.node_endpoints] == [moved["leader"]]
    assert consume_all(cluster, topic, 0) == []  # the held request appended nothing


def test_a_hung_follower_fails_acks_all_after_the_append_once_it_leaves_the_isr(cluster):
    from confluent_kafka import KafkaError, Producer

    topic = new_topic()
    create(cluster, topic, partitions=1, configs={"min.insync.replicas": "3"})
    state = partitions_of(cluster, topic)[0]
    follower = next(b for b in state["replicas"] if b != state["leader"])
    cluster.pause_broker(follower)
    producer = Producer(conf(cluster, acks="all", retries=0, **{"enable.idempotence": False}))
    result = []
    producer.produce(topic, b"held", partition=0, on_delivery=lambda err, msg: result.append(err))
    producer.flush(15)
    assert result and result[0] is not None and result[0].code() == KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND
    assert follower not in partitions_of(cluster, topic)[0]["isr"]
    cluster.resume_broker(follower)
    assert sorted(partitions_of(cluster, topic)[0]["isr"]) == [1, 2, 3]

"""Cluster operations from each front end (HTTP control API, `ottla broker|leader` CLI, ottla.testing) on a
3-broker Ottla (`--brokers 3`), asserting what confluent-kafka observed: a stopped broker leaves the
metadata and the producer follows the new leader; a paused broker holds a Produce until it resumes; a
moved leader is where the client sends; a shrunk ISR refuses acks=all with NOT_ENOUGH_REPLICAS.
Ottla-only: skipped against KAFKA_BOOTSTRAP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid

import pytest
from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from compat_tests.conftest import REPO

pytestmark = pytest.mark.skipif(bool(os.environ.get("KAFKA_BOOTSTRAP")), reason="cluster control is Ottla's")


@pytest.fixture(scope="module")
def cluster():
    from ottla.testing import OttlaOnly, cluster as start_cluster

    try:
        with start_cluster(3) as c:
            yield c
    except OttlaOnly as exc:
        pytest.skip(str(exc))


class Python:
    def __init__(self, c) -> None:
        self.c = c

    def broker(self, node_id: int, verb: str) -> None:
        getattr(self.c, f"{verb}_broker")(node_id)

    def move_leader(self, topic: str, partition: int, node_id: int) -> None:
        self.c.move_leader(topic, partition, node_id)

    def set_isr(self, topic: str, partition: int, ids: list[int]) -> None:
        self.c.set_isr(topic, partition, ids)

    def move_coordinator(self, group: str, node_id: int) -> None:
        self.c.move_coordinator("group", group, node_id)


class Http(Python):
    def __init__(self, c) -> None:
        from gateway.faults.client import ControlClient

        self.control = ControlClient(c.control_url)

    def broker(self, node_id: int, verb: str) -> None:
        assert self.control.broker(node_id, verb)["id"] == node_id

    def move_leader(self, topic: str, partition: int, node_id: int) -> None:
        assert self.control.move_leader(topic, partition, node_id)["leader"] == node_id

    def set_isr(self, topic: str, partition: int, ids: list[int]) -> None:
        assert sorted(self.control.set_isr(topic, partition, ids)["isr"]) == sorted(ids)

    def move_coordinator(self, group: str, node_id: int) -> None:
        assert self.control.move_coordinator("group", group, node_id)["broker"] == node_id


class Cli(Python):
    def __init__(self, c) -> None:
        self.url = c.control_url

    def ottla(self, *args: str) -> dict:
        done = subprocess.run([sys.executable, "-m", "gateway", *args, "--control", self.url, "--output", "json"],
                              cwd=REPO, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def broker(self, node_id: int, verb: str) -> None:
        assert self.ottla("broker", verb, str(node_id))["id"] == node_id

    def move_leader(self, topic: str, partition: int, node_id: int) -> None:
        assert self.ottla("leader", "move", topic, str(partition), "--to", str(node_id))["leader"] == node_id

    def set_isr(self, topic: str, partition: int, ids: list[int]) -> None:
        assert sorted(self.ottla("leader", "isr", topic, str(partition), *map(str, ids))["isr"]) == sorted(ids)

    def move_coordinator(self, group: str, node_id: int) -> None:
        assert self.ottla("leader", "coordinator", "group", group, "--to", str(node_id))["broker"] == node_id


@pytest.fixture(params=["http", "cli", "python"])
def front(request, cluster):
    chosen = {"http": Http, "cli": Cli, "python": Python}[request.param](cluster)
    yield chosen
    for b in cluster.cluster()["brokers"]:  # every broker back for the next test
        if b["paused"]:
            cluster.resume_broker(b["id"])
        if not b["alive"]:
            cluster.start_broker(b["id"])


def new_topic(cluster, **configs) -> str:
    topic = f"cluster-{uuid.uuid4().hex[:10]}"
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap_servers})
    admin.create_topics([NewTopic(topic, 1, 3, config=configs)])[topic].result(30)
    return topic


def leader_of(cluster, topic: str) -> int:
    return next(t for t in cluster.cluster()["topics"] if t["name"] == topic)["partitions"][0]["leader"]


def client_view(bootstrap: str, topic: str) -> tuple[set[int], int]:
    """(brokers, leader of partition 0) as confluent-kafka's Metadata shows them."""
    meta = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=10)
    return set(meta.brokers), meta.topics[topic].partitions[0].leader


def producer(cluster, **config) -> Producer:
    return Producer({"bootstrap.servers": cluster.bootstrap_servers, "enable.idempotence": True, "linger.ms": 5,
                     "retry.backoff.ms": 50, "topic.metadata.refresh.interval.ms": 1000, **config})


def send(p: Producer, topic: str, value: bytes) -> list:
    errors = []
    p.produce(topic, value, on_delivery=lambda err, msg: errors.append(err))
    p.flush(40)
    return errors


def test_a_stopped_leader_leaves_and_the_producer_follows(front, cluster):
    topic = new_topic(cluster)
    p = producer(cluster)
    assert send(p, topic, b"before") == [None]
    old = leader_of(cluster, topic)
    front.broker(old, "stop")
    assert old not in {b["id"] for b in cluster.cluster()["brokers"] if b["alive"]}
    assert send(p, topic, b"after-stop") == [None]
    new = leader_of(cluster, topic)
    assert new != old and new > 0
    brokers, leader = client_view(cluster.bootstrap_servers, topic)  # bootstraps through a live broker
    assert old not in brokers and leader == new
    front.broker(old, "start")
    assert {b["id"] for b in cluster.cluster()["brokers"] if b["alive"]} == {1, 2, 3}


def test_a_paused_broker_holds_requests_until_resumed(front, cluster):
    topic = new_topic(cluster)
    p = producer(cluster, **{"request.timeout.ms": 30000, "message.timeout.ms": 60000})
    assert send(p, topic, b"warm") == [None]
    leader = leader_of(cluster, topic)
    front.broker(leader, "pause")
    errors = []
    done = threading.Event()
    p.produce(topic, b"held", on_delivery=lambda err, msg: (errors.append(err), done.set()))
    flusher = threading.Thread(target=p.flush, args=(60,))
    started = time.monotonic()
    flusher.start()
    assert not done.wait(1.5), "answered while paused"
    front.broker(leader, "resume")
    assert done.wait(30)
    flusher.join(30)
    assert errors == [None] and time.monotonic() - started >= 1.5


def test_a_moved_leader_is_where_the_client_sends(front, cluster):
    topic = new_topic(cluster)
    p = producer(cluster)
    assert send(p, topic, b"one") == [None]
    old = leader_of(cluster, topic)
    target = next(n for n in (1, 2, 3) if n != old)
    front.move_leader(topic, 0, target)
    deadline = time.monotonic() + 20
    while client_view(cluster.bootstrap_servers, topic)[1] != target:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert send(p, topic, b"two") == [None]
    assert leader_of(cluster, topic) == target


def test_a_shrunk_isr_refuses_acks_all_until_it_grows(front, cluster):
    topic = new_topic(cluster, **{"min.insync.replicas": "2"})
    leader = leader_of(cluster, topic)
    front.set_isr(topic, 0, [leader])
    errors = send(producer(cluster, **{"enable.idempotence": False, "acks": "all", "retries": 0}),
                  topic, b"refused")
    assert [e.code() for e in errors] == [KafkaError.NOT_ENOUGH_REPLICAS]
    front.set_isr(topic, 0, [1, 2, 3])
    assert send(producer(cluster), topic, b"accepted") == [None]


def coordinator_of(cluster, group: str) -> int:
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap_servers})
    return admin.describe_consumer_groups([group])[group].result(30).coordinator.id


def consume_one(cluster, group: str, topic: str):
    """A fresh member of `group`: the first record it reads (from the group's committed offset) and what
    committing it answered."""
    consumer = Consumer({"bootstrap.servers": cluster.bootstrap_servers, "group.id": group,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            m = consumer.poll(0.5)
            if m is not None and m.error() is None:
                return m.value(), consumer.commit(m, asynchronous=False)[0]
        return None, None
    finally:
        consumer.close()


@pytest.mark.groups
def test_a_moved_coordinator_is_found_and_the_group_resumes_there(front, cluster):
    topic = new_topic(cluster)
    assert send(producer(cluster), topic, b"first") == [None]
    group = f"moved-{uuid.uuid4().hex[:8]}"
    value, committed = consume_one(cluster, group, topic)
    assert value == b"first" and committed.error is None and committed.offset == 1
    old = coordinator_of(cluster, group)
    target = next(n for n in (1, 2, 3) if n != old)
    front.move_coordinator(group, target)
    assert coordinator_of(cluster, group) == target  # what FindCoordinator/DescribeGroups tell the client
    assert send(producer(cluster), topic, b"second") == [None]
    value, committed = consume_one(cluster, group, topic)  # joins and commits at the new coordinator
    assert value == b"second" and committed.error is None and committed.offset == 2

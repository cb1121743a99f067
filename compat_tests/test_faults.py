"""Each fault type from each front end (the HTTP control API, the `ottla fault` CLI, the Python API of
ottla.testing, `--faults FILE`), asserting what a real client observed and the fault's fired count.

The HTTP and CLI front ends drive the session's broker (its --http-port); the Python API drives a broker of
its own from ottla.testing. Ottla-only: skipped against KAFKA_BOOTSTRAP.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from compat_tests.conftest import REPO

pytestmark = pytest.mark.skipif(bool(os.environ.get("KAFKA_BOOTSTRAP")), reason="fault injection is Ottla's")


class HttpFront:
    name = "http"

    def __init__(self, bootstrap: str, control_url: str) -> None:
        from gateway.faults.client import ControlClient

        self.bootstrap, self.url = bootstrap, control_url
        self.client = ControlClient(control_url)

    def add(self, **spec) -> int:
        return self.client.add_fault(**spec)["id"]

    def fired(self, fault_id: int) -> int:
        return self.client.fault(fault_id)["fired"]

    def clear(self) -> None:
        self.client.clear_faults()


class CliFront(HttpFront):
    name = "cli"

    def ottla(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "gateway", *args], cwd=REPO, capture_output=True, text=True,
                              env={**os.environ, "OTTLA_CONTROL": self.url}, timeout=60)

    def add(self, **spec) -> int:
        args = ["fault", "add"]
        for key, value in spec.items():
            flag = "--" + key.replace("_", "-")
            args += [flag] if value is True else [flag, str(value)]
        done = self.ottla(*args)
        assert done.returncode == 0, done.stderr
        return int(done.stdout.strip())

    def fired(self, fault_id: int) -> int:
        done = self.ottla("fault", "list", "--output", "json")
        assert done.returncode == 0, done.stderr
        return next(f["fired"] for f in json.loads(done.stdout) if f["id"] == fault_id)

    def clear(self) -> None:
        assert self.ottla("fault", "clear").returncode == 0


class PythonFront:
    name = "python"

    def __init__(self, broker) -> None:
        self.broker, self.bootstrap = broker, broker.bootstrap_server
        self.faults = {}

    def add(self, **spec) -> int:
        fault = self.broker.fault(**spec)
        self.faults[fault.id] = fault
        return fault.id

    def fired(self, fault_id: int) -> int:
        return self.faults[fault_id].fired

    def clear(self) -> None:
        self.broker.clear_faults()


@pytest.fixture(scope="module")
def own_broker():
    from ottla.testing import broker

    with broker() as b:
        yield b


@pytest.fixture(params=["http", "cli", "python"])
def front(request, broker, own_broker):
    if request.param == "python":
        chosen = PythonFront(own_broker)
    else:
        if not broker.managed:
            pytest.skip("needs the session's own Ottla")
        cls = HttpFront if request.param == "http" else CliFront
        chosen = cls(broker.bootstrap, f"http://127.0.0.1:{broker.admin_port}")
    yield chosen
    chosen.clear()


def new_topic(front) -> str:
    """A topic with a record in it, so the producer has its metadata before the fault goes in."""
    topic = f"faults-{uuid.uuid4().hex[:10]}"
    assert deliver(front.bootstrap, topic, [b"warm-up"]) == [None]
    return topic


class Lines(logging.Handler):
    """librdkafka's log lines (confluent-kafka's `logger`)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def deliver(bootstrap: str, topic: str, values, logger=None, **config) -> list:
    """Produce with an idempotent acks=all confluent-kafka producer; each record's delivery error (None: ok)."""
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5,
                         "retry.backoff.ms": 20, "message.timeout.ms": 30000, **config},
                        **({"logger": logger} if logger is not None else {}))
    errors = []
    for value in values:
        producer.produce(topic, value, on_delivery=lambda err, msg: errors.append(err))
    assert producer.flush(40) == 0
    return errors


def stored(bootstrap: str, topic: str, partition: int = 0) -> list[bytes]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "faults-reader", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, partition, 0)])
    _, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
    values, deadline = [], time.monotonic() + 30
    while len(values) < high and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            values.append(message.value())
    consumer.close()
    return values


def test_a_retriable_error_is_retried_and_the_record_stored_once(front):
    topic = new_topic(front)
    fault = front.add(api="Produce", error="NOT_LEADER_OR_FOLLOWER", count=3, topic=topic)
    assert deliver(front.bootstrap, topic, [b"once"]) == [None]
    assert front.fired(fault) == 3
    assert stored(front.bootstrap, topic) == [b"warm-up", b"once"]


def test_a_fatal_error_is_surfaced_to_the_application(front):
    topic = new_topic(front)
    fault = front.add(api="Produce", error="TOPIC_AUTHORIZATION_FAILED", count=1, topic=topic)
    errors = deliver(front.bootstrap, topic, [b"refused"], **{"enable.idempotence": False})
    assert [e.code() for e in errors] == [KafkaError.TOPIC_AUTHORIZATION_FAILED]
    assert front.fired(fault) == 1
    assert stored(front.bootstrap, topic) == [b"warm-up"]


def test_latency_is_what_the_client_waits(front):
    topic = new_topic(front)
    producer = Producer({"bootstrap.servers": front.bootstrap, "linger.ms": 0, "acks": "all"})
    producer.produce(topic, b"warm")
    producer.flush(20)
    fault = front.add(api="Produce", delay_ms=600, count=1, topic=topic)
    started = time.monotonic()
    producer.produce(topic, b"slow")
    assert producer.flush(20) == 0
    assert time.monotonic() - started >= 0.6
    assert front.fired(fault) == 1


def test_a_dropped_connection_is_reconnected_and_retried_without_duplicates(front):
    topic = new_topic(front)
    seen = Lines()
    logger = logging.getLogger(f"rdkafka-{topic}")
    logger.addHandler(seen)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    fault = front.add(api="Produce", drop_connection=True, count=1, topic=topic)
    errors = deliver(front.bootstrap, topic, [b"after-drop"], logger=logger)
    assert errors == [None]
    assert any("Disconnected" in line for line in seen.lines), seen.lines  # the client saw it, then retried
    assert front.fired(fault) == 1
    assert stored(front.bootstrap, topic) == [b"warm-up", b"after-drop"]


@pytest.mark.groups
def test_a_group_fault_matches_its_group_only(front):
    topic = new_topic(front)
    group = f"faults-g-{uuid.uuid4().hex[:8]}"
    fault = front.add(api="JoinGroup", error="COORDINATOR_NOT_AVAILABLE", count=2, group=group)
    consumer = Consumer({"bootstrap.servers": front.bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                         "session.timeout.ms": 6000, "retry.backoff.ms": 50})
    consumer.subscribe([topic])
    got, deadline = None, time.monotonic() + 40
    while got is None and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            got = message.value()
    consumer.close()
    assert got == b"warm-up"  # it joined after the two refusals
    assert front.fired(fault) == 2


def test_faults_from_a_start_up_file(tmp_path):
    from ottla.testing import broker

    path = tmp_path / "faults.json"
    path.write_text(json.dumps([{"api": "Produce", "error": "NOT_ENOUGH_REPLICAS", "count": 2}]))
    with broker(args=["--faults", str(path)]) as b:
        assert deliver(b.bootstrap_server, "from-file", [b"x"]) == [None]
        (fault,) = b.faults()
        assert fault["fired"] == 2 and fault["error"] == "NOT_ENOUGH_REPLICAS"


def test_a_bad_start_up_file_is_refused_before_the_broker_starts(tmp_path):
    path = tmp_path / "faults.json"
    path.write_text(json.dumps([{"api": "Produce", "error": "NO_SUCH_ERROR"}]))
    done = subprocess.run([sys.executable, "-m", "gateway", "serve", "--memory", "--port", "0", "--faults", str(path)],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "unknown error code" in done.stderr


def test_the_cli_waits_shows_and_removes(broker):
    if not broker.managed:
        pytest.skip("needs the session's own Ottla")
    cli = CliFront(broker.bootstrap, f"http://127.0.0.1:{broker.admin_port}")
    topic = new_topic(cli)
    fault = cli.add(api="Produce", error="NOT_LEADER_OR_FOLLOWER", count=2, topic=topic)
    timed_out = cli.ottla("fault", "wait", str(fault), "--fired", "1", "--timeout", "0.2")
    assert timed_out.returncode == 3 and "fired 0 of 1" in timed_out.stderr
    assert deliver(cli.bootstrap, topic, [b"x"]) == [None]
    waited = cli.ottla("fault", "wait", str(fault), "--fired", "2", "--output", "json")
    assert waited.returncode == 0 and json.loads(waited.stdout)["fired"] == 2
    removed = cli.ottla("fault", "remove", str(fault))
    assert removed.returncode == 0
    assert cli.ottla("fault", "show", str(fault)).returncode == 4  # gone: not found
    refused = cli.ottla("fault", "add", "--api", "Produce", "--error", "NOPE")
    assert refused.returncode == 2 and "unknown error code" in refused.stderr
    no_control = subprocess.run([sys.executable, "-m", "gateway", "fault", "list"], cwd=REPO, capture_output=True,
                                text=True, env={k: v for k, v in os.environ.items() if k != "OTTLA_CONTROL"})
    assert no_control.returncode == 2 and "OTTLA_CONTROL" in no_control.stderr

"""`ottla serve --topic NAME[:PARTITIONS[:key=value,...]]`: parsing, and topics there from the first request."""

import argparse
import subprocess
import sys

import pytest
import structlog

from gateway.startup_topics import TopicSpec, create_startup_topics, parse_topic_spec
from tests.gateway.conftest import ROOT, BrokerProcess
from tests.gateway.inprocess import new_broker

METADATA, DESCRIBE_CONFIGS = 3, 32


@pytest.mark.parametrize("text, spec", [
    ("orders", TopicSpec("orders", -1, ())),
    ("orders:6", TopicSpec("orders", 6, ())),
    ("orders::retention.ms=1000", TopicSpec("orders", -1, (("retention.ms", "1000"),))),
    ("orders:3:cleanup.policy=compact,delete,retention.ms=5", TopicSpec(
        "orders", 3, (("cleanup.policy", "compact,delete"), ("retention.ms", "5")))),
])
def test_specs(text, spec):
    assert parse_topic_spec(text) == spec


@pytest.mark.parametrize("text", ["", ":3", "orders:three", "orders:1:compact"])
def test_unreadable_specs(text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_topic_spec(text)


def test_existing_topics_are_left_alone_and_bad_ones_stop_the_start():
    broker = new_broker()
    log = structlog.get_logger()
    create_startup_topics(broker, [parse_topic_spec("t:3:retention.ms=1000")], log)
    create_startup_topics(broker, [parse_topic_spec("t:5")], log)
    assert len(broker.logs.get("t").partitions) == 3 and broker.logs.get("t").configs == {"retention.ms": "1000"}
    with pytest.raises(SystemExit, match="INVALID_CONFIG"):
        create_startup_topics(broker, [parse_topic_spec("u:1:retention.ms=soon")], log)
    with pytest.raises(SystemExit, match="INVALID_PARTITIONS"):
        create_startup_topics(broker, [parse_topic_spec("u:0")], log)
    assert broker.logs.get("u") is None


def test_serve_creates_the_topics_before_it_is_ready():
    process = BrokerProcess("--memory", "--topic", "orders:4:cleanup.policy=compact", "--topic", "events")
    try:
        client = process.client()
        response = client.request(METADATA, 12, {"topics": None, "allow_auto_topic_creation": False,
                                                 "include_topic_authorized_operations": False})
        assert {t.name: len(t.partitions) for t in response.topics} == {"orders": 4, "events": 1}
        client.close()
    finally:
        process.stop()


def test_serve_refuses_to_start_with_a_topic_kafka_would_refuse():
    proc = subprocess.run([sys.executable, "-m", "gateway", "serve", "--memory", "--port", "0",
                           "--topic", "bad/name"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0 and "INVALID_TOPIC_EXCEPTION" in proc.stderr

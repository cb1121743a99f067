"""Retention on the broker's timer and DeleteRecords over the wire, against an in-memory broker."""

import time

import pytest

from tests.gateway.conftest import BrokerProcess
from tests.gateway.test_handlers import create, fetch, list_offset, produce
from wire.errors import ErrorCode
from wire.records import build_batch

DELETE_RECORDS = 21


@pytest.fixture(scope="module")
def broker():
    process = BrokerProcess("--memory", "--log-retention-check-interval-ms", "50")
    yield process
    process.stop()


@pytest.fixture
def client(broker):
    c = broker.client()
    yield c
    c.close()


def delete_records(client, name, partition, offset, version=2):
    response = client.request(DELETE_RECORDS, version, {"topics": [
        {"name": name, "partitions": [{"partition_index": partition, "offset": offset}]}], "timeout_ms": 1000})
    return response.topics[0].partitions[0]


@pytest.mark.parametrize("version", [0, 1, 2])
def test_delete_records_moves_the_low_watermark_and_answers_kafkas_errors(client, version):
    name = f"delete-records-v{version}"
    create(client, name)
    now = int(time.time() * 1000)  # recent: retention.ms (7 days) must not remove them meanwhile
    for i in range(5):
        produce(client, name, build_batch([(b"k", b"v%d" % i, [], now + i)]))
    moved = delete_records(client, name, 0, 3, version)
    assert (moved.error_code, moved.low_watermark) == (ErrorCode.NONE, 3)
    assert list_offset(client, name, -2).offset == 3
    below = fetch(client, name, 2).responses[0].partitions[0]
    assert below.error_code == ErrorCode.OFFSET_OUT_OF_RANGE and below.log_start_offset == 3
    at = fetch(client, name, 3).responses[0].partitions[0]
    assert at.error_code == ErrorCode.NONE and at.records and at.log_start_offset == 3
    assert delete_records(client, name, 0, 6, version).error_code == ErrorCode.OFFSET_OUT_OF_RANGE
    assert delete_records(client, name, 1, 1, version).error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    assert delete_records(client, "no-such-topic", 0, 1, version).error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    to_end = delete_records(client, name, 0, -1, version)
    assert (to_end.error_code, to_end.low_watermark) == (ErrorCode.NONE, 5)


def test_delete_records_on_a_compact_only_topic_is_a_policy_violation(client):
    create(client, "compact-only", configs=[("cleanup.policy", "compact")])
    produce(client, "compact-only", build_batch([(b"k", b"v", [], int(time.time() * 1000))]))
    assert delete_records(client, "compact-only", 0, 1).error_code == ErrorCode.POLICY_VIOLATION


def test_retention_ms_on_the_check_interval_moves_the_earliest_offset(client):
    create(client, "short-lived", configs=[("retention.ms", "60000"), ("segment.ms", "1")])
    now = int(time.time() * 1000)
    for i in range(4):  # two old enough to expire, two recent; each batch rolls a new segment
        produce(client, "short-lived", build_batch([(b"k", b"v%d" % i, [], now - 120_000 if i < 2 else now)]))
    deadline = time.monotonic() + 5
    while list_offset(client, "short-lived", -2).offset != 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list_offset(client, "short-lived", -2).offset == 2
    assert list_offset(client, "short-lived", -1).offset == 4
    assert fetch(client, "short-lived", 0).responses[0].partitions[0].error_code == ErrorCode.OFFSET_OUT_OF_RANGE

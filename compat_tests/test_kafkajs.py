"""kafkajs 2.2.4 (node scripts in compat_tests/js) against the broker: topics, read-back, gzip, restarts."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from compat_tests import rawkafka, samples, scenarios
from compat_tests.samples import make_samples

JS_DIR = Path(__file__).parent / "js"
RUN_TIMEOUT_S = 40

pytestmark = [
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
    pytest.mark.skipif(
        not (JS_DIR / "node_modules" / "kafkajs").is_dir(),
        reason="kafkajs is not installed: run `npm ci` in compat_tests/js",
    ),
]


def node(script: str, bootstrap: str, **params):
    """Run one kafkajs script; returns its JSON result, failing the test with its error and logs."""
    proc = subprocess.run(
        ["node", script, json.dumps({"bootstrap": bootstrap, **params})], cwd=JS_DIR, capture_output=True,
        text=True, timeout=RUN_TIMEOUT_S,
    )
    lines = proc.stdout.strip().splitlines()
    result = json.loads(lines[-1]) if lines else None
    assert proc.returncode == 0, f"node {script} exited {proc.returncode}: {result}\n{proc.stderr[-4000:]}"
    return result


def to_js(records: list[samples.Sample]) -> list[dict]:
    return [
        {"key": r.key.decode(), "value": r.value.decode(), "timestamp": r.timestamp,
         "headers": [[k, v.decode()] for k, v in r.headers]}
        for r in records
    ]


def expected(records: list[samples.Sample], first_offset: int = 0) -> list[dict]:
    return [dict(m, offset=first_offset + i) for i, m in enumerate(to_js(records))]


def produce(bootstrap: str, topic: str, records: list[samples.Sample], **options) -> list[int]:
    """One send() of every record to partition 0; returns the acknowledged offsets."""
    (result,) = node("produce.js", bootstrap, topic=topic, messages=to_js(records), **options)
    assert (result["partition"], result["errorCode"]) == (0, 0)
    return [int(result["baseOffset"]) + i for i in range(len(records))]


def fetch(bootstrap: str, topic: str, count: int, offset: int = 0, timeout_ms: int = 10_000) -> list[dict]:
    return node("fetch.js", bootstrap, topic=topic, offset=offset, count=count, timeoutMs=timeout_ms)["messages"]


def watermarks(bootstrap: str, topic: str) -> tuple[int, int]:
    (partition,) = node("admin.js", bootstrap, action="offsets", topic=topic)
    return int(partition["low"]), int(partition["high"])


CALLS = scenarios.Calls(
    produce=produce, read=fetch, end=watermarks, end_of=lambda n: (0, n), acks_all={"acks": -1},
    acks_1={"acks": 1}, expected=expected,
)


def test_create_topic_shows_in_metadata(bootstrap):
    name = samples.unique_name("compat-js-create")
    result = node("admin.js", bootstrap, action="create", topic=name, partitions=3)
    assert result["created"] is True
    assert name in result["topics"]
    (described,) = node("admin.js", bootstrap, action="metadata", topic=name)["topics"]
    assert described["name"] == name
    assert sorted(p["partitionId"] for p in described["partitions"]) == [0, 1, 2]


def test_produce_and_read_back_exactly(bootstrap, topic):
    scenarios.produce_and_read_back_exactly(CALLS, bootstrap, topic)


def test_gzip_batches_round_trip(bootstrap, topic):
    scenarios.compressed_batches_round_trip(CALLS, bootstrap, topic, "gzip", 5, compression="gzip")


def test_idempotent_producer_writes_each_record_once(bootstrap, topic):
    scenarios.idempotent_producer_writes_each_record_once(CALLS, bootstrap, topic, idempotent=True)


def test_seek_to_offset(bootstrap, topic):
    scenarios.seek_to_offset(CALLS, bootstrap, topic)


def test_offsets_for_times_finds_exact_record(bootstrap, topic):
    records = make_samples(6)
    produce(bootstrap, topic, records)

    def offset_for(timestamp: int) -> int:
        (partition,) = node("admin.js", bootstrap, action="offsetsForTime", topic=topic, timestamp=timestamp)
        return int(partition["offset"])

    assert offset_for(records[2].timestamp) == 2
    assert offset_for(records[4].timestamp - 1) == 4
    assert offset_for(records[-1].timestamp + 1) == 6  # kafkajs answers "none" with the high watermark
    assert fetch(bootstrap, topic, 1, offset=2)[0] == expected(records)[2]


def test_delete_topic_then_recreate_is_empty(bootstrap, topic):
    produce(bootstrap, topic, make_samples(3))
    assert topic not in node("admin.js", bootstrap, action="delete", topic=topic)["topics"]
    assert topic not in rawkafka.topic_names(bootstrap)
    assert node("admin.js", bootstrap, action="create", topic=topic)["created"] is True
    assert watermarks(bootstrap, topic) == (0, 0)
    assert fetch(bootstrap, topic, 1, timeout_ms=1500) == []
    assert rawkafka.stored_batches(bootstrap, topic) == []


def test_restart_between_produce_and_consume_loses_nothing(bootstrap, topic, restart_broker):
    scenarios.nothing_lost_across(CALLS, bootstrap, topic, restart_broker)


def test_kill9_between_produce_and_consume_loses_nothing(bootstrap, topic, kill9_broker):
    scenarios.nothing_lost_across(CALLS, bootstrap, topic, kill9_broker)


@pytest.mark.groups
def test_group_consumer_resumes_from_committed_offset(bootstrap, topic):
    group = samples.unique_name("compat-js-group")

    def consume_in_group(count: int) -> tuple[list[dict], list[tuple[int, int]]]:
        result = node("consume_group.js", bootstrap, topic=topic, groupId=group, count=count)
        return result["messages"], [(p["partition"], int(p["offset"])) for p in result["committed"]]

    scenarios.group_consumer_resumes_from_committed_offset(
        CALLS, bootstrap, topic, consume_in_group, committed_at=lambda offset: [(0, offset)])

"""kcat (Debian's, librdkafka 2.0.2) against the broker: metadata, read-back, codecs, idempotence, restarts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import pytest

from compat_tests import samples, scenarios

pytestmark = pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat is not installed (apt-get install kcat)")

RUN_TIMEOUT_S = 25


def kcat(bootstrap: str, *args: str, stdin: str | None = None) -> str:
    """Run kcat quietly; any non-zero exit fails the test with kcat's stderr."""
    proc = subprocess.run(
        ["kcat", "-b", bootstrap, "-q", "-m", "10", *args], input=stdin, capture_output=True, text=True,
        timeout=RUN_TIMEOUT_S,
    )
    assert proc.returncode == 0, f"kcat {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}"
    sys.stderr.write(proc.stderr)  # pytest shows it with a failure (librdkafka's -d output)
    return proc.stdout


def produce(bootstrap: str, topic: str, keyed_values: list[tuple[str, str]], headers: dict[str, str],
            *config: str, debug: str | None = None) -> tuple[int, int]:
    """Produce key<TAB>value lines to partition 0; returns the wall-clock window (ms) it ran in."""
    header_args = [arg for name, value in headers.items() for arg in ("-H", f"{name}={value}")]
    config_args = [arg for setting in config for arg in ("-X", setting)]
    debug_args = ["-d", debug] if debug else []
    lines = "".join(f"{key}\t{value}\n" for key, value in keyed_values)
    before = int(time.time() * 1000)
    kcat(bootstrap, "-P", "-t", topic, "-p", "0", "-K", "\\t", *header_args, *config_args, *debug_args,
         stdin=lines)
    return before, int(time.time() * 1000)


def consume(bootstrap: str, topic: str, offset: str = "beginning") -> list[dict]:
    """Consume partition 0 from `offset` to its end (no group) as kcat's JSON envelopes."""
    out = kcat(bootstrap, "-C", "-t", topic, "-p", "0", "-o", offset, "-e", "-J")
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def header_pairs(message: dict) -> list[tuple[str, str]]:
    flat = message.get("headers", [])
    return list(zip(flat[0::2], flat[1::2]))


def batch(tag: str, count: int, start: int = 0) -> list[tuple[str, str]]:
    return [(f"key-{i % 3}", f"value-{i}-{tag}-\u00fc\u20ac") for i in range(start, start + count)]


def assert_messages(messages: list[dict], keyed_values: list[tuple[str, str]], headers: list[dict[str, str]],
                    windows: list[tuple[int, int]], first_offset: int = 0) -> None:
    """Offsets, keys, values, headers, CreateTime timestamps (inside each produce window), in order."""
    assert [m["offset"] for m in messages] == list(range(first_offset, first_offset + len(keyed_values)))
    assert [(m["key"], m["payload"]) for m in messages] == keyed_values
    assert [header_pairs(m) for m in messages] == [list(h.items()) for h in headers]
    assert all(m["tstype"] == "create" for m in messages)
    for m, (before, after) in zip(messages, windows):
        assert before <= m["ts"] <= after
    assert [m["ts"] for m in messages] == sorted(m["ts"] for m in messages)


def produce_in_groups(bootstrap: str, topic: str, groups: int, per_group: int, *config: str):
    """`groups` kcat runs (each its own headers and time window); returns (records, headers, windows)."""
    records, headers, windows = [], [], []
    for g in range(groups):
        part = batch(f"g{g}", per_group, start=g * per_group)
        group_headers = {"group": str(g), "tool": "kcat"}
        window = produce(bootstrap, topic, part, group_headers, *config)
        records += part
        headers += [group_headers] * per_group
        windows += [window] * per_group
        time.sleep(0.005)  # successive runs get strictly later timestamps
    return records, headers, windows


def test_metadata_lists_topic(bootstrap, topic):
    listing = json.loads(kcat(bootstrap, "-L", "-J", "-t", topic))
    (entry,) = [t for t in listing["topics"] if t["topic"] == topic]
    assert "error" not in entry
    assert [p["partition"] for p in entry["partitions"]] == [0]
    assert entry["partitions"][0]["leader"] in {b["id"] for b in listing["brokers"]}


def test_produce_and_read_back_exactly(bootstrap, topic):
    records, headers, windows = produce_in_groups(bootstrap, topic, 2, 3)
    assert_messages(consume(bootstrap, topic), records, headers, windows)


@pytest.mark.parametrize("codec", scenarios.CODECS)
def test_compressed_batches_round_trip(bootstrap, topic, codec):
    # 20 alike records: librdkafka sends a batch uncompressed when compressing does not shrink it;
    # -d msg puts its reason ("not compressing batch") in the captured stderr of a failure
    records = batch(codec, 20)
    headers = {"codec": codec}
    window = produce(bootstrap, topic, records, headers, f"compression.codec={codec}", "linger.ms=500", debug="msg")
    assert_messages(consume(bootstrap, topic), records, [headers] * 20, [window] * 20)
    scenarios.assert_stored_compression(bootstrap, topic, codec)


def test_idempotent_producer_writes_each_record_once(bootstrap, topic):
    records = batch("idempotent", 8)
    headers = {"mode": "idempotent"}
    window = produce(bootstrap, topic, records, headers, "enable.idempotence=true")
    assert_messages(consume(bootstrap, topic), records, [headers] * 8, [window] * 8)
    scenarios.assert_idempotent_batches(bootstrap, topic, 8)


def test_seek_to_offset(bootstrap, topic):
    records, headers, windows = produce_in_groups(bootstrap, topic, 2, 3)
    assert_messages(consume(bootstrap, topic, offset="3"), records[3:], headers[3:], windows[3:], first_offset=3)


def test_offsets_for_times_finds_exact_record(bootstrap, topic):
    produce_in_groups(bootstrap, topic, 3, 2)
    messages = consume(bootstrap, topic)
    assert len(messages) == 6
    ts = messages[2]["ts"]
    assert messages[1]["ts"] < ts, "kcat runs did not get distinct timestamps"
    answer = json.loads(kcat(bootstrap, "-Q", "-J", "-t", f"{topic}:0:{ts}"))
    assert answer[topic]["0"]["offset"] == 2
    assert "error" not in answer[topic]["0"]
    assert [m["offset"] for m in consume(bootstrap, topic, offset=f"s@{ts}")] == [2, 3, 4, 5]


def _produce_acks_all_and_acks_1(bootstrap: str, topic: str):
    durable = batch("acks-all", 4)
    leader_only = batch("acks-1", 4, start=4)
    w1 = produce(bootstrap, topic, durable, {"acks": "all"}, "acks=all")
    w2 = produce(bootstrap, topic, leader_only, {"acks": "1"}, "acks=1")
    return durable + leader_only, [{"acks": "all"}] * 4 + [{"acks": "1"}] * 4, [w1] * 4 + [w2] * 4


def test_restart_between_produce_and_consume_loses_nothing(bootstrap, topic, restart_broker):
    records, headers, windows = _produce_acks_all_and_acks_1(bootstrap, topic)
    restart_broker()
    assert_messages(consume(bootstrap, topic), records, headers, windows)


def test_kill9_between_produce_and_consume_loses_nothing(bootstrap, topic, kill9_broker):
    records, headers, windows = _produce_acks_all_and_acks_1(bootstrap, topic)
    kill9_broker()
    assert_messages(consume(bootstrap, topic), records, headers, windows)


@pytest.mark.groups
def test_group_consumer_resumes_from_committed_offset(bootstrap, topic):
    group = samples.unique_name("compat-kcat-group")

    def consume_in_group(count: int) -> list[dict]:
        # no -o: kcat applies it to every assignment, overriding the committed offset
        out = kcat(bootstrap, "-G", group, "-c", str(count), "-J", "-X", "auto.offset.reset=earliest",
                   "-X", "session.timeout.ms=10000", topic)
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    first, headers, windows = produce_in_groups(bootstrap, topic, 1, 4)
    assert_messages(consume_in_group(4), first, headers, windows)
    second = batch("second", 3, start=4)
    window = produce(bootstrap, topic, second, {"group": "second"})
    assert_messages(consume_in_group(3), second, [{"group": "second"}] * 3, [window] * 3, first_offset=4)

"""`ottla produce`, `ottla consume` and `ottla records delete` as a user runs them, against Ottla or any broker."""

from __future__ import annotations

import json

from confluent_kafka import Producer

from compat_tests import samples, topics
from compat_tests.cli import ottla


def consume_json(bootstrap, topic, *extra):
    start = [] if {"--from-timestamp", "--offset"} & set(extra) else ["--from-beginning"]
    run = ottla(bootstrap, "consume", topic, *start, "--to-end", "--format", "json", *extra)
    assert run.code == 0, run.err
    return [json.loads(line) for line in run.out.splitlines()]


def test_produce_lines_then_consume_them_back_exactly(bootstrap):
    topic = samples.unique_name("cli-produce")
    topics.create_topic(bootstrap, topic, partitions=3)
    lines = [f"key-{i % 17}|value {i} with spaces, tabs\tand ünïcode" for i in range(500)]
    produced = ottla(bootstrap, "produce", topic, "--key-separator", "|", "--header", "source=cli",
                     "--header", "run=1", "--compression", "gzip", "--acks", "all", "--linger-ms", "50",
                     stdin="\n".join(lines) + "\n", json_output=True)
    assert produced.code == 0, produced.err
    summary = produced.json()
    assert summary["records"] == 500 and summary["failed"] == 0 and summary["undelivered"] == 0
    records = consume_json(bootstrap, topic)
    assert sorted((r["key"], r["value"]) for r in records) == sorted(tuple(line.split("|", 1)) for line in lines)
    assert all(r["headers"] == [{"key": "source", "value": "cli"}, {"key": "run", "value": "1"}] for r in records)
    assert {r["partition"] for r in records} <= {0, 1, 2} and all(r["timestamp_type"] == "CreateTime"
                                                                  for r in records)
    for p in {r["partition"] for r in records}:  # each partition in offset order from 0, nothing missing
        assert [r["offset"] for r in records if r["partition"] == p] == list(range(sum(r["partition"] == p
                                                                                        for r in records)))
    # the same key lands on the same partition (librdkafka's partitioner), so keys never straddle partitions
    assert all(len({r["partition"] for r in records if r["key"] == k}) == 1 for k in {r["key"] for r in records})


def test_produce_a_file_to_a_partition_and_read_it_as_text(bootstrap, tmp_path):
    topic = samples.unique_name("cli-file")
    topics.create_topic(bootstrap, topic, partitions=2)
    path = tmp_path / "lines.txt"
    lines = [f"line {i}" for i in range(2000)] + ["", "last line without a newline"]
    path.write_text("\n".join(lines))
    produced = ottla(bootstrap, "produce", topic, "--file", str(path), "--partition", "1", "--compression", "lz4",
                     "--progress", "always")
    assert produced.code == 0, produced.err
    assert f"produced {len(lines):,} records" in produced.err and "records/s" in produced.err
    assert "100%" in produced.err  # the progress bar reached the end of the file
    text = ottla(bootstrap, "consume", topic, "--partition", "1", "--offset", "0", "--max-messages", str(len(lines)))
    assert text.code == 0, text.err
    assert text.out.split("\n")[:-1] == lines
    assert f"Processed a total of {len(lines)} messages" in text.err
    assert ottla(bootstrap, "consume", topic, "--partition", "0", "--from-beginning", "--to-end").out == ""
    fields = ottla(bootstrap, "consume", topic, "-p", "1", "--offset", "5", "-m", "1", "--print-partition",
                   "--print-offset", "--print-key", "--print-headers", "--print-timestamp")
    timestamp, partition, offset, headers, key, value = fields.out.rstrip("\n").split("\t")
    assert (partition, offset, headers, key, value) == ("Partition:1", "Offset:5", "NO_HEADERS", "null", "line 5")
    assert timestamp.startswith("CreateTime:") and int(timestamp.split(":")[1]) > 0
    hexed = ottla(bootstrap, "consume", topic, "-p", "1", "--offset", "5", "-m", "1", "--format", "hex")
    assert hexed.out == b"line 5".hex() + "\n"


def test_count_synthetic_load(bootstrap):
    topic = samples.unique_name("cli-count")
    topics.create_topic(bootstrap, topic, partitions=2)
    produced = ottla(bootstrap, "produce", topic, "--count", "5000", "--record-size", "200", json_output=True)
    assert produced.code == 0, produced.err
    assert produced.json()["records"] == 5000 and produced.json()["bytes"] == 5000 * 200
    (described,) = ottla(bootstrap, "topics", "describe", topic, json_output=True).json()
    assert sum(p["messages"] for p in described["partitions"]) == 5000
    assert len(consume_json(bootstrap, topic)) == 5000


def test_consume_from_a_timestamp(bootstrap):
    topic = samples.unique_name("cli-ts")
    topics.create_topic(bootstrap, topic, partitions=1)
    base = samples.base_timestamp()
    producer = Producer({"bootstrap.servers": bootstrap})
    for i in range(10):
        producer.produce(topic, value=b"v%d" % i, timestamp=base + i * 1000)
    assert producer.flush(30) == 0
    records = consume_json(bootstrap, topic, "--from-timestamp", str(base + 6500))
    assert [r["value"] for r in records] == ["v7", "v8", "v9"]
    assert [r["timestamp"] for r in records] == [base + 7000, base + 8000, base + 9000]
    late = ottla(bootstrap, "consume", topic, "--from-timestamp", str(base + 60_000), "--to-end")
    assert late.code == 0 and late.out == ""


def test_transaction_markers_never_show_and_isolation_level_applies(bootstrap):
    topic = samples.unique_name("cli-txn")
    topics.create_topic(bootstrap, topic, partitions=1)
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": samples.unique_name("cli-txn-id"),
                         "linger.ms": 500})
    producer.init_transactions(30)
    producer.begin_transaction()
    for i in range(3):
        producer.produce(topic, value=b"committed-%d" % i)
    producer.commit_transaction(30)
    producer.begin_transaction()
    for i in range(2):
        producer.produce(topic, value=b"aborted-%d" % i)
    producer.flush(30)
    producer.abort_transaction(30)
    producer.begin_transaction()
    producer.produce(topic, value=b"committed-3")
    producer.commit_transaction(30)
    committed = consume_json(bootstrap, topic, "--isolation-level", "read_committed")
    assert [r["value"] for r in committed] == ["committed-0", "committed-1", "committed-2", "committed-3"]
    everything = consume_json(bootstrap, topic, "--isolation-level", "read_uncommitted")
    assert [r["value"] for r in everything] == ["committed-0", "committed-1", "committed-2", "aborted-0", "aborted-1",
                                                "committed-3"]
    offsets = [r["offset"] for r in everything]
    assert offsets == sorted(offsets) and offsets[-1] > len(offsets) - 1  # markers took offsets, printed nothing


def test_consume_a_missing_topic_is_not_found_and_creates_nothing(bootstrap):
    topic = samples.unique_name("cli-missing")
    run = ottla(bootstrap, "consume", topic, "--to-end")
    assert run.code == 4 and run.err.startswith("ottla: UNKNOWN_TOPIC_OR_PARTITION")
    assert topic not in [t["name"] for t in ottla(bootstrap, "topics", "list", json_output=True).json()]


def test_records_delete(bootstrap):
    topic = samples.unique_name("cli-delete-records")
    topics.create_topic(bootstrap, topic, partitions=2)
    assert ottla(bootstrap, "produce", topic, "--partition", "0", stdin="\n".join(map(str, range(10)))).code == 0
    assert ottla(bootstrap, "produce", topic, "--partition", "1", stdin="\n".join(map(str, range(5)))).code == 0
    deleted = ottla(bootstrap, "records", "delete", topic, "--partition", "0:4", json_output=True)
    assert deleted.code == 0, deleted.err
    assert deleted.json() == [{"topic": topic, "partition": 0, "low_watermark": 4, "error": None}]
    assert [r["value"] for r in consume_json(bootstrap, topic, "-p", "0")] == [str(i) for i in range(4, 10)]
    everything = ottla(bootstrap, "records", "delete", topic)
    assert everything.code == 0, everything.err
    assert [line.split() for line in everything.out.splitlines()[1:]] == [[topic, "0", "10"], [topic, "1", "5"]]
    assert consume_json(bootstrap, topic) == []
    missing = ottla(bootstrap, "records", "delete", samples.unique_name("cli-nope"))
    assert missing.code == 4, missing.err

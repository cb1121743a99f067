"""Retention and compaction seen by real clients (confluent-kafka/librdkafka and kafka-python).

Each test makes its own topic on a broker whose retention check and cleaner run every 200 ms
(compat_tests/lifecycle.py). Segments roll by record timestamps (segment.ms) or size, as in Kafka.
"""

from __future__ import annotations

import time

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.structs import TopicPartition as KTopicPartition

from compat_tests import samples, topics
from compat_tests.conftest import wait_for
from compat_tests.lifecycle import lifecycle_broker  # noqa: F401  (fixture)

WAIT_S = 20
MB = 1024 * 1024
COMPACTED = {"cleanup.policy": "compact", "segment.ms": "100", "min.cleanable.dirty.ratio": "0.01",
             "delete.retention.ms": "3000"}


def create(bootstrap: str, configs: dict, partitions: int = 1) -> str:
    name = samples.unique_name("compat-lifecycle")
    admin = topics.admin_client(bootstrap)
    try:
        admin.create_topics([NewTopic(name, partitions, 1, topic_configs=configs)], timeout_ms=10_000)
    finally:
        admin.close()
    return name


def confluent_produce(bootstrap: str, topic: str, rows) -> None:
    """rows: (key, value, timestamp_ms)."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "client.id": "compat-lifecycle"})
    errors = []
    for key, value, ts in rows:
        producer.produce(topic, key=key, value=value, partition=0, timestamp=ts,
                         on_delivery=lambda err, _msg: errors.append(err) if err else None)
    assert producer.flush(30) == 0 and errors == []


def kafka_python_produce(bootstrap: str, topic: str, rows) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, client_id="compat-lifecycle", linger_ms=5)
    try:
        for key, value, ts in rows:
            producer.send(topic, key=key, value=value, partition=0, timestamp_ms=ts)
        producer.flush(30)
    finally:
        producer.close()


def watermarks(bootstrap: str, topic: str) -> tuple[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "compat-lifecycle-unused"})
    try:
        return consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    finally:
        consumer.close()


def confluent_read_all(bootstrap: str, topic: str) -> list[tuple]:
    """(offset, key, value) from the beginning to the high watermark, librdkafka checking CRCs."""
    _, high = watermarks(bootstrap, topic)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "compat-lifecycle-unused", "check.crcs": True,
                         "enable.auto.commit": False, "auto.offset.reset": "earliest", "fetch.wait.max.ms": 100})
    rows = []
    try:
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and (not rows or rows[-1][0] < high - 1):
            msg = consumer.poll(0.2)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise AssertionError(msg.error())
            rows.append((msg.offset(), msg.key(), msg.value()))
    finally:
        consumer.close()
    return rows


def kafka_python_read_all(bootstrap: str, topic: str) -> list[tuple]:
    _, high = watermarks(bootstrap, topic)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="compat-lifecycle", enable_auto_commit=False,
                             auto_offset_reset="earliest", check_crcs=True, fetch_max_wait_ms=100)
    rows = []
    try:
        tp = KTopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and (not rows or rows[-1][0] < high - 1):
            for records in consumer.poll(timeout_ms=200).values():
                rows.extend((r.offset, r.key, r.value) for r in records)
    finally:
        consumer.close()
    return rows


def test_retention_ms_and_bytes_move_the_log_start_and_free_disk(lifecycle_broker):
    bootstrap = lifecycle_broker.bootstrap
    before = lifecycle_broker.data_bytes()
    now = int(time.time() * 1000)
    by_time = create(bootstrap, {"retention.ms": "60000", "segment.bytes": str(MB)})
    value = b"x" * 10_000
    old = [(b"k%d" % i, value, now - 600_000 + i) for i in range(600)]  # ~6 MB ten minutes old
    confluent_produce(bootstrap, by_time, old + [(b"new%d" % i, value, now + i) for i in range(100)])
    # what the disk held at most: sampled now, but retention checks run every 200 ms while a loaded machine
    # is still producing, so segments may be gone (and the sample low) already; never less than what was
    # written on top of what was there before (without any freeing the disk would hold all of that)
    peak = max(lifecycle_broker.data_bytes(), before + len(value) * 700)
    # every 1 MB segment of old records goes (checks may take them a few at a time); the one holding
    # the first recent records stays
    def settled():  # unchanged over three retention checks
        first = watermarks(bootstrap, by_time)
        time.sleep(0.6)
        return first if first[0] >= 450 and watermarks(bootstrap, by_time) == first else None

    low, high = wait_for(settled, "retention.ms to move the log start past the old records")
    assert high == 700 and 450 <= low <= 600
    rows = confluent_read_all(bootstrap, by_time)  # from the beginning: auto.offset.reset=earliest
    assert rows[0][0] == low and [r[0] for r in rows] == list(range(low, 700))
    assert kafka_python_read_all(bootstrap, by_time)[0][0] == low
    wait_for(lambda: lifecycle_broker.data_bytes() < peak - 3 * MB, "the removed segments' disk space")

    by_size = create(bootstrap, {"retention.bytes": str(2 * MB), "segment.bytes": str(MB)})
    kafka_python_produce(bootstrap, by_size, [(b"k", value, now + i) for i in range(500)])  # ~5 MB

    def within_limit():  # the size over the limit is removed a whole segment at a time
        low, high = watermarks(bootstrap, by_size)
        return (low, high) if low > 0 and (high - low) * 10_000 <= 3 * MB + 200_000 else None

    low, high = wait_for(within_limit, "retention.bytes to bring the partition near 2 MB")
    assert high == 500 and (high - low) * 10_000 >= 2 * MB - 200_000  # and no more than that went


def _compacted_history(now: int) -> tuple[list[list], dict]:
    """Ten keys overwritten in 20 rounds one second apart; k0 and k1 then deleted; a late record rolls
    the segment so that all of it is cleanable. Returns (rows of each produce call, latest per key)."""
    rounds = [[(b"k%d" % k, b"v%d-%d" % (k, r), now + r * 1000 + k) for k in range(10)] for r in range(20)]
    rounds += [[(b"k0", None, now + 21_000), (b"k1", None, now + 21_001)], [(b"last", b"end", now + 30_000)]]
    latest = {b"k%d" % k: b"v%d-19" % k for k in range(2, 10)}
    return rounds, latest


def produce_rounds(writer, bootstrap: str, topic: str, rounds: list[list]) -> int:
    """Each round in its own produce calls (batches, so segments, roll by segment.ms); rows written."""
    for rows in rounds:
        writer(bootstrap, topic, rows)
    return sum(len(rows) for rows in rounds)


@pytest.mark.parametrize("writer", [confluent_produce, kafka_python_produce], ids=["confluent", "kafka-python"])
def test_compaction_keeps_the_latest_value_per_key_then_drops_tombstones(lifecycle_broker, writer):
    bootstrap = lifecycle_broker.bootstrap
    topic = create(bootstrap, COMPACTED)
    now = int(time.time() * 1000) - 60_000
    rounds, latest = _compacted_history(now)
    written = produce_rounds(writer, bootstrap, topic, rounds)

    def cleaned():
        got = confluent_read_all(bootstrap, topic)
        return got if len(got) <= 11 else None  # 8 live keys, 2 tombstones, the last record

    got = wait_for(cleaned, "the cleaner to compact the topic")
    offsets = [o for o, _, _ in got]
    assert offsets == sorted(offsets) and offsets[-1] == written - 1  # offsets kept: increasing, with gaps
    by_key = {k: v for _, k, v in got}
    assert {k: v for k, v in by_key.items() if k.startswith(b"k") and v is not None} == latest
    assert by_key[b"k0"] is None and by_key[b"k1"] is None  # tombstones stay until delete.retention.ms
    assert kafka_python_read_all(bootstrap, topic) == got  # kafka-python reads (and CRC-checks) the same

    def tombstones_gone():
        again = confluent_read_all(bootstrap, topic)
        return again if b"k0" not in {k for _, k, _ in again} else None

    final = wait_for(tombstones_gone, "the tombstones to pass delete.retention.ms")
    assert {k for _, k, _ in final} == set(latest) | {b"last"}
    assert kafka_python_read_all(bootstrap, topic) == final


def test_a_compacted_topic_refuses_keyless_records(lifecycle_broker):
    bootstrap = lifecycle_broker.bootstrap
    topic = create(bootstrap, COMPACTED)
    producer = Producer({"bootstrap.servers": bootstrap, "client.id": "compat-lifecycle", "retries": 0})
    reports = []
    producer.produce(topic, value=b"no key", partition=0, on_delivery=lambda err, msg: reports.append(err))
    producer.flush(15)
    assert reports and reports[0] is not None and reports[0].code() == KafkaError.INVALID_RECORD
    assert watermarks(bootstrap, topic) == (0, 0)


def test_log_start_and_compacted_state_survive_kill9(lifecycle_broker):
    bootstrap = lifecycle_broker.bootstrap
    now = int(time.time() * 1000)
    expiring = create(bootstrap, {"retention.ms": "60000", "segment.ms": "1000"})
    for ts in (now - 600_000, now - 590_000, now):  # three batches, three segments (segment.ms)
        confluent_produce(bootstrap, expiring, [(b"k", b"v", ts)])
    # both old segments go (a check may take one, the next the other); the recent one stays
    low = wait_for(lambda: watermarks(bootstrap, expiring)[0] == 2 and 2, "retention to move the log start to 2")
    compacted = create(bootstrap, COMPACTED)
    rounds, _ = _compacted_history(int(time.time() * 1000) - 60_000)
    produce_rounds(confluent_produce, bootstrap, compacted, rounds[:-2] + rounds[-1:])  # no tombstones: stable
    got = wait_for(lambda: (lambda r: r if len(r) == 11 else None)(confluent_read_all(bootstrap, compacted)),
                   "the cleaner to compact the topic")
    lifecycle_broker.kill9()
    assert watermarks(bootstrap, expiring)[0] == low
    assert confluent_read_all(bootstrap, compacted) == got

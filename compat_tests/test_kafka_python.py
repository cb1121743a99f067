"""kafka-python against the broker: topics, exact read-back, codecs, idempotence, seeks, restarts."""

from __future__ import annotations

import time

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka import codec as kafka_codec

from compat_tests import rawkafka, samples, scenarios, topics
from compat_tests.samples import expected_rows, make_samples

READ_TIMEOUT_S = 15.0


def produce(bootstrap: str, topic: str, records: list[samples.Sample], **config) -> list[int]:
    """Send every record to partition 0, flush, and return the offsets the broker acknowledged."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=5, request_timeout_ms=10_000, max_block_ms=10_000,
        client_id="compat-kafka-python", **config,
    )
    try:
        futures = [
            producer.send(topic, value=r.value, key=r.key, headers=list(r.headers), partition=0,
                          timestamp_ms=r.timestamp)
            for r in records
        ]
        producer.flush(timeout=15)
        return [f.get(timeout=10).offset for f in futures]
    finally:
        producer.close(timeout=5)


def consumer_for(bootstrap: str, **config) -> KafkaConsumer:
    settings = dict(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
        auto_offset_reset="earliest", fetch_max_wait_ms=100, request_timeout_ms=10_000,
        client_id="compat-kafka-python",
    )
    return KafkaConsumer(**(settings | config))


def poll_rows(consumer: KafkaConsumer, count: int, timeout: float = READ_TIMEOUT_S) -> list[tuple]:
    """Poll until `count` records arrived (or the bounded timeout); rows as samples.expected_rows."""
    rows: list[tuple] = []
    deadline = time.monotonic() + timeout
    while len(rows) < count and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=200).values():
            rows.extend(
                (r.offset, r.key, r.value, [(k, v) for k, v in r.headers], r.timestamp) for r in records
            )
    return rows


def read_partition(
    bootstrap: str, topic: str, count: int, offset: int | None = None, timeout: float = READ_TIMEOUT_S
) -> list[tuple]:
    """Assign partition 0 (no group), start at `offset` (or the beginning), return `count` rows."""
    consumer = consumer_for(bootstrap)
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        if offset is None:
            consumer.seek_to_beginning(tp)
        else:
            consumer.seek(tp, offset)
        return poll_rows(consumer, count, timeout)
    finally:
        consumer.close()


def end_offset(bootstrap: str, topic: str) -> int:
    consumer = consumer_for(bootstrap)
    try:
        tp = TopicPartition(topic, 0)
        return consumer.end_offsets([tp], timeout_ms=10_000)[tp]
    finally:
        consumer.close()


CALLS = scenarios.Calls(
    produce=produce, read=read_partition, end=end_offset, end_of=lambda n: n,
    acks_all={"acks": "all"}, acks_1={"acks": 1, "enable_idempotence": False},
)


def test_create_topic_shows_in_metadata(bootstrap):
    name = samples.unique_name("compat-kp-create")
    topics.create_topic(bootstrap, name, partitions=3)
    admin = topics.admin_client(bootstrap)
    try:
        assert name in admin.list_topics()
        (described,) = admin.describe_topics([name])
    finally:
        admin.close()
    assert described["error_code"] == 0
    assert sorted(p["partition_index"] for p in described["partitions"]) == [0, 1, 2]


def test_produce_and_read_back_exactly(bootstrap, topic):
    scenarios.produce_and_read_back_exactly(CALLS, bootstrap, topic)


@pytest.mark.parametrize("codec", scenarios.codec_params(kafka_codec, "kafka-python"))
def test_compressed_batches_round_trip(bootstrap, topic, codec):
    scenarios.compressed_batches_round_trip(CALLS, bootstrap, topic, codec, 5, compression_type=codec)


def test_idempotent_producer_by_default_writes_each_record_once(bootstrap, topic):
    # no producer settings: kafka-python 3 is idempotent by default
    stored = scenarios.idempotent_producer_writes_each_record_once(CALLS, bootstrap, topic)
    assert len({b.producer_id for b in stored}) == 1


def test_seek_to_offset(bootstrap, topic):
    scenarios.seek_to_offset(CALLS, bootstrap, topic)


def test_offsets_for_times_finds_exact_record(bootstrap, topic):
    records = make_samples(6)
    produce(bootstrap, topic, records)
    consumer = consumer_for(bootstrap)
    tp = TopicPartition(topic, 0)
    try:
        exact = consumer.offsets_for_times({tp: records[2].timestamp}, timeout_ms=10_000)[tp]
        between = consumer.offsets_for_times({tp: records[4].timestamp - 1}, timeout_ms=10_000)[tp]
        after = consumer.offsets_for_times({tp: records[-1].timestamp + 1}, timeout_ms=10_000)[tp]
        consumer.assign([tp])
        consumer.seek(tp, exact.offset)
        rows = poll_rows(consumer, 1)
    finally:
        consumer.close()
    assert (exact.offset, exact.timestamp) == (2, records[2].timestamp)
    assert (between.offset, between.timestamp) == (4, records[4].timestamp)
    assert after is None
    assert rows[0] == expected_rows(records)[2]


def test_delete_topic_then_recreate_is_empty(bootstrap, topic):
    produce(bootstrap, topic, make_samples(3))
    admin = topics.admin_client(bootstrap)
    try:
        admin.delete_topics([topic], timeout_ms=10_000)
        remaining = topics.wait_until_absent(admin.list_topics, topic)
    finally:
        admin.close()
    assert topic not in remaining
    assert topic not in rawkafka.topic_names(bootstrap)
    topics.create_topic(bootstrap, topic)
    assert end_offset(bootstrap, topic) == 0
    assert read_partition(bootstrap, topic, 1, offset=0, timeout=1.5) == []
    assert rawkafka.stored_batches(bootstrap, topic) == []


def test_restart_between_produce_and_consume_loses_nothing(bootstrap, topic, restart_broker):
    scenarios.nothing_lost_across(CALLS, bootstrap, topic, restart_broker)


def test_kill9_between_produce_and_consume_loses_nothing(bootstrap, topic, kill9_broker):
    scenarios.nothing_lost_across(CALLS, bootstrap, topic, kill9_broker)


@pytest.mark.groups
def test_group_consumer_resumes_from_committed_offset(bootstrap, topic):
    group = samples.unique_name("compat-kp-group")

    def consume_in_group(count: int) -> tuple[list[tuple], int]:
        consumer = consumer_for(bootstrap, group_id=group, session_timeout_ms=10_000, heartbeat_interval_ms=1_000)
        try:
            consumer.subscribe([topic])
            # see group_member.py: a first join that outlasts one poll() (a loaded machine) otherwise leaves
            # kafka-python 3.0.12 never applying its SyncGroup answer, unassigned, reading nothing
            consumer.partitions_for_topic(topic)
            rows = poll_rows(consumer, count)
            consumer.commit()
            return rows, consumer.committed(TopicPartition(topic, 0))
        finally:
            consumer.close()

    scenarios.group_consumer_resumes_from_committed_offset(CALLS, bootstrap, topic, consume_in_group)

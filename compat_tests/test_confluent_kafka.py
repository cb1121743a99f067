"""confluent-kafka (librdkafka) against the broker: topics, read-back, codecs, idempotence, restarts."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from compat_tests import rawkafka, samples, scenarios, topics
from compat_tests.samples import expected_rows, make_samples

READ_TIMEOUT_S = 15.0
CALL_TIMEOUT_S = 10.0
CREATE_TIME = 1  # confluent_kafka.TIMESTAMP_CREATE_TIME


def produce(bootstrap: str, topic: str, records: list[samples.Sample], **config) -> list[int]:
    """Produce every record to partition 0, flush, and return the acknowledged offsets (in order)."""
    producer = Producer({
        "bootstrap.servers": bootstrap, "linger.ms": 5, "client.id": "compat-confluent",
        "message.timeout.ms": 15_000, **config,
    })
    reports: list = []
    # metadata first: records queued before the leader is known go out in a first batch of their own
    producer.list_topics(topic, timeout=10)
    for r in records:
        producer.produce(
            topic, value=r.value, key=r.key, partition=0, timestamp=r.timestamp, headers=list(r.headers),
            on_delivery=lambda err, msg: reports.append((err, msg.offset())),
        )
    remaining = producer.flush(20)
    assert remaining == 0, f"{remaining} records still undelivered"
    assert [err for err, _ in reports if err is not None] == []
    return [offset for _, offset in reports]


def consumer_for(bootstrap: str, **config) -> Consumer:
    # librdkafka insists on a group.id even for assign(); nothing here joins or commits to it
    return Consumer({
        "bootstrap.servers": bootstrap, "group.id": samples.unique_name("compat-confluent-unused"),
        "enable.auto.commit": False, "auto.offset.reset": "earliest", "fetch.wait.max.ms": 100,
        "client.id": "compat-confluent", **config,
    })


def poll_rows(consumer: Consumer, count: int, timeout: float = READ_TIMEOUT_S) -> list[tuple]:
    rows: list[tuple] = []
    deadline = time.monotonic() + timeout
    while len(rows) < count and time.monotonic() < deadline:
        msg = consumer.poll(0.2)
        if msg is None:
            continue
        if msg.error():
            raise KafkaException(msg.error())
        ts_type, ts = msg.timestamp()
        assert ts_type == CREATE_TIME
        rows.append((msg.offset(), msg.key(), msg.value(), list(msg.headers() or []), ts))
    return rows


def read_partition(
    bootstrap: str, topic: str, count: int, offset: int = OFFSET_BEGINNING, timeout: float = READ_TIMEOUT_S
) -> list[tuple]:
    """Assign partition 0 at `offset` (no group join), return `count` rows."""
    consumer = consumer_for(bootstrap)
    try:
        consumer.assign([TopicPartition(topic, 0, offset)])
        return poll_rows(consumer, count, timeout)
    finally:
        consumer.close()


def watermarks(bootstrap: str, topic: str) -> tuple[int, int]:
    consumer = consumer_for(bootstrap)
    try:
        return consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=CALL_TIMEOUT_S)
    finally:
        consumer.close()


def admin_for(bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap, "client.id": "compat-confluent"})


CALLS = scenarios.Calls(
    produce=produce, read=read_partition, end=watermarks, end_of=lambda n: (0, n),
    acks_all={"acks": "all"}, acks_1={"acks": 1},
)


def test_create_topic_shows_in_metadata(bootstrap):
    name = samples.unique_name("compat-ck-create")
    admin = admin_for(bootstrap)
    admin.create_topics([NewTopic(name, num_partitions=3, replication_factor=1)])[name].result(CALL_TIMEOUT_S)
    rawkafka.leader_address(bootstrap, name, 2)
    listed = admin.list_topics(topic=name, timeout=CALL_TIMEOUT_S).topics[name]
    assert listed.error is None
    assert sorted(listed.partitions) == [0, 1, 2]


def test_produce_and_read_back_exactly(bootstrap, topic):
    scenarios.produce_and_read_back_exactly(CALLS, bootstrap, topic)


@pytest.mark.parametrize("codec", scenarios.CODECS)
def test_compressed_batches_round_trip(bootstrap, topic, codec):
    # 20 alike records: librdkafka sends a batch uncompressed when compressing does not shrink it;
    # debug=msg puts its reason ("not compressing batch") in the captured stderr of a failure.
    # linger.ms 500: on a loaded machine the 5 ms default let the first record go out alone, and one
    # small record does not shrink, so it was stored uncompressed
    scenarios.compressed_batches_round_trip(CALLS, bootstrap, topic, codec, 20,
                                            **{"compression.type": codec, "debug": "msg", "linger.ms": 500})


def test_idempotent_producer_writes_each_record_once(bootstrap, topic):
    scenarios.idempotent_producer_writes_each_record_once(CALLS, bootstrap, topic, **{"enable.idempotence": True})


def test_seek_to_offset(bootstrap, topic):
    scenarios.seek_to_offset(CALLS, bootstrap, topic)


def test_offsets_for_times_finds_exact_record(bootstrap, topic):
    records = make_samples(6)
    produce(bootstrap, topic, records)
    consumer = consumer_for(bootstrap)
    try:
        found = consumer.offsets_for_times(
            [TopicPartition(topic, 0, records[2].timestamp)], timeout=CALL_TIMEOUT_S)[0]
        between = consumer.offsets_for_times(
            [TopicPartition(topic, 0, records[4].timestamp - 1)], timeout=CALL_TIMEOUT_S)[0]
        after = consumer.offsets_for_times(
            [TopicPartition(topic, 0, records[-1].timestamp + 1)], timeout=CALL_TIMEOUT_S)[0]
    finally:
        consumer.close()
    assert (found.error, found.offset) == (None, 2)
    assert (between.error, between.offset) == (None, 4)
    assert after.offset == -1  # OFFSET_END: no record at or after that time
    assert read_partition(bootstrap, topic, 1, offset=found.offset)[0] == expected_rows(records)[2]


def test_delete_topic_then_recreate_is_empty(bootstrap, topic):
    produce(bootstrap, topic, make_samples(3))
    admin = admin_for(bootstrap)
    admin.delete_topics([topic], operation_timeout=CALL_TIMEOUT_S)[topic].result(CALL_TIMEOUT_S)
    remaining = topics.wait_until_absent(lambda: admin.list_topics(timeout=CALL_TIMEOUT_S).topics, topic)
    assert topic not in remaining
    topics.create_topic(bootstrap, topic)
    assert watermarks(bootstrap, topic) == (0, 0)
    assert read_partition(bootstrap, topic, 1, timeout=1.5) == []
    assert rawkafka.stored_batches(bootstrap, topic) == []


def test_restart_between_produce_and_consume_loses_nothing(bootstrap, topic, restart_broker):
    scenarios.nothing_lost_across(CALLS, bootstrap, topic, restart_broker)


def test_kill9_between_produce_and_consume_loses_nothing(bootstrap, topic, kill9_broker):
    scenarios.nothing_lost_across(CALLS, bootstrap, topic, kill9_broker)


@pytest.mark.groups
def test_group_consumer_resumes_from_committed_offset(bootstrap, topic):
    group = samples.unique_name("compat-ck-group")

    def consume_in_group(count: int) -> tuple[list[tuple], int]:
        consumer = consumer_for(bootstrap, **{"group.id": group, "session.timeout.ms": 10_000})
        try:
            consumer.subscribe([topic])
            rows = poll_rows(consumer, count)
            consumer.commit(asynchronous=False)
            (committed,) = consumer.committed([TopicPartition(topic, 0)], timeout=CALL_TIMEOUT_S)
            return rows, committed.offset
        finally:
            consumer.close()

    scenarios.group_consumer_resumes_from_committed_offset(CALLS, bootstrap, topic, consume_in_group)

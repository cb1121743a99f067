"""Issue 10 with real clients: a batch whose records lie is refused and leaves the log as it was, and
librdkafka and kafka-python recover from OFFSET_OUT_OF_RANGE through auto.offset.reset (a null message set
in Ottla's Fetch answer used to stop librdkafka from ever seeing the error)."""

from __future__ import annotations

import struct
import time

from confluent_kafka import Consumer, TopicPartition
from crc32c import crc32c
from kafka import KafkaConsumer
from kafka import TopicPartition as KafkaTopicPartition

from compat_tests import rawkafka, samples
from compat_tests.samples import make_samples
from compat_tests.test_confluent_kafka import produce

INVALID_RECORD = 87
READ_TIMEOUT_S = 15.0


def produce_raw(bootstrap: str, topic: str, batch: bytes) -> int:
    """Produce v3, acks=-1, one batch to partition 0, by hand; the partition's error code."""
    host, port = rawkafka.leader_address(bootstrap, topic, 0)
    name = topic.encode()
    body = struct.pack(">hhi", -1, -1, 10_000)  # null transactional id, acks, timeout
    body += struct.pack(">ih", 1, len(name)) + name + struct.pack(">iii", 1, 0, len(batch)) + batch
    with rawkafka.RawKafka(host, port) as conn:
        r = conn.request(0, 3, body)
        assert r.take("i") == 1 and r.string() == topic and r.take("i") == 1
        index, error_code = r.take("ih")
        assert index == 0
        return error_code


def batch_claiming(count: int) -> bytes:
    """One record of magic 2, written out by hand, in a batch whose recordCount and lastOffsetDelta claim
    `count` records; CRC-32C valid, so only a walk of the records can tell."""
    ts = samples.base_timestamp()
    value = b"the only record"
    record = b"\x00" + b"\x00" + b"\x00" + b"\x01" + bytes([len(value) << 1]) + value + b"\x00"
    records = bytes([len(record) << 1]) + record  # attributes, ts delta 0, offset delta 0, null key, value, 0 headers
    after_crc = struct.pack(">hiqqqhii", 0, count - 1, ts, ts, -1, -1, -1, count) + records
    header = struct.pack(">qiib", 0, 4 + 1 + 4 + len(after_crc), -1, 2)
    return header + struct.pack(">I", crc32c(after_crc)) + after_crc


def read_all(consumer: Consumer, want: int) -> list:
    got = []
    deadline = time.monotonic() + READ_TIMEOUT_S
    while len(got) < want and time.monotonic() < deadline:
        msg = consumer.poll(0.2)
        if msg is not None and msg.error() is None:
            got.append((msg.offset(), msg.value()))
    return got


def test_batch_claiming_2_31_records_is_refused_and_clients_read_on(bootstrap, topic):
    first = make_samples(3)
    assert produce(bootstrap, topic, first) == [0, 1, 2]
    for _ in range(2):
        assert produce_raw(bootstrap, topic, batch_claiming(2**31 - 1)) == INVALID_RECORD
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        assert consumer.end_offsets([KafkaTopicPartition(topic, 0)]) == {KafkaTopicPartition(topic, 0): 3}
    finally:
        consumer.close()
    assert produce(bootstrap, topic, make_samples(1)) == [3]  # the next offset, not 3 + 2^31
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": samples.unique_name("compat-unused"),
                       "enable.auto.commit": False, "fetch.wait.max.ms": 100})
    try:
        reader.assign([TopicPartition(topic, 0, 0)])
        assert [offset for offset, _ in read_all(reader, 4)] == [0, 1, 2, 3]
    finally:
        reader.close()


def test_librdkafka_recovers_from_offset_out_of_range_with_auto_offset_reset(bootstrap, topic):
    produce(bootstrap, topic, make_samples(3))
    earliest = Consumer({"bootstrap.servers": bootstrap, "group.id": samples.unique_name("compat-unused"),
                         "enable.auto.commit": False, "fetch.wait.max.ms": 100, "auto.offset.reset": "earliest"})
    try:
        earliest.assign([TopicPartition(topic, 0, 1000)])  # past the end: OFFSET_OUT_OF_RANGE, then reset
        assert [offset for offset, _ in read_all(earliest, 3)] == [0, 1, 2]
    finally:
        earliest.close()
    latest = Consumer({"bootstrap.servers": bootstrap, "group.id": samples.unique_name("compat-unused"),
                       "enable.auto.commit": False, "fetch.wait.max.ms": 100, "auto.offset.reset": "latest"})
    try:
        latest.assign([TopicPartition(topic, 0, 1000)])
        got = []
        deadline = time.monotonic() + READ_TIMEOUT_S
        while not got and time.monotonic() < deadline:  # records produced before the reset are not seen
            produce(bootstrap, topic, make_samples(1))
            got = read_all_for(latest, 1.0)
    finally:
        latest.close()
    assert got and all(offset >= 3 for offset, _ in got), got  # reset to the end, not to the beginning


def read_all_for(consumer: Consumer, seconds: float) -> list:
    got = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        msg = consumer.poll(0.1)
        if msg is not None and msg.error() is None:
            got.append((msg.offset(), msg.value()))
    return got


def test_kafka_python_recovers_from_offset_out_of_range(bootstrap, topic):
    produce(bootstrap, topic, make_samples(2))
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest",
                             fetch_max_wait_ms=100)
    try:
        partition = KafkaTopicPartition(topic, 0)
        consumer.assign([partition])
        consumer.seek(partition, 1000)
        got = []
        deadline = time.monotonic() + READ_TIMEOUT_S
        while len(got) < 2 and time.monotonic() < deadline:
            for batch in consumer.poll(200).values():
                got += [m.offset for m in batch]
    finally:
        consumer.close()
    assert got == [0, 1]

"""DeleteRecords through kafka-python's and confluent-kafka's admin clients, with Kafka's error cases."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaException, TopicPartition as CTopicPartition
from kafka.errors import OffsetOutOfRangeError, UnknownTopicOrPartitionError
from kafka.structs import TopicPartition

from compat_tests import samples, topics
from compat_tests.samples import make_samples
from compat_tests.test_confluent_kafka import admin_for, produce, read_partition, watermarks

DELETE_TIMEOUT_S = 15


def test_kafka_python_delete_records_moves_the_earliest_offset(bootstrap, topic):
    produce(bootstrap, topic, make_samples(10))
    admin = topics.admin_client(bootstrap)
    try:
        answer = admin.delete_records({TopicPartition(topic, 0): 4}, timeout_ms=10_000)
        assert answer[TopicPartition(topic, 0)]["low_watermark"] == 4
        with pytest.raises(OffsetOutOfRangeError):
            admin.delete_records({TopicPartition(topic, 0): 11}, timeout_ms=10_000)
        with pytest.raises(UnknownTopicOrPartitionError):
            admin.delete_records({TopicPartition(topic, 7): 1}, timeout_ms=10_000)
        answer = admin.delete_records({TopicPartition(topic, 0): -1}, timeout_ms=10_000)  # -1: the high watermark
        assert answer[TopicPartition(topic, 0)]["low_watermark"] == 10
    finally:
        admin.close()
    assert watermarks(bootstrap, topic) == (10, 10)


def test_confluent_delete_records_then_consumers_start_from_the_new_low_watermark(bootstrap, topic):
    records = make_samples(8)
    produce(bootstrap, topic, records)
    admin = admin_for(bootstrap)
    futures = admin.delete_records([CTopicPartition(topic, 0, 5)], request_timeout=10)
    deleted = futures[CTopicPartition(topic, 0, 5)].result(timeout=DELETE_TIMEOUT_S)
    assert deleted.low_watermark == 5
    assert watermarks(bootstrap, topic) == (5, 8)
    # a consumer from the beginning (auto.offset.reset=earliest) continues from the log start
    assert [row[0] for row in read_partition(bootstrap, topic, 3)] == [5, 6, 7]
    beyond = admin.delete_records([CTopicPartition(topic, 0, 9)], request_timeout=10)
    with pytest.raises(KafkaException) as error:
        beyond[CTopicPartition(topic, 0, 9)].result(timeout=DELETE_TIMEOUT_S)
    assert error.value.args[0].name() == "OFFSET_OUT_OF_RANGE"
    missing = samples.unique_name("compat-no-such-topic")
    unknown = admin.delete_records([CTopicPartition(missing, 0, 1)], request_timeout=10)
    with pytest.raises(KafkaException) as error:
        unknown[CTopicPartition(missing, 0, 1)].result(timeout=DELETE_TIMEOUT_S)
    # librdkafka looks the leader up in its metadata first and answers _NOENT itself for an unknown topic
    assert error.value.args[0].name() in ("UNKNOWN_TOPIC_OR_PART", "_NOENT")


def test_delete_records_survives_kill9(bootstrap, topic, kill9_broker):
    produce(bootstrap, topic, make_samples(6))
    admin = admin_for(bootstrap)
    admin.delete_records([CTopicPartition(topic, 0, 3)], request_timeout=10)[
        CTopicPartition(topic, 0, 3)].result(timeout=DELETE_TIMEOUT_S)
    kill9_broker()
    assert watermarks(bootstrap, topic) == (3, 6)
    assert [row[0] for row in read_partition(bootstrap, topic, 3)] == [3, 4, 5]

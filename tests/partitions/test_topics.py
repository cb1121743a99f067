"""Topic lifecycle and configs: Kafka's CreateTopics/DeleteTopics/DescribeConfigs rules, on both engines."""

from __future__ import annotations

import pytest

from partitions.topic_configs import TOPIC_CONFIGS, SynonymEntry, TopicDefault
from tests.partitions.conftest import T0, batch
from wire.errors import ErrorCode, KafkaError


def error_of(call, *args, **kwargs) -> ErrorCode:
    with pytest.raises(KafkaError) as raised:
        call(*args, **kwargs)
    return raised.value.code


def test_create_topic_registers_partitions_and_a_fresh_id(logs):
    topic = logs.create_topic("orders", 3)
    assert [p.index for p in topic.partitions] == [0, 1, 2]
    assert all(p.topic is topic for p in topic.partitions)
    assert len(topic.topic_id) == 16 and topic.topic_id != bytes(16)
    assert logs.get("orders") is topic
    assert logs.get_by_id(topic.topic_id) is topic
    assert logs.partition("orders", 2) is topic.partitions[2]
    assert logs.create_topic("payments", 1).topic_id != topic.topic_id


def test_default_partition_count_comes_from_the_broker(engine):
    logs = engine.open(default_partitions=4)
    assert len(logs.create_topic("t").partitions) == 4
    assert len(logs.create_topic("u", -1).partitions) == 4


def test_existing_topic_is_refused(logs):
    logs.create_topic("t", 1)
    assert error_of(logs.create_topic, "t", 2) == ErrorCode.TOPIC_ALREADY_EXISTS
    assert len(logs.get("t").partitions) == 1


@pytest.mark.parametrize("name", ["", ".", "..", "a" * 250, "has space", "slash/name", "ümlaut", "a:b"])
def test_illegal_topic_names(logs, name):
    assert error_of(logs.create_topic, name, 1) == ErrorCode.INVALID_TOPIC_EXCEPTION
    assert logs.get(name) is None


@pytest.mark.parametrize("name", ["a" * 249, "A.b_c-9", "__consumer_offsets", "..."])
def test_legal_topic_names(logs, name):
    assert logs.create_topic(name, 1).name == name


def test_dot_and_underscore_names_collide_as_in_kafka(logs):
    logs.create_topic("metrics.cpu", 1)
    assert error_of(logs.create_topic, "metrics_cpu", 1) == ErrorCode.INVALID_TOPIC_EXCEPTION
    logs.delete_topic("metrics.cpu")
    assert logs.create_topic("metrics_cpu", 1).name == "metrics_cpu"


@pytest.mark.parametrize("count", [0, -2, 10_001])
def test_invalid_partition_counts(logs, count):
    assert error_of(logs.create_topic, "t", count) == ErrorCode.INVALID_PARTITIONS
    assert logs.get("t") is None


@pytest.mark.parametrize("configs", [
    {"no.such.config": "1"},
    {"retention.ms": "soon"},
    {"retention.ms": "-2"},
    {"max.message.bytes": "-1"},
    {"message.timestamp.type": "WallClock"},
    {"cleanup.policy": "delete,archive"},
    {"compression.type": "brotli"},
    {"min.insync.replicas": "0"},
    {"segment.bytes": "1000"},
    {"retention.bytes": None},
])
def test_invalid_configs_are_refused(logs, configs):
    assert error_of(logs.create_topic, "t", 1, configs) == ErrorCode.INVALID_CONFIG
    assert logs.get("t") is None


def test_validate_only_creates_nothing(engine):
    logs = engine.open()
    topic = logs.create_topic("t", 2, {"retention.ms": "1000"}, validate_only=True)
    assert (topic.name, len(topic.partitions), topic.config("retention.ms")) == ("t", 2, 1000)
    assert logs.get("t") is None and logs.get_by_id(topic.topic_id) is None
    assert error_of(logs.create_topic, "t", 0, validate_only=True) == ErrorCode.INVALID_PARTITIONS
    assert engine.reopen().get("t") is None
    assert engine.logs.create_topic("t", 1).name == "t"


def test_effective_configs_are_typed_and_described(engine):
    logs = engine.open(default_configs={"retention.ms": "3600000"})
    topic = logs.create_topic("t", 1, {"cleanup.policy": "compact, delete", "max.message.bytes": " 2000",
                                       "segment.ms": "60000", "delete.retention.ms": "1000"})
    assert topic.configs == {"cleanup.policy": "compact,delete", "max.message.bytes": "2000",
                             "segment.ms": "60000", "delete.retention.ms": "1000"}
    assert topic.config("max.message.bytes") == 2000 == topic.max_message_bytes
    assert topic.config("cleanup.policy") == ["compact", "delete"]
    assert topic.config("retention.ms") == 3600000
    assert topic.config("message.timestamp.type") == "CreateTime"
    assert topic.config("preallocate") is False and topic.config("min.cleanable.dirty.ratio") == 0.5
    entries = {entry.name: entry for entry in logs.describe_configs("t")}
    assert set(entries) == set(TOPIC_CONFIGS) and len(entries) > 30
    assert (entries["max.message.bytes"].value, entries["max.message.bytes"].is_default) == ("2000", False)
    assert (entries["retention.ms"].value, entries["retention.ms"].is_default) == ("3600000", False)
    assert (entries["max.message.bytes"].source, entries["retention.ms"].source) == (1, 4)
    assert entries["retention.ms"].synonyms == (("log.retention.ms", "3600000", 4),)
    assert entries["max.message.bytes"].synonyms == (("max.message.bytes", "2000", 1),)
    segment = entries["segment.bytes"]
    assert (segment.value, segment.is_default, segment.source, segment.config_type) == ("1073741824", True, 5, 3)
    assert (entries["cleanup.policy"].config_type, entries["retention.ms"].config_type) == (7, 5)
    assert entries["compression.type"].value == "producer" and entries["flush.ms"].value == str(2**63 - 1)
    assert "deleted" in entries["retention.ms"].documentation
    assert error_of(logs.describe_configs, "missing") == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION


@pytest.mark.parametrize(("configs", "message"), [
    ({"segment.ms": "0"}, "Invalid value 0 for configuration segment.ms: Value must be at least 1"),
    ({"retention.ms": "soon"}, "Invalid value soon for configuration retention.ms: Not a number of type LONG"),
    ({"max.message.bytes": "3000000000"},
     "Invalid value 3000000000 for configuration max.message.bytes: Not a number of type INT"),
    ({"cleanup.policy": "delete,shred"},
     "Invalid value shred for configuration cleanup.policy: String must be one of: compact, delete"),
    ({"preallocate": "yes"}, "Invalid value yes for configuration preallocate: Expected value to be either true "
                             "or false"),
    ({"min.cleanable.dirty.ratio": "1.5"},
     "Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be no more than 1"),
    ({"message.format.version": "3.0"}, "Unknown topic config name: message.format.version"),
    ({"retention.ms": None}, "Null value not supported for topic configs: retention.ms"),
    ({"min.compaction.lag.ms": "10", "max.compaction.lag.ms": "5"},
     "conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)"),
])
def test_invalid_configs_get_kafkas_messages(logs, configs, message):
    with pytest.raises(KafkaError) as raised:
        logs.create_topic("t", 1, configs)
    assert (raised.value.code, raised.value.message) == (ErrorCode.INVALID_CONFIG, message)
    assert logs.get("t") is None


def test_alter_topic_configs_is_acted_on_and_persisted(engine):
    logs = engine.open()
    topic = logs.create_topic("t", 1, {"retention.ms": "1000"})
    seen = []
    logs.config_listeners.append(seen.append)
    logs.alter_topic_configs("t", {"max.message.bytes": "100"}, validate_only=True)
    assert topic.max_message_bytes == 1048588 and seen == []
    logs.alter_topic_configs("t", {"max.message.bytes": "100"})
    assert (topic.max_message_bytes, topic.config("retention.ms"), seen) == (100, 604800000, [topic])
    with pytest.raises(KafkaError):
        logs.alter_topic_configs("t", {"max.message.bytes": "-1"})
    assert error_of(logs.alter_topic_configs, "absent", {}) == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    again = engine.reopen().get("t")
    assert (again.configs, again.max_message_bytes) == ({"max.message.bytes": "100"}, 100)


def test_broker_defaults_for_topics_reach_every_topic(logs):
    topic = logs.create_topic("t", 1, {})
    seen = []
    logs.config_listeners.append(seen.append)
    logs.set_topic_defaults({"max.message.bytes": TopicDefault(500, (SynonymEntry("message.max.bytes", "500", 2),))})
    assert (topic.max_message_bytes, seen) == (500, [None])
    entry = next(e for e in logs.describe_configs("t") if e.name == "max.message.bytes")
    assert (entry.value, entry.source) == ("500", 2)


def test_invalid_broker_default_configs_are_refused(engine):
    with pytest.raises(KafkaError):
        engine.open(default_configs={"retention.ms": "never"})


def test_delete_topic_removes_it(logs):
    topic = logs.create_topic("t", 2)
    logs.delete_topic("t")
    assert logs.get("t") is None and logs.get_by_id(topic.topic_id) is None
    assert "t" not in logs.topics
    assert error_of(logs.partition, "t", 0) == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    assert error_of(logs.delete_topic, "t") == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION


def test_recreated_topic_has_a_new_id_and_an_empty_log(engine):
    logs = engine.open()
    old = logs.create_topic("t", 1)
    old.partitions[0].append(batch([b"a", b"b", b"c"]), T0)
    logs.delete_topic("t")
    new = logs.create_topic("t", 1)
    assert new.topic_id != old.topic_id
    log = new.partitions[0]
    assert (log.log_start_offset, log.high_watermark, log.read(0, 1 << 20)) == (0, 0, b"")
    assert log.append(batch([b"x"]), T0).base_offset == 0
    stored = log.read(0, 1 << 20)
    reopened = engine.reopen().partition("t", 0)
    assert reopened.high_watermark == 1
    assert reopened.read(0, 1 << 20) == stored


def test_a_deleted_topics_log_refuses_appends(logs):
    log = logs.create_topic("t", 1).partitions[0]
    woken = []
    log.listeners.append(woken.append)
    logs.delete_topic("t")
    assert woken == [log]
    assert error_of(log.append, batch([b"late"]), 0) == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION


def test_unknown_partition(logs):
    logs.create_topic("t", 2)
    assert error_of(logs.partition, "t", 2) == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    assert error_of(logs.partition, "t", -1) == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    assert error_of(logs.partition, "nope", 0) == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION


def test_topics_and_configs_survive_reopen(engine):
    logs = engine.open()
    made = {name: logs.create_topic(name, n, {"retention.ms": str(n * 1000)})
            for name, n in [("a", 1), ("b", 3), ("c.d", 2)]}
    logs.delete_topic("a")
    logs = engine.reopen()
    assert set(logs.topics) == {"b", "c.d"}
    for name in ("b", "c.d"):
        topic = logs.get(name)
        assert topic.topic_id == made[name].topic_id
        assert len(topic.partitions) == len(made[name].partitions)
        assert topic.configs == made[name].configs
        assert logs.get_by_id(topic.topic_id) is topic
    assert error_of(logs.create_topic, "c_d", 1) == ErrorCode.INVALID_TOPIC_EXCEPTION


def test_auto_create_setting_is_exposed(engine):
    assert engine.open(auto_create_topics=False).auto_create_topics is False
    assert engine.reopen().auto_create_topics is True


def test_producer_ids_are_never_reused_after_reopen(engine):
    logs = engine.open()
    first = [logs.next_producer_id() for _ in range(3)]
    assert first == sorted(set(first))
    logs = engine.reopen()
    assert logs.next_producer_id() > first[-1]

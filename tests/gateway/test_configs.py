"""DescribeConfigs, AlterConfigs and IncrementalAlterConfigs in-process: Kafka's sources, types, synonyms,
error codes and messages; dynamic configs acted on at once and kept across a restart."""

from __future__ import annotations

import uuid

import pytest

from gateway.logs import root_level, set_level
from partitions.memory import MemoryStorage
from tests.gateway.inprocess import call, new_broker
from wire.errors import ErrorCode
from wire.records import build_batch

PRODUCE, CREATE, DESCRIBE, ALTER, INCREMENTAL = 0, 19, 32, 33, 44
TOPIC, BROKER, BROKER_LOGGER, CLIENT_METRICS, GROUP = 2, 4, 8, 16, 32
SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3
DEFAULT, STATIC, DYNAMIC_TOPIC, DYNAMIC_BROKER, DYNAMIC_DEFAULT, GROUP_CONFIG = 5, 4, 1, 2, 3, 8


@pytest.fixture
def broker():
    return new_broker()


def create(broker, name, configs=()):
    topic = {"name": name, "num_partitions": 1, "replication_factor": -1, "assignments": [],
             "configs": [{"name": k, "value": v} for k, v in configs]}
    result = call(broker, CREATE, 7, {"topics": [topic], "timeout_ms": 1000, "validate_only": False}).topics[0]
    assert result.error_code == 0, result.error_message
    return result


def describe(broker, kind, name, keys=None, version=4, synonyms=True, docs=True):
    response = call(broker, DESCRIBE, version, {"resources": [
        {"resource_type": kind, "resource_name": name, "configuration_keys": keys}],
        "include_synonyms": synonyms, "include_documentation": docs})
    return response.results[0]


def configs_of(result):
    return {c.name: c for c in result.configs}


def incremental(broker, kind, name, ops, validate_only=False, version=1):
    body = {"resources": [{"resource_type": kind, "resource_name": name, "configs": [
        {"name": n, "config_operation": op, "value": v} for n, op, v in ops]}], "validate_only": validate_only}
    response = call(broker, INCREMENTAL, version, body).responses[0]
    return response.error_code, response.error_message


def legacy(broker, kind, name, configs, validate_only=False, version=2):
    body = {"resources": [{"resource_type": kind, "resource_name": name, "configs": [
        {"name": n, "value": v} for n, v in configs]}], "validate_only": validate_only}
    response = call(broker, ALTER, version, body).responses[0]
    return response.error_code, response.error_message


def produce(broker, topic, size):
    batch = build_batch([(None, b"x" * size, [], 1)])
    response = call(broker, PRODUCE, 9, {"transactional_id": None, "acks": 1, "timeout_ms": 1000, "topic_data": [
        {"name": topic, "partition_data": [{"index": 0, "records": batch}]}]})
    return response.responses[0].partition_responses[0].error_code


def test_topic_configs_are_typed_with_sources_synonyms_and_documentation(broker):
    create(broker, "t", [("retention.ms", "1000"), ("segment.ms", "60000"), ("delete.retention.ms", "5")])
    configs = configs_of(describe(broker, TOPIC, "t"))
    retention = configs["retention.ms"]
    assert (retention.value, retention.config_source, retention.config_type) == ("1000", DYNAMIC_TOPIC, 5)
    assert [(s.name, s.value, s.source) for s in retention.synonyms] == [("retention.ms", "1000", DYNAMIC_TOPIC)]
    limit = configs["max.message.bytes"]
    assert (limit.value, limit.config_source, limit.config_type, limit.read_only) == ("1048588", DEFAULT, 3, False)
    assert [(s.name, s.source) for s in limit.synonyms] == [("message.max.bytes", DEFAULT)]
    assert configs["cleanup.policy"].config_type == 7 and configs["preallocate"].config_type == 1
    assert configs["min.cleanable.dirty.ratio"].config_type == 6 and limit.documentation
    assert configs["segment.ms"].synonyms[0].source == DYNAMIC_TOPIC and configs["segment.ms"].value == "60000"
    plain = describe(broker, TOPIC, "t", keys=["retention.ms"], synonyms=False, docs=False)
    assert [(c.name, c.synonyms, c.documentation) for c in plain.configs] == [("retention.ms", [], None)]
    v0 = describe(broker, TOPIC, "t", keys=["retention.ms", "flush.ms"], version=0)
    assert [(c.name, c.is_default) for c in v0.configs] == [("flush.ms", True), ("retention.ms", False)]
    assert describe(broker, TOPIC, "absent").error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION


def test_lowering_max_message_bytes_refuses_a_larger_batch_at_once_and_survives_restart():
    storage = MemoryStorage()
    broker = new_broker(storage)
    create(broker, "t")
    assert produce(broker, "t", 2000) == ErrorCode.NONE
    assert incremental(broker, TOPIC, "t", [("max.message.bytes", SET, "1000")]) == (ErrorCode.NONE, None)
    assert produce(broker, "t", 2000) == ErrorCode.MESSAGE_TOO_LARGE
    assert produce(broker, "t", 10) == ErrorCode.NONE
    again = new_broker(storage)
    assert configs_of(describe(again, TOPIC, "t"))["max.message.bytes"].value == "1000"
    assert produce(again, "t", 2000) == ErrorCode.MESSAGE_TOO_LARGE
    assert incremental(again, TOPIC, "t", [("max.message.bytes", DELETE, None)]) == (ErrorCode.NONE, None)
    assert produce(again, "t", 2000) == ErrorCode.NONE


def test_broker_default_for_topics_reaches_every_topic_and_is_described(broker):
    create(broker, "t")
    assert incremental(broker, BROKER, "", [("message.max.bytes", SET, "1500")]) == (ErrorCode.NONE, None)
    assert produce(broker, "t", 2000) == ErrorCode.MESSAGE_TOO_LARGE
    topic_entry = configs_of(describe(broker, TOPIC, "t"))["max.message.bytes"]
    assert (topic_entry.value, topic_entry.config_source) == ("1500", DYNAMIC_DEFAULT)
    assert incremental(broker, BROKER, "1", [("message.max.bytes", SET, "3000")]) == (ErrorCode.NONE, None)
    assert produce(broker, "t", 2000) == ErrorCode.NONE
    entry = configs_of(describe(broker, BROKER, "1"))["message.max.bytes"]
    assert (entry.value, entry.config_source, entry.read_only, entry.config_type) == ("3000", DYNAMIC_BROKER,
                                                                                    False, 3)
    assert [(s.value, s.source) for s in entry.synonyms] == [("3000", DYNAMIC_BROKER), ("1500", DYNAMIC_DEFAULT),
                                                            ("1048588", DEFAULT)]
    cluster = describe(broker, BROKER, "")
    assert [(c.name, c.value, c.config_source) for c in cluster.configs] == [("message.max.bytes", "1500",
                                                                             DYNAMIC_DEFAULT)]
    assert [s.source for s in cluster.configs[0].synonyms] == [DYNAMIC_DEFAULT]


def test_retention_synonyms_follow_kafkas_priority(broker):
    create(broker, "t")
    assert incremental(broker, BROKER, "", [("log.retention.ms", SET, "120000")]) == (ErrorCode.NONE, None)
    assert broker.logs.get("t").config("retention.ms") == 120000
    entry = configs_of(describe(broker, TOPIC, "t"))["retention.ms"]
    assert (entry.value, entry.config_source) == ("120000", DYNAMIC_DEFAULT)
    assert [(s.name, s.source) for s in entry.synonyms] == [("log.retention.ms", DYNAMIC_DEFAULT),
                                                           ("log.retention.hours", DEFAULT)]
    hours = configs_of(describe(broker, BROKER, "1"))["log.retention.hours"]
    assert (hours.value, hours.read_only, hours.config_source) == ("168", True, DEFAULT)


def test_static_broker_configs_are_described_as_static():
    broker = new_broker(properties=(("log.retention.hours", "1"), ("num.partitions", "3")))
    assert broker.logs.topic_defaults["retention.ms"].value == 3_600_000
    configs = configs_of(describe(broker, BROKER, "1"))
    assert (configs["num.partitions"].value, configs["num.partitions"].config_source) == ("3", STATIC)
    assert configs["num.partitions"].read_only is True
    assert configs["log.retention.hours"].config_source == STATIC
    assert configs["group.initial.rebalance.delay.ms"].config_source == STATIC  # Ottla's own 0, not Kafka's 3000


@pytest.mark.parametrize(("ops", "code", "message"), [
    ([("no.such.config", SET, "1")], ErrorCode.INVALID_CONFIG, "Unknown topic config name: no.such.config"),
    ([("retention.ms", SET, "-5")], ErrorCode.INVALID_CONFIG,
     "Invalid value -5 for configuration retention.ms: Value must be at least -1"),
    ([("segment.bytes", SET, "big")], ErrorCode.INVALID_CONFIG,
     "Invalid value big for configuration segment.bytes: Not a number of type INT"),
    ([("retention.ms", APPEND, "1")], ErrorCode.INVALID_CONFIG,
     "Can't APPEND to key retention.ms because its type is not LIST."),
    ([("retention.ms", SET, "1"), ("retention.ms", SET, "2")], ErrorCode.INVALID_REQUEST,
     "Error due to duplicate config keys"),
    ([("retention.ms", SET, None)], ErrorCode.INVALID_REQUEST, "Null value not supported for : retention.ms"),
    ([("retention.ms", 9, "1")], ErrorCode.INVALID_REQUEST, "Unknown operations type 9"),
])
def test_bad_topic_alterations_get_kafkas_answer_and_change_nothing(broker, ops, code, message):
    create(broker, "t", [("retention.ms", "1000")])
    assert incremental(broker, TOPIC, "t", ops) == (code, message)
    assert broker.logs.get("t").configs == {"retention.ms": "1000"}


def test_incremental_operations_on_lists_and_validate_only(broker):
    create(broker, "t")
    assert incremental(broker, TOPIC, "t", [("cleanup.policy", APPEND, "compact")], validate_only=True) == (0, None)
    assert broker.logs.get("t").configs == {}
    assert incremental(broker, TOPIC, "t", [("cleanup.policy", APPEND, "compact")]) == (0, None)
    assert broker.logs.get("t").config("cleanup.policy") == ["delete", "compact"]
    assert incremental(broker, TOPIC, "t", [("cleanup.policy", SUBTRACT, "delete")]) == (0, None)
    assert broker.logs.get("t").configs == {"cleanup.policy": "compact"}
    assert incremental(broker, TOPIC, "absent", [("retention.ms", SET, "1")]) == (
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "The topic 'absent' does not exist.")
    assert incremental(broker, TOPIC, "", [("retention.ms", SET, "1")]) == (
        ErrorCode.INVALID_REQUEST, "Default topic resources are not allowed.")


def test_legacy_alter_configs_replaces_every_topic_config(broker):
    create(broker, "t", [("retention.ms", "1000"), ("segment.ms", "60000")])
    assert legacy(broker, TOPIC, "t", [("max.message.bytes", "5000")], version=0) == (0, None)
    assert broker.logs.get("t").configs == {"max.message.bytes": "5000"}
    assert legacy(broker, TOPIC, "t", [("retention.ms", "x")]) == (
        ErrorCode.INVALID_CONFIG, "Invalid value x for configuration retention.ms: Not a number of type LONG")
    assert legacy(broker, BROKER_LOGGER, "1", [("root", "DEBUG")])[0] == ErrorCode.INVALID_REQUEST


@pytest.mark.parametrize(("name", "ops", "code", "message"), [
    ("1", [("num.partitions", SET, "3")], ErrorCode.INVALID_REQUEST,
     "Cannot update these configs dynamically: Set(num.partitions)"),
    ("1", [("message.max.bytes", SET, "many")], ErrorCode.INVALID_REQUEST,
     "Invalid value many for configuration message.max.bytes: Not a number of type INT"),
    ("2", [("message.max.bytes", SET, "5")], ErrorCode.INVALID_REQUEST,
     "Unexpected broker id, expected 1, but received 2"),
    ("x", [("message.max.bytes", SET, "5")], ErrorCode.INVALID_REQUEST, "Node id must be an integer, but it is: x"),
    ("1", [("message.max.bytes", APPEND, "5")], ErrorCode.INVALID_CONFIG,
     "Config value append is not allowed for config key: message.max.bytes"),
])
def test_bad_broker_alterations_get_kafkas_answer(broker, name, ops, code, message):
    assert incremental(broker, BROKER, name, ops) == (code, message)
    assert broker.configs.dynamic(BROKER, name) == {}


def test_dynamic_broker_configs_survive_restart():
    storage = MemoryStorage()
    broker = new_broker(storage)
    assert incremental(broker, BROKER, "", [("log.retention.ms", SET, "5000")]) == (0, None)
    assert incremental(broker, BROKER, "1", [("log.roll.ms", SET, "7000")]) == (0, None)
    again = new_broker(storage)
    assert (again.configs.broker("log.retention.ms"), again.configs.broker("log.roll.ms")) == (5000, 7000)
    create(again, "t")
    assert (again.logs.get("t").config("retention.ms"), again.logs.get("t").config("segment.ms")) == (5000, 7000)


def test_group_configs_default_to_the_broker_and_are_bounded_by_it(broker):
    entries = configs_of(describe(broker, GROUP, "g"))
    assert (entries["consumer.session.timeout.ms"].value, entries["consumer.session.timeout.ms"].config_source) \
        == ("45000", DEFAULT)
    assert entries["share.auto.offset.reset"].value == "latest" and "errors.deadletterqueue.topic.name" in entries
    ok = [("share.auto.offset.reset", SET, "earliest"), ("consumer.session.timeout.ms", SET, "50000"),
          ("share.delivery.count.limit", SET, "3")]
    assert incremental(broker, GROUP, "g", ok) == (0, None)
    assert broker.configs.group("g", "share.auto.offset.reset") == "earliest"
    assert broker.configs.group("g", "consumer.session.timeout.ms") == 50000
    assert broker.configs.group("other", "consumer.session.timeout.ms") == 45000
    entry = configs_of(describe(broker, GROUP, "g"))["share.auto.offset.reset"]
    assert (entry.value, entry.config_source, [s.source for s in entry.synonyms]) == ("earliest", GROUP_CONFIG,
                                                                                     [GROUP_CONFIG])
    assert incremental(broker, GROUP, "g", [("consumer.session.timeout.ms", SET, "1000")]) == (
        ErrorCode.INVALID_CONFIG, "consumer.session.timeout.ms must be greater than or equal to "
                                  "group.consumer.min.session.timeout.ms")
    assert incremental(broker, GROUP, "g", [("share.auto.offset.reset", SET, "middle")])[0] == ErrorCode.INVALID_CONFIG
    assert incremental(broker, GROUP, "g", [("nope", SET, "1")]) == (ErrorCode.INVALID_CONFIG,
                                                                     "Unknown group config name: nope")
    assert incremental(broker, GROUP, "g", [("errors.deadletterqueue.topic.name", SET, "__x")])[0] == \
        ErrorCode.INVALID_CONFIG
    assert broker.configs.group("g", "consumer.session.timeout.ms") == 50000


def test_client_metrics_subscriptions(broker):
    ops = [("metrics", SET, "org.apache.kafka.producer."), ("interval.ms", SET, "1000"),
           ("match", SET, "client_id=perf.*")]
    assert incremental(broker, CLIENT_METRICS, "sub", ops) == (0, None)
    entries = configs_of(describe(broker, CLIENT_METRICS, "sub"))
    assert (entries["interval.ms"].value, entries["interval.ms"].config_source) == ("1000", 7)
    assert incremental(broker, CLIENT_METRICS, "sub", [("interval.ms", SET, "5")]) == (
        ErrorCode.INVALID_REQUEST, "Invalid value 5 for interval.ms, interval must be between 100 and 3600000 (1 hour)")
    assert incremental(broker, CLIENT_METRICS, "sub", [("match", SET, "pid=1")]) == (
        ErrorCode.INVALID_CONFIG, "Illegal client matching pattern: pid=1")
    assert incremental(broker, CLIENT_METRICS, "sub", [("colour", SET, "1")]) == (
        ErrorCode.INVALID_REQUEST, "Unknown client metrics configuration: colour")


def test_broker_logger_sets_the_level_at_once(broker):
    before = root_level()
    try:
        assert describe(broker, BROKER_LOGGER, "1").configs[0].name == "root"
        assert incremental(broker, BROKER_LOGGER, "1", [("root", SET, "DEBUG")]) == (0, None)
        assert root_level() == "DEBUG" and describe(broker, BROKER_LOGGER, "1").configs[0].value == "DEBUG"
        assert incremental(broker, BROKER_LOGGER, "1", [("root", SET, "LOUD")])[0] == ErrorCode.INVALID_CONFIG
        assert incremental(broker, BROKER_LOGGER, "1", [("kafka.x", SET, "INFO")]) == (
            ErrorCode.INVALID_CONFIG, "Logger kafka.x does not exist!")
        assert incremental(broker, BROKER_LOGGER, "1", [("root", DELETE, None)])[0] == ErrorCode.INVALID_REQUEST
    finally:
        set_level(before)


def test_duplicate_resources_and_unknown_types(broker):
    create(broker, "t")
    body = {"resources": [{"resource_type": TOPIC, "resource_name": "t", "configs": []}] * 2, "validate_only": False}
    assert [r.error_code for r in call(broker, INCREMENTAL, 0, body).responses] == [ErrorCode.INVALID_REQUEST] * 2
    assert incremental(broker, 99, "x", [("a", SET, "1")]) == (ErrorCode.INVALID_REQUEST, "Unknown resource type 99")
    assert describe(broker, 99, "x").error_code == ErrorCode.INVALID_REQUEST
    assert describe(broker, BROKER, "7").error_message == "Unexpected broker id, expected 1 or empty string, but " \
                                                          "received 7"


def test_share_groups_read_their_group_configs(broker):
    assert broker.share_configs.for_group("sg").auto_offset_reset == "latest"
    ops = [("share.auto.offset.reset", SET, "earliest"), ("share.record.lock.duration.ms", SET, "20000")]
    assert incremental(broker, GROUP, "sg", ops) == (0, None)
    effective = broker.share_configs.for_group("sg")
    assert (effective.auto_offset_reset, effective.record_lock_duration_ms) == ("earliest", 20000)
    assert broker.share_configs.for_group("other").record_lock_duration_ms == 30000


def test_consumer_group_configs_are_acted_on_by_the_kip848_coordinator(broker):
    create(broker, "t")
    ops = [("consumer.heartbeat.interval.ms", SET, "6000"), ("consumer.session.timeout.ms", SET, "50000")]
    assert incremental(broker, GROUP, "tuned", ops) == (0, None)

    def join(group):
        return call(broker, 68, 1, {"group_id": group, "member_id": str(uuid.uuid4()), "member_epoch": 0,
                                    "rebalance_timeout_ms": 30000, "subscribed_topic_names": ["t"],
                                    "topic_partitions": []})

    tuned, plain = join("tuned"), join("plain")
    assert (tuned.error_code, tuned.heartbeat_interval_ms) == (0, 6000)
    assert (plain.error_code, plain.heartbeat_interval_ms) == (0, 5000)
    timers = broker.consumer_groups.timers
    tuned_deadline = timers.deadline(("session", "tuned", tuned.member_id))
    plain_deadline = timers.deadline(("session", "plain", plain.member_id))
    assert 4000 <= tuned_deadline - plain_deadline <= 5000  # 50 s against the broker's 45 s


def test_min_insync_replicas_above_one_refuses_acks_all_as_a_single_broker_kafka_does(broker):
    create(broker, "t", [("min.insync.replicas", "2")])
    batch = build_batch([(None, b"v", [], 1)])

    def produce_with(acks):
        response = call(broker, PRODUCE, 9, {"transactional_id": None, "acks": acks, "timeout_ms": 1000,
                                             "topic_data": [{"name": "t", "partition_data": [
                                                 {"index": 0, "records": batch}]}]})
        return response.responses[0].partition_responses[0]

    refused = produce_with(-1)
    assert refused.error_code == ErrorCode.NOT_ENOUGH_REPLICAS and "min.isr requirement of 2" in refused.error_message
    assert produce_with(1).error_code == ErrorCode.NONE
    assert incremental(broker, TOPIC, "t", [("min.insync.replicas", DELETE, None)]) == (0, None)
    assert produce_with(-1).error_code == ErrorCode.NONE


def test_stored_values_that_no_longer_validate_are_skipped_not_fatal():
    storage = MemoryStorage()
    broker = new_broker(storage)
    create(broker, "t")
    broker.configs.replace(BROKER, "", {"message.max.bytes": "lots"})  # as if an older version stored it
    record = broker.logs.get("t").record()
    storage.save_topic(record._replace(configs={"retention.ms": "forever"}))
    again = new_broker(storage)
    assert again.configs.broker("message.max.bytes") == 1048588
    assert again.logs.get("t").config("retention.ms") == 604800000

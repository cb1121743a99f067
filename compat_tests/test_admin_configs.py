"""Config administration through real admin clients: kafka-python's KafkaAdminClient, confluent-kafka's
AdminClient, aiokafka's AIOKafkaAdminClient and kafkajs's admin. Alter and incrementally alter topic
and broker configs, see them described with Kafka's source, type and synonyms and acted on at once
(max.message.bytes refuses a larger batch right after it is lowered), client quotas, config resource
listing, bad input answered with Kafka's codes and messages, and librdkafka's KIP-714 telemetry push.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ResourceType
from confluent_kafka.admin import ConfigResource as ConfluentResource
from kafka import KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.errors import MessageSizeTooLargeError
from kafka.protocol.admin import AlterClientQuotasRequest, DescribeClientQuotasRequest

from compat_tests.topics import admin_client

JS_DIR = Path(__file__).resolve().parent / "js"
DYNAMIC_TOPIC, DYNAMIC_BROKER, DYNAMIC_DEFAULT, STATIC, DEFAULT = 1, 2, 3, 4, 5
# A broker-wide change other tests cannot notice: retention is a week either way.
LONG_RETENTION_MS = "604800001"


@pytest.fixture
def admin(bootstrap):
    client = admin_client(bootstrap)
    yield client
    client.close()


def test_kafka_python_lowers_max_message_bytes_and_the_next_batch_is_refused(bootstrap, topic, admin):
    producer = KafkaProducer(bootstrap_servers=bootstrap, retries=0, linger_ms=0)
    try:
        producer.send(topic, b"x" * 2000).get(10)
        result = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={
            "max.message.bytes": ("SET", "1000"), "segment.ms": "60000", "delete.retention.ms": "1000"})])
        assert result == {"topic": {topic: "OK"}}
        with pytest.raises(MessageSizeTooLargeError):
            producer.send(topic, b"x" * 2000).get(10)
        producer.send(topic, b"small").get(10)
    finally:
        producer.close()
    described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)],
                                       include_synonyms=True)["topic"][topic]
    limit = described["max.message.bytes"]
    assert (limit["value"], limit["config_source"], limit["config_type"]) == ("1000", "DYNAMIC_TOPIC_CONFIG", "INT")
    assert [(s["name"], s["source"]) for s in limit["synonyms"]] == [
        ("max.message.bytes", "DYNAMIC_TOPIC_CONFIG"), ("message.max.bytes", "DEFAULT_CONFIG")]
    assert (described["segment.ms"]["value"], described["segment.ms"]["config_type"]) == ("60000", "LONG")


def test_kafka_python_bad_topic_configs_get_kafkas_answers_and_change_nothing(bootstrap, topic, admin):
    resource = ConfigResource(ConfigResourceType.TOPIC, topic, configs={"no.such.config": "1"})
    assert admin.alter_configs([resource], raise_on_unknown=False)["topic"][topic] == \
        "[Error 40] InvalidConfigurationError: Unknown topic config name: no.such.config"
    out_of_range = ConfigResource(ConfigResourceType.TOPIC, topic, configs={"retention.ms": "-7"})
    assert admin.alter_configs([out_of_range])["topic"][topic] == "[Error 40] InvalidConfigurationError: Invalid " \
        "value -7 for configuration retention.ms: Value must be at least -1"
    absent = f"{topic}-absent"
    missing = ConfigResource(ConfigResourceType.TOPIC, absent, configs={"retention.ms": "1"})
    assert admin.alter_configs([missing], raise_on_unknown=False)["topic"][absent].startswith(
        "[Error 3] UnknownTopicOrPartitionError")
    assert admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])["topic"][topic] == {}


def test_kafka_python_client_quotas_and_config_resources(bootstrap, topic, admin):
    user = f"compat-{uuid.uuid4().hex[:8]}"
    entry = AlterClientQuotasRequest.EntryData
    alter = AlterClientQuotasRequest(validate_only=False, entries=[entry(
        entity=[entry.EntityData(entity_type="user", entity_name=user)],
        ops=[entry.OpData(key="producer_byte_rate", value=1024.0, remove=False),
             entry.OpData(key="request_percentage", value=12.5, remove=False)])])
    answer = admin._manager.run(admin._manager.send, alter)
    assert [(e.error_code, e.error_message) for e in answer.entries] == [(0, None)]
    component = DescribeClientQuotasRequest.ComponentData
    described = admin._manager.run(admin._manager.send, DescribeClientQuotasRequest(
        components=[component(entity_type="user", match_type=0, match=user)], strict=True))
    assert described.error_code == 0
    assert [({(e.entity_type, e.entity_name) for e in d.entity}, {v.key: v.value for v in d.values})
            for d in described.entries] == [({("user", user)}, {"producer_byte_rate": 1024.0,
                                                                 "request_percentage": 12.5})]
    bad = AlterClientQuotasRequest(validate_only=False, entries=[entry(
        entity=[entry.EntityData(entity_type="user", entity_name=user)],
        ops=[entry.OpData(key="producer_byte_rate", value=1.5, remove=False)])])
    refused = admin._manager.run(admin._manager.send, bad).entries[0]
    assert (refused.error_code, refused.error_message) == (42, "producer_byte_rate cannot be a fractional value.")
    resources = admin.list_config_resources()
    assert topic in resources["topic"] and resources["broker"] and resources["broker_logger"]


def test_confluent_incrementally_alters_a_broker_config_seen_by_topics(bootstrap, topic):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    broker = ConfluentResource(ResourceType.BROKER, "1", incremental_configs=[
        ConfigEntry("log.retention.ms", LONG_RETENTION_MS, incremental_operation=AlterConfigOpType.SET)])
    try:
        for future in admin.incremental_alter_configs([broker]).values():
            future.result(timeout=10)
        (described,) = admin.describe_configs([ConfluentResource(ResourceType.BROKER, "1")]).values()
        entry = described.result(timeout=10)["log.retention.ms"]
        assert (entry.value, int(entry.source), entry.is_read_only) == (LONG_RETENTION_MS, DYNAMIC_BROKER, False)
        assert {name: int(s.source) for name, s in entry.synonyms.items()} == {
            "log.retention.ms": DYNAMIC_BROKER, "log.retention.hours": DEFAULT}
        (described,) = admin.describe_configs([ConfluentResource(ResourceType.TOPIC, topic)]).values()
        retention = described.result(timeout=10)["retention.ms"]
        assert (retention.value, int(retention.source)) == (LONG_RETENTION_MS, DYNAMIC_BROKER)
        fixed = ConfluentResource(ResourceType.BROKER, "1", incremental_configs=[
            ConfigEntry("num.partitions", "7", incremental_operation=AlterConfigOpType.SET)])
        with pytest.raises(KafkaException) as refused:
            for future in admin.incremental_alter_configs([fixed]).values():
                future.result(timeout=10)
        assert refused.value.args[0].code() == 42  # INVALID_REQUEST, as Kafka answers a read-only broker config
        assert "Cannot update these configs dynamically" in refused.value.args[0].str()
    finally:
        undo = ConfluentResource(ResourceType.BROKER, "1", incremental_configs=[
            ConfigEntry("log.retention.ms", None, incremental_operation=AlterConfigOpType.DELETE)])
        for future in admin.incremental_alter_configs([undo]).values():
            future.result(timeout=10)
    (described,) = admin.describe_configs([ConfluentResource(ResourceType.TOPIC, topic)]).values()
    assert int(described.result(timeout=10)["retention.ms"].source) == DEFAULT


def test_confluent_unknown_topic_config_is_invalid_config(bootstrap, topic):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    resource = ConfluentResource(ResourceType.TOPIC, topic, incremental_configs=[
        ConfigEntry("no.such.config", "1", incremental_operation=AlterConfigOpType.SET)])
    with pytest.raises(KafkaException) as refused:
        for future in admin.incremental_alter_configs([resource]).values():
            future.result(timeout=10)
    assert (refused.value.args[0].code(), refused.value.args[0].str()) == (40, "Unknown topic config name: "
                                                                           "no.such.config")


def test_aiokafka_alters_and_describes_topic_configs(bootstrap, topic):
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.admin.config_resource import ConfigResource as AioResource
    from aiokafka.admin.config_resource import ConfigResourceType as AioType

    async def run():
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            (altered,) = await admin.alter_configs([AioResource(AioType.TOPIC, topic, configs={
                "retention.ms": "3600000", "cleanup.policy": "compact,delete"})])
            (described,) = await admin.describe_configs([AioResource(AioType.TOPIC, topic, configs={
                "retention.ms": None, "cleanup.policy": None})], include_synonyms=True)
            return altered, described
        finally:
            await admin.close()

    altered, described = asyncio.run(run())
    assert [r[0] for r in altered.resources] == [0]
    entries = {e[0]: e for e in described.resources[0][4]}
    assert (entries["retention.ms"][1], entries["retention.ms"][3]) == ("3600000", DYNAMIC_TOPIC)
    assert entries["cleanup.policy"][1] == "compact,delete"
    assert [s[0] for s in entries["retention.ms"][5]][0] == "retention.ms"


@pytest.mark.skipif(shutil.which("node") is None or not (JS_DIR / "node_modules" / "kafkajs").is_dir(),
                    reason="node or kafkajs is not installed")
def test_kafkajs_alters_and_describes_topic_configs(bootstrap, topic):
    def admin_js(**params):
        proc = subprocess.run(["node", "admin.js", json.dumps({"bootstrap": bootstrap, **params})], cwd=JS_DIR,
                              capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return json.loads(proc.stdout.splitlines()[0])

    altered = admin_js(action="alterConfigs", resources=[{"type": 2, "name": topic, "configEntries": [
        {"name": "retention.ms", "value": "7200000"}]}])
    assert altered["resources"][0]["errorCode"] == 0
    described = admin_js(action="describeConfigs", includeSynonyms=True, resources=[
        {"type": 2, "name": topic, "configNames": ["retention.ms", "max.message.bytes"]}])
    entries = {e["configName"]: e for e in described["resources"][0]["configEntries"]}
    assert (entries["retention.ms"]["configValue"], entries["retention.ms"]["configSource"]) == ("7200000",
                                                                                                DYNAMIC_TOPIC)
    assert entries["max.message.bytes"]["isDefault"] is True
    assert entries["max.message.bytes"]["configSynonyms"][0]["configName"] == "message.max.bytes"
    refused = admin_js(action="alterConfigs", resources=[{"type": 2, "name": topic, "configEntries": [
        {"name": "no.such.config", "value": "1"}]}])
    assert refused["error"] == "INVALID_CONFIG"


def test_librdkafka_pushes_telemetry_under_a_client_metrics_subscription(bootstrap, broker, admin):
    """KIP-714: librdkafka asks for its subscription and pushes its metrics (seen in Ottla's log)."""
    if not broker.managed:
        pytest.skip("the pushed metrics are only visible in the log of a broker this session started")
    client_id = f"compat-telemetry-{uuid.uuid4().hex[:8]}"
    name = f"sub-{client_id}"
    subscription = ConfigResource(ConfigResourceType.CLIENT_METRICS, name, configs={
        "metrics": "*", "interval.ms": "200", "match": f"client_id={client_id}"})
    assert admin.alter_configs([subscription], raise_on_unknown=False) == {"client_metrics": {name: "OK"}}
    start = broker.log_size()
    producer = Producer({"bootstrap.servers": bootstrap, "client.id": client_id})
    try:
        deadline = time.monotonic() + 20
        while "telemetry_first_push" not in broker.log_text(start) and time.monotonic() < deadline:
            producer.poll(0.2)
        assert "telemetry_first_push" in broker.log_text(start)
        assert name in admin.list_config_resources(["CLIENT_METRICS"])["client_metrics"]
    finally:
        producer.flush(5)
        admin.alter_configs([ConfigResource(ConfigResourceType.CLIENT_METRICS, name, configs={
            "metrics": ("DELETE", None), "interval.ms": ("DELETE", None), "match": ("DELETE", None)})],
            raise_on_unknown=False)


def test_dynamic_topic_and_broker_configs_survive_kill9(bootstrap, topic, kill9_broker):
    admin = admin_client(bootstrap)
    try:
        assert admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={
            "retention.ms": "5400000"})]) == {"topic": {topic: "OK"}}
        assert admin.alter_configs([ConfigResource(ConfigResourceType.BROKER, "1", configs={
            "log.retention.bytes": "1099511627776"})]) == {"broker": {"1": "OK"}}
    finally:
        admin.close()
    kill9_broker()
    admin = admin_client(bootstrap)
    try:
        topic_configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)],
                                               include_synonyms=True)["topic"][topic]
        assert topic_configs["retention.ms"]["value"] == "5400000"
        assert (topic_configs["retention.bytes"]["value"], topic_configs["retention.bytes"]["config_source"]) == \
            ("1099511627776", "DYNAMIC_BROKER_CONFIG")
    finally:
        admin.alter_configs([ConfigResource(ConfigResourceType.BROKER, "1", configs={
            "log.retention.bytes": ("DELETE", None)})])
        admin.close()

"""Client quotas, ListConfigResources, client telemetry (KIP-714) and `ottla serve --config/--set`."""

from __future__ import annotations

import uuid

import pytest

from gateway.cli import parser, serve_config
from gateway.configs.properties import PropertiesError, read_properties
from partitions.memory import MemoryStorage
from tests.gateway.conftest import BrokerProcess
from tests.gateway.inprocess import call, new_broker
from wire.errors import ErrorCode

DESCRIBE, INCREMENTAL, DESCRIBE_QUOTAS, ALTER_QUOTAS, GET_TELEMETRY, PUSH_TELEMETRY, LIST_RESOURCES = \
    32, 44, 48, 49, 71, 72, 74
TOPIC, BROKER, BROKER_LOGGER, CLIENT_METRICS, GROUP = 2, 4, 8, 16, 32


def alter_quotas(broker, entity, ops, validate_only=False, version=1):
    body = {"entries": [{"entity": [{"entity_type": t, "entity_name": n} for t, n in entity],
                         "ops": [{"key": k, "value": v, "remove": v is None} for k, v in ops]}],
            "validate_only": validate_only}
    for op in body["entries"][0]["ops"]:
        op["value"] = op["value"] or 0.0
    entry = call(broker, ALTER_QUOTAS, version, body).entries[0]
    return entry.error_code, entry.error_message


def describe_quotas(broker, components, strict=False, version=1):
    response = call(broker, DESCRIBE_QUOTAS, version, {"components": [
        {"entity_type": t, "match_type": m, "match": s} for t, m, s in components], "strict": strict})
    if response.error_code:
        return response.error_code, response.error_message
    return [(tuple((e.entity_type, e.entity_name) for e in entry.entity),
             {v.key: v.value for v in entry["values"]}) for entry in response.entries]


def test_client_quotas_are_stored_matched_as_kafka_does_and_persisted():
    storage = MemoryStorage()
    broker = new_broker(storage)
    assert alter_quotas(broker, [("user", "alice")], [("producer_byte_rate", 1024.0)]) == (0, None)
    assert alter_quotas(broker, [("user", "alice"), ("client-id", "app")], [("request_percentage", 50.5)]) == (0, None)
    assert alter_quotas(broker, [("user", None)], [("consumer_byte_rate", 2048.0)], version=0) == (0, None)
    assert alter_quotas(broker, [("ip", "10.0.0.1")], [("connection_creation_rate", 5.0)]) == (0, None)
    assert alter_quotas(broker, [("user", "bob")], [("producer_byte_rate", 9.0)], validate_only=True) == (0, None)
    everything = describe_quotas(broker, [])
    assert len(everything) == 4
    assert describe_quotas(broker, [("user", 0, "alice")]) == [
        ((("client-id", "app"), ("user", "alice")), {"request_percentage": 50.5}),
        ((("user", "alice"),), {"producer_byte_rate": 1024.0})]
    assert describe_quotas(broker, [("user", 0, "alice")], strict=True) == [
        ((("user", "alice"),), {"producer_byte_rate": 1024.0})]
    assert describe_quotas(broker, [("user", 1, None)], version=0) == [((("user", None),),
                                                                       {"consumer_byte_rate": 2048.0})]
    assert [e for e, _ in describe_quotas(broker, [("ip", 2, None)])] == [(("ip", "10.0.0.1"),)]
    again = new_broker(storage)
    assert describe_quotas(again, []) == everything
    assert alter_quotas(again, [("user", "alice")], [("producer_byte_rate", None)]) == (0, None)
    assert len(describe_quotas(again, [])) == 3 and len(describe_quotas(new_broker(storage), [])) == 3


@pytest.mark.parametrize(("entity", "ops", "message"), [
    ([], [("producer_byte_rate", 1.0)], "Invalid empty client quota entity"),
    ([("group", "g")], [("producer_byte_rate", 1.0)], "Unhandled client quota entity type: group"),
    ([("user", "")], [("producer_byte_rate", 1.0)], "Empty user not supported"),
    ([("user", "a")], [("bogus_rate", 1.0)], "Invalid configuration key bogus_rate"),
    ([("user", "a")], [("producer_byte_rate", -1.0)], "Quota producer_byte_rate must be greater than 0"),
    ([("user", "a")], [("producer_byte_rate", 1.5)], "producer_byte_rate cannot be a fractional value."),
    ([("ip", "1.2.3.4"), ("user", "a")], [("connection_creation_rate", 1.0)],
     "Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId"),
    ([("ip", "not an ip!")], [("connection_creation_rate", 1.0)], "not an ip! is not a valid IP or resolvable host."),
    ([("ip", "1.2.3.4")], [("producer_byte_rate", 1.0)], "Invalid configuration key producer_byte_rate"),
])
def test_bad_quota_entities_and_values_get_kafkas_messages(entity, ops, message):
    broker = new_broker()
    assert alter_quotas(broker, entity, ops) == (ErrorCode.INVALID_REQUEST, message)
    assert describe_quotas(broker, []) == []


def test_bad_quota_filters():
    broker = new_broker()
    assert describe_quotas(broker, [("user", 0, None)]) == (
        ErrorCode.INVALID_REQUEST, "Request specified MATCH_TYPE_EXACT, but set match string to null.")
    assert describe_quotas(broker, [("user", 2, None), ("user", 1, None)])[0] == ErrorCode.INVALID_REQUEST
    assert describe_quotas(broker, [("group", 2, None)]) == (ErrorCode.UNSUPPORTED_VERSION,
                                                             "Unsupported entity type group")
    assert describe_quotas(broker, [("ip", 2, None), ("user", 2, None)])[0] == ErrorCode.INVALID_REQUEST


def test_list_config_resources():
    broker = new_broker()
    call(broker, 19, 7, {"topics": [{"name": "t", "num_partitions": 1, "replication_factor": -1, "assignments": [],
                                     "configs": []}], "timeout_ms": 1000, "validate_only": False})
    ops = {"resources": [{"resource_type": CLIENT_METRICS, "resource_name": "sub", "configs": [
        {"name": "metrics", "config_operation": 0, "value": "*"}]}, {"resource_type": GROUP, "resource_name": "g",
        "configs": [{"name": "share.auto.offset.reset", "config_operation": 0, "value": "earliest"}]}],
        "validate_only": False}
    assert [r.error_code for r in call(broker, INCREMENTAL, 1, ops).responses] == [0, 0]
    listed = call(broker, LIST_RESOURCES, 1, {"resource_types": []})
    assert sorted((r.resource_type, r.resource_name) for r in listed.config_resources) == [
        (TOPIC, "t"), (BROKER, "1"), (BROKER_LOGGER, "1"), (CLIENT_METRICS, "sub"), (GROUP, "g")]
    only = call(broker, LIST_RESOURCES, 1, {"resource_types": [TOPIC]})
    assert [(r.resource_type, r.resource_name) for r in only.config_resources] == [(TOPIC, "t")]
    v0 = call(broker, LIST_RESOURCES, 0, {})
    assert [r.resource_name for r in v0.config_resources] == ["sub"]
    assert call(broker, LIST_RESOURCES, 1, {"resource_types": [99]}).error_code == ErrorCode.UNSUPPORTED_VERSION


def test_telemetry_subscription_push_and_errors(monkeypatch):
    clock = [1_000_000]
    monkeypatch.setattr("gateway.handlers.telemetry.now_ms", lambda: clock[0])
    broker = new_broker()
    body = {"resources": [{"resource_type": CLIENT_METRICS, "resource_name": "perf", "configs": [
        {"name": "metrics", "config_operation": 0, "value": "org.apache.kafka.producer."},
        {"name": "interval.ms", "config_operation": 0, "value": "1000"},
        {"name": "match", "config_operation": 0, "value": "client_id=perf-.*"}]}], "validate_only": False}
    assert call(broker, INCREMENTAL, 1, body).responses[0].error_code == 0
    other = call(broker, GET_TELEMETRY, 0, {"client_instance_id": bytes(16)}, client_id="other")
    assert other.error_code == 0 and other.requested_metrics == [] and other.push_interval_ms == 300_000
    sub = call(broker, GET_TELEMETRY, 0, {"client_instance_id": bytes(16)}, client_id="perf-1")
    instance = sub.client_instance_id
    assert (sub.error_code, sub.requested_metrics, sub.push_interval_ms) == (0, ["org.apache.kafka.producer."], 1000)
    assert instance != bytes(16) and 4 in sub.accepted_compression_types and sub.telemetry_max_bytes == 1 << 20
    too_soon = call(broker, GET_TELEMETRY, 0, {"client_instance_id": instance}, client_id="perf-1")
    assert too_soon.error_code == ErrorCode.THROTTLING_QUOTA_EXCEEDED

    def push(subscription, metrics=b"otlp", compression=0, terminating=False):
        return call(broker, PUSH_TELEMETRY, 0, {"client_instance_id": instance, "subscription_id": subscription,
                                                "terminating": terminating, "compression_type": compression,
                                                "metrics": metrics}, client_id="perf-1").error_code

    assert push(sub.subscription_id) == 0
    assert broker.telemetry.latest(instance).metrics == b"otlp"
    assert push(sub.subscription_id) == ErrorCode.THROTTLING_QUOTA_EXCEEDED
    clock[0] += 1000
    assert push(sub.subscription_id + 1) == ErrorCode.UNKNOWN_SUBSCRIPTION_ID
    clock[0] += 1000
    assert push(sub.subscription_id, compression=9) == ErrorCode.UNSUPPORTED_COMPRESSION_TYPE
    clock[0] += 1000
    assert push(sub.subscription_id, metrics=b"x" * (2 << 20)) == ErrorCode.TELEMETRY_TOO_LARGE
    clock[0] += 1000
    assert push(sub.subscription_id, metrics=b"last", terminating=True) == 0
    assert broker.telemetry.latest(instance).metrics == b"last"
    clock[0] += 1000
    assert push(sub.subscription_id) == ErrorCode.INVALID_REQUEST
    zero = call(broker, PUSH_TELEMETRY, 0, {"client_instance_id": bytes(16), "subscription_id": 0,
                                            "terminating": False, "compression_type": 0, "metrics": b""})
    assert zero.error_code == ErrorCode.INVALID_REQUEST
    assert uuid.UUID(bytes=instance).version == 4


def test_properties_files_parse_as_java_does():
    text = "# comment\n! also\nlisteners = PLAINTEXT://127.0.0.1:9555\nlog.dirs=/tmp/a,/tmp/b\n" \
           "num.partitions:4\nlong.value=a\\\n    b\nempty\n"
    assert read_properties(text) == {"listeners": "PLAINTEXT://127.0.0.1:9555", "log.dirs": "/tmp/a,/tmp/b",
                                     "num.partitions": "4", "long.value": "ab", "empty": ""}


def test_serve_config_precedence_and_validation(tmp_path):
    path = tmp_path / "server.properties"
    path.write_text("listeners=PLAINTEXT://127.0.0.1:9555\nnum.partitions=4\nlog.dirs=/tmp/x\n"
                    "log.retention.hours=2\nauto.create.topics.enable=false\n")

    def config(*argv):
        args = ["serve", "--config", str(path), *argv]
        return serve_config(parser().parse_args(args), args)

    plain = config()
    assert (plain.host, plain.port, plain.default_partitions, plain.data_dir, plain.auto_create_topics) == \
        ("127.0.0.1", 9555, 4, "/tmp/x", False)
    assert dict(plain.properties)["log.retention.hours"] == "2"
    flagged = config("--port", "9600", "--default-partitions", "2", "--set", "num.partitions=7")
    assert (flagged.port, flagged.default_partitions) == (9600, 7)
    with pytest.raises(PropertiesError, match="Invalid value many for configuration num.partitions"):
        config("--set", "num.partitions=many")
    with pytest.raises(PropertiesError):
        config("--set", "novalue")


def test_serve_with_a_config_file_starts_a_broker_that_uses_it(tmp_path):
    path = tmp_path / "server.properties"
    path.write_text("num.partitions=3\nlog.retention.hours=2\nmessage.max.bytes=5000\n")
    process = BrokerProcess("--memory", "--config", str(path), "--set", "log.roll.ms=60000")
    try:
        client = process.client()
        metadata = client.request(3, 12, {"topics": [{"name": "auto", "topic_id": bytes(16)}],
                                          "allow_auto_topic_creation": True, "include_topic_authorized_operations": False})
        assert len(metadata.topics[0].partitions) == 3
        described = client.request(DESCRIBE, 4, {"resources": [{"resource_type": TOPIC, "resource_name": "auto",
                                                                "configuration_keys": None}],
                                                 "include_synonyms": True, "include_documentation": False})
        configs = {c.name: c for c in described.results[0].configs}
        assert (configs["retention.ms"].value, configs["max.message.bytes"].value) == ("7200000", "5000")
        assert (configs["segment.ms"].value, configs["segment.ms"].config_source) == ("60000", 4)
        assert configs["max.message.bytes"].synonyms[0].source == 4
        client.close()
    finally:
        process.stop()


def test_max_connections_per_ip_lowered_at_runtime_refuses_the_next_connection():
    from tests.gateway.test_resource_bounds import _connect, _served

    process = BrokerProcess("--memory")
    try:
        client = process.client()
        answer = client.request(INCREMENTAL, 1, {"resources": [{"resource_type": BROKER, "resource_name": "",
                                                                "configs": [{"name": "max.connections.per.ip",
                                                                             "config_operation": 0, "value": "2"}]}],
                                                 "validate_only": False})
        assert answer.responses[0].error_code == 0
        second = _connect(process.address, "127.0.0.1")
        assert _served(second)
        third = _connect(process.address, "127.0.0.1")
        assert not _served(third)  # the client's own connection and `second` are the two allowed
        for sock in (second, third):
            sock.close()
        client.close()
    finally:
        process.stop()


def test_max_connections_per_ip_overrides_act_at_once():
    from tests.gateway.test_resource_bounds import _connect, _served

    process = BrokerProcess("--memory", "--max-connections-per-ip", "2")
    try:
        client = process.client()
        bad = client.request(INCREMENTAL, 1, {"resources": [{"resource_type": BROKER, "resource_name": "1",
                             "configs": [{"name": "max.connections.per.ip.overrides", "config_operation": 0,
                                          "value": "127.0.0.1:many"}]}], "validate_only": False})
        assert bad.responses[0].error_code == ErrorCode.INVALID_REQUEST
        ok = client.request(INCREMENTAL, 1, {"resources": [{"resource_type": BROKER, "resource_name": "1",
                            "configs": [{"name": "max.connections.per.ip.overrides", "config_operation": 0,
                                         "value": "127.0.0.1:3"}]}], "validate_only": False})
        assert ok.responses[0].error_code == 0
        extra = [_connect(process.address, "127.0.0.1") for _ in range(3)]
        assert [_served(s) for s in extra] == [True, True, False]  # 3 for this address, the client's included
        for sock in extra:
            sock.close()
        client.close()
    finally:
        process.stop()


@pytest.mark.parametrize("argv", [["--config", "/nonexistent/server.properties"], ["--set", "num.partitions=zero"]])
def test_serve_refuses_a_bad_config_with_a_message_not_a_traceback(argv):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "gateway", "serve", "--memory", *argv], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 2 and proc.stderr.startswith("ottla: ") and "Traceback" not in proc.stderr


def test_telemetry_subscriptions_match_the_software_named_in_api_versions():
    broker = new_broker()
    body = {"resources": [{"resource_type": CLIENT_METRICS, "resource_name": "by-software", "configs": [
        {"name": "metrics", "config_operation": 0, "value": "org.apache.kafka.consumer."},
        {"name": "match", "config_operation": 0, "value": "client_software_name=ottla-.*"}]}], "validate_only": False}
    assert call(broker, INCREMENTAL, 1, body).responses[0].error_code == 0
    unnamed = call(broker, GET_TELEMETRY, 0, {"client_instance_id": bytes(16)})
    assert unnamed.requested_metrics == []
    call(broker, 18, 3, {"client_software_name": "ottla-probe", "client_software_version": "1.0"})
    named = call(broker, GET_TELEMETRY, 0, {"client_instance_id": bytes(16)})
    assert named.requested_metrics == ["org.apache.kafka.consumer."]

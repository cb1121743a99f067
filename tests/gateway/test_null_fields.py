"""No handler answers null where Kafka does not (issue 10, class 7).

A field nullable in the schema may still be one Kafka never sends as null, and clients are written against
what Kafka sends: librdkafka fails a whole Fetch response on a null message set, so the partition's
OFFSET_OUT_OF_RANGE never reaches it and auto.offset.reset never runs. Every served API at every served
version gets a default request and a set of error-provoking ones; every null in the decoded answers must be
one Kafka sends too, listed below with where Kafka does it.
"""

from __future__ import annotations

import pytest

from gateway import handlers  # noqa: F401  (fills the registry)
from gateway.registry import HANDLERS
from wire.messages import APIS
from wire.records import build_batch
from wire.schema import ZERO_UUID

# (api key, field path) -> where Kafka answers null there too
NULL_IN_KAFKA = {
    (0, "responses.partition_responses.error_message"): "LogAppendResult.errorMessage: null unless custom",
    (0, "responses.partition_responses.record_errors.batch_index_error_message"): "RecordError(index, null)",
    (0, "node_endpoints.rack"): "Node.rack() is null without broker.rack",
    (1, "responses.partitions.aborted_transactions"): "KafkaApis: abortedTransactions.orElse(null) for "
                                                      "read_uncommitted and error partitions",
    (1, "node_endpoints.rack"): "Node.rack()",
    (1, "cluster_id"): "tagged, absent unless set",
    (3, "brokers.rack"): "Node.rack()",
    (3, "cluster_id"): "MetadataRequest.getErrorResponse: the default, null (v10-11 asked by topic id)",
    (3, "topics.name"): "KafkaApis.getTopicMetadata: null name for an unknown topic id (v12+)",
    (11, "protocol_type"): "GroupCoordinator join errors: protocolType None -> null (v7+)",
    (11, "protocol_name"): "KafkaApis: protocolName.orNull from v7",
    (11, "members.group_instance_id"): "members without group.instance.id",
    (13, "members.group_instance_id"): "members without group.instance.id",
    (14, "protocol_type"): "KafkaApis: syncGroupResult.protocolType.orNull (v5+)",
    (14, "protocol_name"): "KafkaApis: syncGroupResult.protocolName.orNull (v5+)",
    (15, "groups.error_message"): "DescribeGroups v6: null unless the group is missing",
    (15, "groups.members.group_instance_id"): "members without group.instance.id",
    (19, "topics.error_message"): "ApiError.message: null for NONE",
    (19, "topics.configs.value"): "sensitive or unset configs",
    (20, "responses.name"): "DeleteTopics v6 by unknown topic id: null name",
    (20, "responses.error_message"): "null for NONE",
    (32, "results.error_message"): "ConfigHelper: null for NONE",
    (32, "results.configs.value"): "sensitive or unset configs",
    (32, "results.configs.synonyms.value"): "sensitive or unset configs",
    (32, "results.configs.documentation"): "configs without documentation",
    (33, "responses.error_message"): "ConfigAdminManager.reassembleLegacyResponse: ApiError.NONE.message() is null",
    (42, "results.error_message"): "null for NONE",
    (44, "responses.error_message"): "ConfigAdminManager.reassembleIncrementalResponse: ApiError.NONE.message()",
    (48, "error_message"): "DescribeClientQuotasResponse.fromQuotaEntities: setErrorMessage(null)",
    (48, "entries.entity.entity_name"): "the entity type's default entity",
    (49, "entries.error_message"): "AlterClientQuotasResponse: ApiError.NONE.message() is null",
    (49, "entries.entity.entity_name"): "the entity type's default entity",
    (45, "error_message"): "ReplicationControlManager.alterPartitionReassignments: setErrorMessage(null)",
    (45, "responses.partitions.error_message"): "ControllerApis: messageWithFallback() only on failure, else null",
    (46, "error_message"): "ReplicationControlManager.listPartitionReassignments: setErrorMessage(null)",
    (48, "error_message"): "DescribeClientQuotasResponse.fromQuotaEntities: setErrorMessage(null)",
    (48, "entries"): "DescribeClientQuotasRequest.getErrorResponse: setEntries(null)",
    (57, "error_message"): "UpdateFeaturesResponse.createWithErrors: ApiError.NONE.message() is null",
    (57, "results.error_message"): "UpdateFeaturesResponse.createWithErrors: ApiError.message()",
    (60, "error_message"): "DescribeClusterResponse: null for NONE",
    (75, "next_cursor"): "DescribeTopicPartitionsResponse: default null when nothing is left",
    (76, "error_message"): "ShareGroupHeartbeatResponse: default null",
    (76, "member_id"): "ShareGroupHeartbeatResponse: default null in error responses",
    (76, "assignment"): "ShareGroupHeartbeatResponse: null when the assignment did not change",
    (60, "brokers.rack"): "Node.rack()",
    (68, "error_message"): "null for NONE",
    (68, "member_id"): "default null in error responses",
    (68, "assignment"): "null when the assignment did not change",
    (69, "groups.error_message"): "null for NONE",
    (69, "groups.members.instance_id"): "members without group.instance.id",
    (69, "groups.members.rack_id"): "members without client.rack",
    (69, "groups.members.subscribed_topic_regex"): "members subscribed by name",
}


def null_paths(fields, version: int, value, path: str = "") -> set[str]:
    """The paths of the nullable fields that are null in a decoded response `value`."""
    found = set()
    for field in fields:
        if not field.present_in(version):
            continue
        here = f"{path}{field.name}"
        item = value.get(field.name) if hasattr(value, "get") else None
        if item is None:
            if version in field.nullable and (field.tag is None or field.name in value):
                found.add(here)
            continue
        if field.fields is not None:
            for element in item if field.is_array else [item]:
                found |= null_paths(field.fields, version, element, f"{here}.")
    return found


def served_versions():
    for key, registration in sorted(HANDLERS.items()):
        for version in range(registration.served_min, registration.max_version + 1):
            yield key, version


PRODUCE, FETCH, LIST_OFFSETS, METADATA, OFFSET_FETCH, FIND_COORDINATOR, JOIN, SYNC, DESCRIBE_GROUPS = (
    0, 1, 2, 3, 9, 10, 11, 14, 15)
CREATE, DELETE, DESCRIBE_CONFIGS, CONSUMER_HEARTBEAT, CONSUMER_DESCRIBE = 19, 20, 32, 68, 69
TOPIC = "null-audit"


def provoking(key: int, version: int) -> list[dict]:
    """Request bodies that take a handler's error paths (unknown topics, partitions, offsets, groups)."""
    topic_ref = {"topic": TOPIC, "topic_id": b"\x01" * 16, "name": TOPIC}
    if key == PRODUCE:
        good = build_batch([(None, b"v", [], 1000)])
        bad = bytearray(good)
        return [{"acks": -1, "timeout_ms": 1000, "topic_data": [{"name": TOPIC, "partition_data": [
            {"index": 0, "records": good}, {"index": 9, "records": good}]}, {"name": "", "partition_data": [
            {"index": 0, "records": bytes(bad[:-2])}]}]}]
    if key == FETCH:
        partitions = [{"partition": p, "current_leader_epoch": e, "fetch_offset": o, "log_start_offset": -1,
                       "partition_max_bytes": 1 << 16} for p, e, o in ((0, -1, 99), (0, 5, 0), (7, -1, 0))]
        return [{"replica_id": -1, "max_wait_ms": 0, "min_bytes": 0, "max_bytes": 1 << 20, "isolation_level": i,
                 "session_id": 0, "session_epoch": -1, "topics": [{**topic_ref, "partitions": partitions},
                 {"topic": "no-such-topic", "topic_id": b"\x02" * 16, "partitions": partitions}],
                 "forgotten_topics_data": [], "rack_id": ""} for i in (0, 1)]
    if key == LIST_OFFSETS:
        return [{"replica_id": -1, "isolation_level": 0, "topics": [{"name": n, "partitions": [
            {"partition_index": p, "current_leader_epoch": -1, "timestamp": t} for p in (0, 9) for t in (-1, -3, 5)]}
            for n in (TOPIC, "no-such-topic")]}]
    if key == METADATA:
        by_id = [{"name": None, "topic_id": b"\x03" * 16}] if version >= 10 else []
        return [{"topics": [{"name": "no-such-topic", "topic_id": ZERO_UUID}, *by_id], "allow_auto_topic_creation": False}]
    if key == OFFSET_FETCH:
        topics = [{"name": TOPIC, "partition_indexes": [0, 9]}, {"name": "no-such-topic", "partition_indexes": [0]}]
        return [{"group_id": "no-such-group", "topics": topics,
                 "groups": [{"group_id": "no-such-group", "topics": topics}, {"group_id": "g2", "topics": None}]}]
    if key == FIND_COORDINATOR:
        return [{"key": "", "key_type": 0, "coordinator_keys": ["", "g"]}, {"key": "g", "key_type": 9,
                                                                           "coordinator_keys": ["g"]}]
    if key == JOIN:
        return [{"group_id": "null-audit-group", "session_timeout_ms": 1, "rebalance_timeout_ms": 1,
                 "member_id": "unknown-member", "protocol_type": "consumer", "protocols": []}]
    if key == SYNC:
        return [{"group_id": "null-audit-group", "generation_id": 3, "member_id": "unknown-member",
                 "assignments": []}]
    if key == DESCRIBE_GROUPS:
        return [{"groups": ["no-such-group", ""]}]
    if key == CREATE:
        topic = {"name": TOPIC, "num_partitions": 1, "replication_factor": 3, "assignments": [], "configs": []}
        return [{"topics": [topic, topic, {**topic, "name": "bad/name", "replication_factor": -1}],
                 "timeout_ms": 1000, "validate_only": False}]
    if key == DELETE:
        return [{"topic_names": ["no-such-topic"], "topics": [{"name": None, "topic_id": b"\x04" * 16},
                                                           {"name": "no-such-topic", "topic_id": ZERO_UUID}],
                 "timeout_ms": 1000}]
    if key == DESCRIBE_CONFIGS:
        return [{"resources": [{"resource_type": 2, "resource_name": "no-such-topic", "configuration_keys": None},
                               {"resource_type": 4, "resource_name": "77", "configuration_keys": None},
                               {"resource_type": 99, "resource_name": "x", "configuration_keys": None}]}]
    if key == CONSUMER_HEARTBEAT:
        return [{"group_id": "null-audit-848", "member_id": "unknown", "member_epoch": 5, "rebalance_timeout_ms": 1,
                 "subscribed_topic_names": [TOPIC], "topic_partitions": []}]
    if key == CONSUMER_DESCRIBE:
        return [{"group_ids": ["no-such-group"]}]
    return []


@pytest.fixture(scope="module")
def audited_topic(broker):
    c = broker.client()
    c.request(CREATE, 7, {"topics": [{"name": TOPIC, "num_partitions": 1, "replication_factor": -1,
                                      "assignments": [], "configs": []}], "timeout_ms": 1000, "validate_only": False})
    c.close()


@pytest.fixture
def client(broker, audited_topic):
    c = broker.client()
    yield c
    c.close()


@pytest.mark.parametrize("key, version", list(served_versions()))
def test_no_null_where_kafka_sends_none(client, key, version):
    api = APIS[key]
    bodies = [{"acks": -1} if key == PRODUCE else {}] + provoking(key, version)  # {}: every field's default
    unexpected = {}
    for body in bodies:
        response = client.request(key, version, body)
        for path in null_paths(api.response.fields, version, response):
            if (key, path) not in NULL_IN_KAFKA:
                unexpected[path] = body
    assert not unexpected, (
        f"{api.name} v{version} answers null at {sorted(unexpected)}, where Kafka sends an empty value; if Kafka "
        "does send null there, add the path to NULL_IN_KAFKA with the Kafka code that does")

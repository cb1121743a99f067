"""What the versions raised to Kafka 4.2's maximum mean: topic ids in Produce v13 and OffsetCommit/Fetch v10,
ListOffsets v11's timestamps, DescribeGroups v6, DeleteGroups v3, and KIP-430 authorized operations."""

import uuid

import pytest

from tests.gateway.inprocess import call, new_broker
from wire.errors import ErrorCode
from wire.records import build_batch

PRODUCE, LIST_OFFSETS, METADATA, OFFSET_COMMIT, OFFSET_FETCH, DESCRIBE_GROUPS, DELETE_GROUPS, DESCRIBE_CLUSTER = \
    0, 2, 3, 8, 9, 15, 42, 60
TOPIC_OPS = sum(1 << op for op in (3, 4, 5, 6, 7, 8, 10, 11))
CLUSTER_OPS = sum(1 << op for op in (5, 7, 8, 9, 10, 11, 12))
GROUP_OPS = sum(1 << op for op in (3, 6, 8, 10, 11))
UNKNOWN_ID = uuid.uuid4().bytes


@pytest.fixture
def broker():
    b = new_broker()
    b.logs.create_topic("t", 2)
    return b


def test_produce_v13_names_topics_by_id(broker):
    topic_id = broker.logs.get("t").topic_id
    batch = build_batch([(b"k", b"v", [], 1000)])
    response = call(broker, PRODUCE, 13, {"transactional_id": None, "acks": -1, "timeout_ms": 1000, "topic_data": [
        {"topic_id": topic_id, "partition_data": [{"index": 1, "records": batch}]},
        {"topic_id": UNKNOWN_ID, "partition_data": [{"index": 0, "records": batch}]}]})
    known, unknown = response.responses
    assert known.topic_id == topic_id and known.partition_responses[0].error_code == ErrorCode.NONE
    assert unknown.topic_id == UNKNOWN_ID and unknown.partition_responses[0].error_code == ErrorCode.UNKNOWN_TOPIC_ID
    assert broker.logs.partition("t", 1).high_watermark == 1


@pytest.mark.parametrize("timestamp, expected", [(-1, 1), (-2, 0), (-4, 0), (-5, -1), (-6, -1)])
def test_list_offsets_v11_special_timestamps_without_tiered_storage(broker, timestamp, expected):
    call(broker, PRODUCE, 9, {"transactional_id": None, "acks": -1, "timeout_ms": 1000, "topic_data": [
        {"name": "t", "partition_data": [{"index": 0, "records": build_batch([(b"k", b"v", [], 1000)])}]}]})
    response = call(broker, LIST_OFFSETS, 11, {"replica_id": -1, "isolation_level": 0, "timeout_ms": 1000, "topics": [
        {"name": "t", "partitions": [{"partition_index": 0, "current_leader_epoch": -1, "timestamp": timestamp}]}]})
    assert response.topics[0].partitions[0].offset == expected


def test_offset_commit_and_fetch_v10_by_topic_id(broker):
    topic_id = broker.logs.get("t").topic_id
    committed = call(broker, OFFSET_COMMIT, 10, {
        "group_id": "g", "generation_id_or_member_epoch": -1, "member_id": "", "group_instance_id": None,
        "topics": [{"topic_id": topic_id, "partitions": [{"partition_index": 1, "committed_offset": 7,
                                                          "committed_metadata": "m"}]},
                   {"topic_id": UNKNOWN_ID, "partitions": [{"partition_index": 0, "committed_offset": 1,
                                                            "committed_metadata": None}]}]})
    assert [(t.topic_id, t.partitions[0].error_code) for t in committed.topics] == [
        (topic_id, ErrorCode.NONE), (UNKNOWN_ID, ErrorCode.UNKNOWN_TOPIC_ID)]
    fetched = call(broker, OFFSET_FETCH, 10, {"require_stable": False, "groups": [
        {"group_id": "g", "member_id": None, "member_epoch": -1,
         "topics": [{"topic_id": topic_id, "partition_indexes": [1]}, {"topic_id": UNKNOWN_ID, "partition_indexes": [0]}]}]})
    topics = {t.topic_id: t.partitions[0] for t in fetched.groups[0].topics}
    assert topics[topic_id].committed_offset == 7 and topics[UNKNOWN_ID].error_code == ErrorCode.UNKNOWN_TOPIC_ID
    everything = call(broker, OFFSET_FETCH, 10, {"require_stable": False, "groups": [
        {"group_id": "g", "member_id": None, "member_epoch": -1, "topics": None}]})
    assert [(t.topic_id, t.partitions[0].committed_offset) for t in everything.groups[0].topics] == [(topic_id, 7)]
    by_name = call(broker, OFFSET_FETCH, 9, {"require_stable": False, "groups": [
        {"group_id": "g", "member_id": None, "member_epoch": -1, "topics": [{"name": "t", "partition_indexes": [1]}]}]})
    assert by_name.groups[0].topics[0].partitions[0].committed_offset == 7


def test_describe_groups_v6_unknown_group_and_authorized_operations(broker):
    call(broker, OFFSET_COMMIT, 9, {"group_id": "g", "generation_id_or_member_epoch": -1, "member_id": "",
                                    "group_instance_id": None, "topics": [
                                        {"name": "t", "partitions": [{"partition_index": 0, "committed_offset": 1,
                                                                      "committed_metadata": None}]}]})
    response = call(broker, DESCRIBE_GROUPS, 6, {"groups": ["g", "missing"], "include_authorized_operations": True})
    found, missing = response.groups
    assert found.error_code == ErrorCode.NONE and found.authorized_operations == GROUP_OPS
    assert (missing.error_code, missing.error_message) == (ErrorCode.GROUP_ID_NOT_FOUND, "Group missing not found.")
    plain = call(broker, DESCRIBE_GROUPS, 5, {"groups": ["g"], "include_authorized_operations": False})
    assert plain.groups[0].authorized_operations == -(2**31)


def test_delete_groups_v3_says_why(broker):
    response = call(broker, DELETE_GROUPS, 3, {"groups_names": ["missing"]})
    assert (response.results[0].error_code, response.results[0].error_message) == (
        ErrorCode.GROUP_ID_NOT_FOUND, "The group id does not exist.")


def test_metadata_and_describe_cluster_report_authorized_operations_when_asked(broker):
    asked = call(broker, METADATA, 8, {"topics": [{"name": "t"}], "allow_auto_topic_creation": False,
                                       "include_cluster_authorized_operations": True,
                                       "include_topic_authorized_operations": True})
    assert asked.topics[0].topic_authorized_operations == TOPIC_OPS and asked.cluster_authorized_operations == CLUSTER_OPS
    plain = call(broker, METADATA, 12, {"topics": None, "allow_auto_topic_creation": False,
                                        "include_topic_authorized_operations": False})
    assert plain.topics[0].topic_authorized_operations == -(2**31)
    cluster = call(broker, DESCRIBE_CLUSTER, 2, {"include_cluster_authorized_operations": True, "endpoint_type": 1,
                                                 "include_fenced_brokers": False})
    assert cluster.cluster_authorized_operations == CLUSTER_OPS


def test_kafka_python_infers_kafka_4_2_from_api_versions(broker):
    from kafka.protocol.broker_version_data import infer_broker_version_from_api_versions

    response = call(broker, 18, 4, {"client_software_name": "t", "client_software_version": "1"})
    versions = {k.api_key: (k.min_version, k.max_version) for k in response.api_keys}
    assert infer_broker_version_from_api_versions(versions) == (4, 2)


# Held below on purpose by the transaction coordinator (gateway/txn): AddPartitionsToTxn v4-5 are the
# broker-to-broker verify-only batches and EndTxn v5 is transactions v2 (KIP-890 part 2), not implemented.
KNOWN_GAPS = {24: (3, 5), 26: (4, 5)}


def test_no_served_api_is_below_kafka_4_2(broker):
    """kafka-python's table of what Kafka 4.2 serves: every API Ottla serves reaches its maximum."""
    from kafka.protocol.broker_version_data import BROKER_API_VERSIONS

    kafka_42 = BROKER_API_VERSIONS[(4, 2)]
    response = call(broker, 18, 4, {"client_software_name": "t", "client_software_version": "1"})
    below = {k.api_key: (k.max_version, kafka_42[k.api_key][1]) for k in response.api_keys
             if k.api_key in kafka_42 and k.max_version < kafka_42[k.api_key][1]}
    assert below == KNOWN_GAPS

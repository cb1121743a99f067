"""Class 6: requests that used to make a handler raise or its response unencodable (closing the
connection), each answered now with Kafka's own code; and strings refused at the request that brings
them in when some version could not carry them later (class 4)."""

from __future__ import annotations

import asyncio
import uuid

from gateway.groups.coordinator import GroupCoordinator
from gateway.groups.offsets import CommittedOffset
from gateway.groups.store import MemoryGroupStore
from gateway.limits import CLASSIC_STRING_MAX_BYTES
from tests.adversarial.fuzzer import call, memory_broker
from wire.errors import ErrorCode

METADATA, OFFSET_COMMIT, JOIN, LIST_GROUPS, DESCRIBE_GROUPS, CREATE = 3, 8, 11, 16, 15, 19
INT64_MAX = (1 << 63) - 1


def run(coroutine):
    return asyncio.run(coroutine)


def test_create_topics_validate_only_answers_without_creating():
    broker = memory_broker()
    body = {"topics": [{"name": "checked", "num_partitions": 3, "replication_factor": 1, "assignments": [],
                        "configs": [{"name": "cleanup.policy", "value": "compact"}]}],
            "timeout_ms": 1000, "validate_only": True}
    [topic] = run(call(broker, CREATE, 7, body)).topics
    assert topic.error_code == ErrorCode.NONE and topic.num_partitions == 3
    assert {c.name: c.value for c in topic.configs}["cleanup.policy"] == "compact"
    assert broker.logs.get("checked") is None


def test_create_topics_error_message_quoting_a_huge_name_still_encodes_in_v2():
    broker = memory_broker()
    body = {"topics": [{"name": "n" * CLASSIC_STRING_MAX_BYTES, "num_partitions": 1, "replication_factor": 1,
                        "assignments": [], "configs": []}], "timeout_ms": 1000}
    [topic] = run(call(broker, CREATE, 2, body)).topics
    assert topic.error_code == ErrorCode.INVALID_TOPIC_EXCEPTION
    assert len(topic.error_message.encode()) <= CLASSIC_STRING_MAX_BYTES


def test_metadata_v10_and_v11_naming_a_topic_id_is_an_invalid_request():
    broker = memory_broker()
    for version in (10, 11):
        body = {"topics": [{"topic_id": uuid.uuid4().bytes, "name": None}], "allow_auto_topic_creation": False,
                "include_topic_authorized_operations": False}
        [topic] = run(call(broker, METADATA, version, body)).topics
        assert topic.error_code == ErrorCode.INVALID_REQUEST and topic.name == ""
    body = {"topics": [{"topic_id": uuid.uuid4().bytes, "name": None}], "allow_auto_topic_creation": False}
    [topic] = run(call(broker, METADATA, 12, body)).topics
    assert topic.error_code == ErrorCode.UNKNOWN_TOPIC_ID  # v12+ takes topic ids


def test_offset_commit_v2_with_the_largest_retention_commits_and_never_wraps():
    broker = memory_broker()
    broker.logs.create_topic("t", 1)
    body = {"group_id": "g", "generation_id_or_member_epoch": -1, "member_id": "", "retention_time_ms": INT64_MAX,
            "topics": [{"name": "t", "partitions": [{"partition_index": 0, "committed_offset": 5,
                                                     "committed_metadata": ""}]}]}
    [topic] = run(call(broker, OFFSET_COMMIT, 2, body)).topics
    assert topic.partitions[0].error_code == ErrorCode.NONE
    assert broker.groups.offsets.get("g", "t", 0).expire_timestamp == INT64_MAX
    body["retention_time_ms"] = -(1 << 63)
    [topic] = run(call(broker, OFFSET_COMMIT, 2, body)).topics
    assert topic.partitions[0].error_code == ErrorCode.NONE


def _join(group_id="g", client_id="c", version=5, **fields):
    return {"group_id": group_id, "session_timeout_ms": 10000, "rebalance_timeout_ms": 10000, "member_id": "",
            "group_instance_id": None, "protocol_type": "consumer",
            "protocols": [{"name": "range", "metadata": b"\x00"}], **fields}


def test_join_group_v3_and_v5_from_the_longest_client_id_gets_a_member_id_every_version_carries():
    for version in (3, 5):
        broker = memory_broker()
        response = run(call(broker, JOIN, version, _join(), client_id="c" * CLASSIC_STRING_MAX_BYTES))
        assert response.error_code in (ErrorCode.NONE, ErrorCode.MEMBER_ID_REQUIRED)
        assert len(response.member_id.encode()) <= CLASSIC_STRING_MAX_BYTES
        assert response.member_id.startswith("ccc")
        described = run(call(broker, DESCRIBE_GROUPS, 0, {"groups": ["g"]}))
        assert described.groups[0].error_code == ErrorCode.NONE


def test_a_group_id_no_listgroups_v0_could_carry_is_refused_at_every_door():
    broker = memory_broker()
    broker.logs.create_topic("t", 1)
    long_id = "g" * (CLASSIC_STRING_MAX_BYTES + 1)
    assert run(call(broker, JOIN, 6, _join(group_id=long_id))).error_code == ErrorCode.INVALID_GROUP_ID
    commit = {"group_id": long_id, "generation_id_or_member_epoch": -1, "member_id": "",
              "topics": [{"name": "t", "partitions": [{"partition_index": 0, "committed_offset": 1,
                                                       "committed_metadata": None}]}]}
    [topic] = run(call(broker, OFFSET_COMMIT, 8, commit)).topics
    assert topic.partitions[0].error_code == ErrorCode.INVALID_GROUP_ID
    heartbeat = {"group_id": long_id, "member_id": "m" * 22, "member_epoch": 0, "instance_id": None,
                 "rack_id": None, "rebalance_timeout_ms": 30000, "subscribed_topic_names": ["t"],
                 "server_assignor": None, "topic_partitions": []}
    assert run(call(broker, 68, 0, heartbeat)).error_code == ErrorCode.INVALID_GROUP_ID
    assert long_id not in broker.groups.groups
    for version in (0, 1, 2):
        assert run(call(broker, LIST_GROUPS, version, {})).error_code == ErrorCode.NONE


def test_join_group_refuses_an_instance_id_or_protocol_older_versions_could_not_show():
    broker = memory_broker()
    too_long = "i" * (CLASSIC_STRING_MAX_BYTES + 1)
    assert run(call(broker, JOIN, 6, _join(group_instance_id=too_long))).error_code == ErrorCode.INVALID_REQUEST
    protocols = [{"name": too_long, "metadata": b""}]
    assert run(call(broker, JOIN, 6, _join(protocols=protocols))).error_code == ErrorCode.INVALID_REQUEST


def test_a_stored_group_id_too_long_to_list_is_not_brought_back_after_a_restart():
    store = MemoryGroupStore()
    before = GroupCoordinator(store=store)
    long_id = "g" * (CLASSIC_STRING_MAX_BYTES + 1)
    before.offsets.commit(long_id, "t", 0, CommittedOffset(1))
    after = GroupCoordinator(store=store)
    assert long_id not in after.groups

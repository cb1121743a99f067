"""ConsumerGroupDescribe (key 69) entries and the assignment shapes of the KIP-848 responses."""

from __future__ import annotations

from gateway.groups.kip848.group import ConsumerGroup
from gateway.groups.kip848.assignors import Assignment
from gateway.groups.kip848.member import ConsumerGroupMember
from gateway.groups.kip848.topics import TopicMetadata
from wire.errors import ErrorCode

AUTHORIZED_OPERATIONS_OMITTED = -2147483648
MEMBER_TYPE_CONSUMER = 1  # v1 member_type: -1 unknown, 0 classic, 1 consumer


def heartbeat_assignment(assignment: Assignment) -> dict:
    """The ConsumerGroupHeartbeatResponse `assignment`: every assigned partition, by topic id."""
    return {"topic_partitions": [{"topic_id": topic_id, "partitions": sorted(partitions)}
                                 for topic_id, partitions in sorted(assignment.items())]}


def described_group(group: ConsumerGroup, topics: TopicMetadata, default_assignor: str) -> dict:
    return {
        "error_code": ErrorCode.NONE,
        "error_message": None,
        "group_id": group.group_id,
        "group_state": group.state_name,
        "group_epoch": group.group_epoch,
        "assignment_epoch": group.assignment_epoch,
        "assignor_name": group.preferred_assignor() or default_assignor,
        "members": [described_member(member, group.target_assignment.get(member_id, {}), topics)
                    for member_id, member in sorted(group.members.items())],
        "authorized_operations": AUTHORIZED_OPERATIONS_OMITTED,
    }


def described_member(member: ConsumerGroupMember, target: Assignment, topics: TopicMetadata) -> dict:
    return {
        "member_id": member.member_id,
        "instance_id": member.instance_id,
        "rack_id": member.rack_id,
        "member_epoch": member.member_epoch,
        "client_id": member.client_id,
        "client_host": member.client_host,
        "subscribed_topic_names": list(member.subscribed_topic_names),
        "subscribed_topic_regex": member.subscribed_topic_regex,
        "assignment": {"topic_partitions": _named_topic_partitions(member.assigned_partitions, topics)},
        "target_assignment": {"topic_partitions": _named_topic_partitions(target, topics)},
        "member_type": MEMBER_TYPE_CONSUMER,
    }


def described_error(group_id: str, code: ErrorCode, message: str) -> dict:
    return {
        "error_code": code,
        "error_message": message,
        "group_id": group_id,
        "group_state": "",
        "group_epoch": 0,
        "assignment_epoch": 0,
        "assignor_name": "",
        "members": [],
        "authorized_operations": AUTHORIZED_OPERATIONS_OMITTED,
    }


def _named_topic_partitions(assignment: Assignment, topics: TopicMetadata) -> list[dict]:
    """By topic id with its name; a topic that no longer exists is left out, as Kafka does."""
    entries = []
    for topic_id, partitions in sorted(assignment.items()):
        info = topics.topic_by_id(topic_id)
        if info is not None:
            entries.append({"topic_id": topic_id, "topic_name": info.name, "partitions": sorted(partitions)})
    return entries

"""ConsumerGroupHeartbeat request checks made before any group is looked at, in Kafka's order and words."""

from __future__ import annotations

from typing import Collection

from gateway.groups.kip848.member import LEAVE_GROUP_MEMBER_EPOCH, LEAVE_GROUP_STATIC_MEMBER_EPOCH
from wire.errors import ErrorCode, KafkaError

CONSUMER_GENERATED_MEMBER_ID_REQUIRED_VERSION = 1  # KIP-1082: from v1 the consumer makes its member id


def validate_heartbeat(request, api_version: int, assignors: Collection[str]) -> None:
    """Raise INVALID_REQUEST or UNSUPPORTED_ASSIGNOR as Kafka's group coordinator does."""
    epoch = request.member_epoch
    if (api_version >= CONSUMER_GENERATED_MEMBER_ID_REQUIRED_VERSION or epoch > 0
            or epoch == LEAVE_GROUP_MEMBER_EPOCH):
        _require_not_blank(request.member_id, "MemberId can't be empty.")
    _require_not_blank(request.group_id, "GroupId can't be empty.")
    _require_not_blank(request.instance_id, "InstanceId can't be empty.")
    _require_not_blank(request.rack_id, "RackId can't be empty.")
    if epoch == 0:
        if request.rebalance_timeout_ms == -1:
            raise KafkaError(ErrorCode.INVALID_REQUEST, "RebalanceTimeoutMs must be provided in first request.")
        if request.topic_partitions is None or len(request.topic_partitions) > 0:
            raise KafkaError(ErrorCode.INVALID_REQUEST, "TopicPartitions must be empty when (re-)joining.")
        regex = subscribed_topic_regex(request)
        if not request.subscribed_topic_names and not regex:
            raise KafkaError(ErrorCode.INVALID_REQUEST,
                             "SubscribedTopicNames or SubscribedTopicRegex must be set in first request.")
    elif epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH:
        if request.instance_id is None:
            raise KafkaError(ErrorCode.INVALID_REQUEST, "InstanceId can't be null.")
    elif epoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH:
        raise KafkaError(ErrorCode.INVALID_REQUEST, "MemberEpoch is invalid.")
    if request.server_assignor is not None and request.server_assignor not in assignors:
        raise KafkaError(ErrorCode.UNSUPPORTED_ASSIGNOR,
                         f"ServerAssignor {request.server_assignor} is not supported. "
                         f"Supported assignors: {', '.join(assignors)}.")


def subscribed_topic_regex(request) -> str | None:
    """The v1 field; a v0 request has none."""
    return getattr(request, "subscribed_topic_regex", None)


def _require_not_blank(value: str | None, message: str) -> None:
    # Java's String.trim() strips every character at or below U+0020.
    if value is not None and all(c <= " " for c in value):
        raise KafkaError(ErrorCode.INVALID_REQUEST, message)

"""Share-group offsets admin (KIP-932): DescribeShareGroupOffsets (key 90): v0-1,
AlterShareGroupOffsets (key 91): v0, DeleteShareGroupOffsets (key 92): v0.

A share group's offset per partition is its share-partition start offset (SPSO); -1 when the group has
no state for the partition yet. v1 of Describe adds Lag: records from the SPSO to the high watermark
not yet acknowledged or archived. Alter and Delete need an empty group (NON_EMPTY_GROUP); Alter
creates the share group when there is none, as Kafka does; a group id held by another group type is
GROUP_ID_NOT_FOUND. share.version finalized at 0: UNSUPPORTED_VERSION.

Authorization as KafkaApis: Describe needs DESCRIBE on the group and answers only topics the principal
may DESCRIBE (left out of an "all topics" answer; named ones appended with TOPIC_AUTHORIZATION_FAILED
per partition); Alter needs READ on the group and on each topic (TOPIC_AUTHORIZATION_FAILED per
partition); Delete needs DELETE on the group and READ on each topic (TOPIC_AUTHORIZATION_FAILED per
topic). Refused entries come first in Alter's and Delete's answers, as Kafka merges them.
"""

from gateway.limits import fits_every_version
from gateway.registry import handles
from gateway.security.acl_codes import Operation, ResourceType
from gateway.share.config import DISABLED_MESSAGE, share_groups_enabled
from gateway.share.group import ShareGroup
from wire.errors import ErrorCode, KafkaError
from wire.schema import ZERO_UUID

NO_OFFSET = -1
UNKNOWN_PARTITION_MESSAGE = "This server does not host this topic-partition."
TOPIC_DENIED_MESSAGE = "Topic authorization failed."  # Kafka's Errors.TOPIC_AUTHORIZATION_FAILED message


def _share_group(broker, group_id: str, *, create: bool = False):
    """(group, error code, message)"""
    if not share_groups_enabled(broker.features):
        return None, ErrorCode.UNSUPPORTED_VERSION, DISABLED_MESSAGE
    if not group_id:
        return None, ErrorCode.INVALID_GROUP_ID, "The group id must not be empty."
    if create and group_id not in broker.groups.groups:
        if not fits_every_version(group_id):
            return None, ErrorCode.INVALID_GROUP_ID, "Group ids longer than 32767 bytes are not accepted."
        group = broker.groups.groups[group_id] = ShareGroup(group_id)
        return group, ErrorCode.NONE, None
    try:
        return broker.share_groups.existing(group_id), ErrorCode.NONE, None
    except KafkaError as exc:
        return None, exc.code, exc.message


def _empty_share_group(broker, group_id: str, *, create: bool = False):
    """(group, error code, message) for Alter and Delete: NON_EMPTY_GROUP while the group has members."""
    group, error, message = _share_group(broker, group_id, create=create)
    if not error and not group.is_empty():
        return group, ErrorCode.NON_EMPTY_GROUP, "The group is not empty."
    return group, error, message


def _described_partition(index: int, partition, log) -> dict:
    entry = {"partition_index": index, "start_offset": NO_OFFSET, "leader_epoch": 0, "lag": -1,
             "error_code": ErrorCode.NONE, "error_message": None}
    if partition is not None:
        entry["start_offset"] = partition.start
        entry["lag"] = max(log.high_watermark - partition.start - partition.terminal_in_flight(), 0)
    return entry


@handles(90, 0, 1)
async def handle_describe_share_group_offsets(ctx, request):
    broker = ctx.broker
    groups = []
    for requested in request.groups:
        if not ctx.authorize(Operation.DESCRIBE, ResourceType.GROUP, requested.group_id):
            groups.append({"group_id": requested.group_id, "topics": [],
                           "error_code": ErrorCode.GROUP_AUTHORIZATION_FAILED, "error_message": None})
            continue
        group, error, message = _share_group(broker, requested.group_id)
        if error:
            groups.append({"group_id": requested.group_id, "topics": [], "error_code": error,
                           "error_message": message})
            continue
        state = broker.shares.start_offsets(requested.group_id)
        if requested.topics is None:
            wanted: dict[str, list[int]] = {}
            for topic_id, index in sorted(state):
                topic = broker.logs.get_by_id(topic_id)
                if topic is not None:
                    wanted.setdefault(topic.name, []).append(index)
        else:
            wanted = {t.topic_name: list(t.partitions) for t in requested.topics}
        denied = ctx.denied(Operation.DESCRIBE, ResourceType.TOPIC, wanted)
        refused = []
        if denied:
            if requested.topics is not None:
                refused = [{"topic_name": name, "topic_id": ZERO_UUID, "partitions": [
                    {"partition_index": index, "start_offset": NO_OFFSET, "leader_epoch": 0, "lag": -1,
                     "error_code": ErrorCode.TOPIC_AUTHORIZATION_FAILED, "error_message": TOPIC_DENIED_MESSAGE}
                    for index in wanted[name]]} for name in wanted if name in denied]
            wanted = {name: indexes for name, indexes in wanted.items() if name not in denied}
        topics = []
        for name, indexes in wanted.items():
            topic = broker.logs.get(name)
            partitions = []
            for index in indexes:
                log = topic.partition(index) if topic is not None else None
                if log is None:
                    partitions.append({"partition_index": index, "start_offset": NO_OFFSET, "leader_epoch": -1,
                                       "lag": -1, "error_code": ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                                       "error_message": UNKNOWN_PARTITION_MESSAGE})
                    continue
                partitions.append(_described_partition(index, state.get((topic.topic_id, index)), log))
            topics.append({"topic_name": name, "topic_id": topic.topic_id if topic else ZERO_UUID,
                           "partitions": partitions})
        groups.append({"group_id": requested.group_id, "topics": topics + refused, "error_code": ErrorCode.NONE,
                       "error_message": None})
    return {"throttle_time_ms": 0, "groups": groups}


@handles(91, 0, 0)
async def handle_alter_share_group_offsets(ctx, request):
    broker = ctx.broker
    group, error, message = _empty_share_group(broker, request.group_id, create=True)
    if error:
        return {"throttle_time_ms": 0, "error_code": error, "error_message": message, "responses": []}
    denied = ctx.denied(Operation.READ, ResourceType.TOPIC, {t.topic_name for t in request.topics})
    refused, responses = [], []
    for requested in request.topics:
        topic = broker.logs.get(requested.topic_name)
        if requested.topic_name in denied:
            refused.append({"topic_name": requested.topic_name, "topic_id": topic.topic_id if topic else ZERO_UUID,
                            "partitions": [{"partition_index": p.partition_index, "error_message": TOPIC_DENIED_MESSAGE,
                                            "error_code": ErrorCode.TOPIC_AUTHORIZATION_FAILED}
                                           for p in requested.partitions]})
            continue
        partitions = []
        for p in requested.partitions:
            log = topic.partition(p.partition_index) if topic is not None else None
            if log is None:
                code, text = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_PARTITION_MESSAGE
            elif p.start_offset < 0:
                code, text = ErrorCode.INVALID_REQUEST, f"Invalid start offset {p.start_offset}."
            else:
                broker.shares.alter_start_offset(request.group_id, log, p.start_offset)
                code, text = ErrorCode.NONE, None
            partitions.append({"partition_index": p.partition_index, "error_code": code, "error_message": text})
        responses.append({"topic_name": requested.topic_name,
                          "topic_id": topic.topic_id if topic else ZERO_UUID, "partitions": partitions})
    broker.shares.flush()
    ctx.log.info("share_group_offsets_altered", group_id=request.group_id,
                 topics=[t.topic_name for t in request.topics if t.topic_name not in denied])
    return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "error_message": None,
            "responses": refused + responses}


@handles(92, 0, 0)
async def handle_delete_share_group_offsets(ctx, request):
    broker = ctx.broker
    group, error, message = _empty_share_group(broker, request.group_id)
    if error:
        return {"throttle_time_ms": 0, "error_code": error, "error_message": message, "responses": []}
    denied = ctx.denied(Operation.READ, ResourceType.TOPIC, {t.topic_name for t in request.topics})
    refused = [{"topic_name": t.topic_name, "topic_id": ZERO_UUID, "error_code": ErrorCode.TOPIC_AUTHORIZATION_FAILED,
                "error_message": TOPIC_DENIED_MESSAGE} for t in request.topics if t.topic_name in denied]
    responses = refused
    for requested in request.topics:
        if requested.topic_name in denied:
            continue
        topic = broker.logs.get(requested.topic_name)
        if topic is None:
            responses.append({"topic_name": requested.topic_name, "topic_id": ZERO_UUID,
                              "error_code": ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                              "error_message": UNKNOWN_PARTITION_MESSAGE})
            continue
        broker.shares.delete_topic_state(request.group_id, topic.topic_id)
        responses.append({"topic_name": topic.name, "topic_id": topic.topic_id, "error_code": ErrorCode.NONE,
                          "error_message": None})
    ctx.log.info("share_group_offsets_deleted", group_id=request.group_id,
                 topics=[t.topic_name for t in request.topics if t.topic_name not in denied])
    return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "error_message": None, "responses": responses}

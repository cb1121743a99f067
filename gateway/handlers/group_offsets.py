"""Committed offsets: OffsetCommit (key 8): v2-9, OffsetFetch (9): v1-9 (batched groups from v8),
OffsetDelete (47): v0.

Partitions the broker does not have answer UNKNOWN_TOPIC_OR_PARTITION, as Kafka does; a KIP-848
group's commits and fetches are checked against its member epochs first. OffsetFetch with
require_stable (v7+) answers UNSTABLE_OFFSET_COMMIT for partitions an open transaction has staged
offsets for (TxnOffsetCommit, gateway.txn).
"""

from gateway.clock import now_ms
from gateway.registry import handles
from gateway.txn.offsets import mark_unstable
from wire.errors import ErrorCode, KafkaError

BATCHED_GROUPS = 8  # OffsetFetch v8+: several groups per request


def _split_known(logs, topics):
    """(topics whose partitions exist, {(topic, partition)} that do not)."""
    known, unknown = [], set()
    for topic in topics:
        log_topic = logs.get(topic.name)
        partitions = []
        for p in topic.partitions:
            if log_topic is not None and log_topic.partition(p.partition_index) is not None:
                partitions.append(p)
            else:
                unknown.add((topic.name, p.partition_index))
        known.append({"name": topic.name, "partitions": partitions})
    return known, unknown


def _in_request_order(topics, errors: dict) -> list[dict]:
    return [{"name": t.name, "partitions": [
        {"partition_index": p.partition_index, "error_code": errors[(t.name, p.partition_index)]}
        for p in t.partitions]} for t in topics]


@handles(8, 2, 9)
async def handle_offset_commit(ctx, request):
    broker = ctx.broker
    now = now_ms()
    known, unknown = _split_known(broker.logs, request.topics)
    group_id = request.group_id
    epoch = request.generation_id_or_member_epoch
    retention = request.get("retention_time_ms", -1)
    if broker.consumer_groups.consumer_group(group_id) is not None:
        try:
            broker.consumer_groups.validate_offset_commit(group_id, request.member_id, epoch,
                                                          api_version=ctx.api_version)
            response = broker.groups.commit_offsets(group_id=group_id, topics=known, now_ms=now,
                                                    retention_time_ms=retention)
        except KafkaError as exc:
            response = {"topics": [{"name": t["name"], "partitions": [
                {"partition_index": p.partition_index, "error_code": exc.code} for p in t["partitions"]]}
                for t in known]}
    else:
        response = broker.groups.offset_commit(
            group_id=group_id, generation_id=epoch, member_id=request.member_id,
            group_instance_id=request.get("group_instance_id"), topics=known, now_ms=now, retention_time_ms=retention)
    errors = {(t["name"], p["partition_index"]): p["error_code"] for t in response["topics"] for p in t["partitions"]}
    errors.update({key: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION for key in unknown})
    return {"throttle_time_ms": 0, "topics": _in_request_order(request.topics, errors)}


def _fetch_group(ctx, group_id: str, topics, member_id=None, member_epoch=-1, require_stable=False) -> dict:
    broker = ctx.broker
    if broker.consumer_groups.consumer_group(group_id) is not None:
        try:
            broker.consumer_groups.validate_offset_fetch(group_id, member_id, member_epoch)
        except KafkaError as exc:
            return {"group_id": group_id, "error_code": exc.code, "topics": []}
    wanted = None if topics is None else [{"name": t.name, "partition_indexes": t.partition_indexes} for t in topics]
    response = broker.groups.offset_fetch(group_id=group_id, topics=wanted)
    if require_stable:
        mark_unstable(broker.txn, group_id, response["topics"])
    return {"group_id": group_id, **response}


@handles(9, 1, 9)
async def handle_offset_fetch(ctx, request):
    if ctx.api_version >= BATCHED_GROUPS:
        groups = [_fetch_group(ctx, g.group_id, g.topics, g.get("member_id"), g.get("member_epoch", -1),
                               request.require_stable) for g in request.groups]
        return {"throttle_time_ms": 0, "groups": groups}
    result = _fetch_group(ctx, request.group_id, request.topics, require_stable=request.get("require_stable", False))
    return {"throttle_time_ms": 0, "topics": result["topics"], "error_code": result["error_code"]}


@handles(47, 0, 0)
async def handle_offset_delete(ctx, request):
    topics = [{"name": t.name, "partitions": [{"partition_index": p.partition_index} for p in t.partitions]}
              for t in request.topics]
    response = ctx.broker.groups.offset_delete(group_id=request.group_id, topics=topics, now_ms=now_ms())
    return {"throttle_time_ms": 0, **response}

"""DeleteRecords (key 21): v0-2 (all the same but for flexible encoding from v2).

Moves each partition's log start offset forward (offset -1: to the high watermark), persisted at
once; whole segments below it are removed and their space reclaimed (partitions/retention.py).
Errors per partition, as Kafka's: UNKNOWN_TOPIC_OR_PARTITION, OFFSET_OUT_OF_RANGE (beyond the high
watermark, or negative), POLICY_VIOLATION (cleanup.policy without delete), KAFKA_STORAGE_ERROR; in a
cluster (gateway/cluster.py) NOT_LEADER_OR_FOLLOWER from a broker that does not lead the partition.
"""

import asyncio

from gateway.leadership import partition_error
from gateway.registry import handles
from gateway.security.acl_codes import Operation, ResourceType
from partitions.retention import delete_records
from wire.errors import ErrorCode, KafkaError


def _delete(ctx, logs, name, p) -> dict:
    topic = logs.get(name)
    log = topic.partition(p.partition_index) if topic is not None else None
    if log is None:
        return {"partition_index": p.partition_index, "low_watermark": -1,
                "error_code": ErrorCode.UNKNOWN_TOPIC_OR_PARTITION}
    if ctx.broker.multi and (code := partition_error(ctx, log)):  # only the leader deletes
        return {"partition_index": p.partition_index, "low_watermark": -1, "error_code": code}
    before = log.log_start_offset
    try:
        low = delete_records(log, p.offset)
    except KafkaError as exc:
        ctx.log.info("delete_records_refused", topic=name, partition=p.partition_index, offset=p.offset,
                     error=exc.code.name, reason=exc.message)
        return {"partition_index": p.partition_index, "low_watermark": -1, "error_code": exc.code}
    if low != before:
        ctx.log.info("log_start_moved", topic=name, partition=p.partition_index, log_start_offset=low,
                     reason="DeleteRecords")
        ctx.broker.maintenance.reclaim_soon(log, 0, low)
    return {"partition_index": p.partition_index, "low_watermark": low, "error_code": ErrorCode.NONE}


@handles(21, 0, 2)
async def handle_delete_records(ctx, request):
    logs = ctx.broker.logs
    topics = []
    for topic_request in request.topics:
        if not ctx.authorize(Operation.DELETE, ResourceType.TOPIC, topic_request.name):
            partitions = [{"partition_index": p.partition_index, "low_watermark": -1,
                           "error_code": ErrorCode.TOPIC_AUTHORIZATION_FAILED} for p in topic_request.partitions]
        else:
            partitions = [_delete(ctx, logs, topic_request.name, p) for p in topic_request.partitions]
        topics.append({"name": topic_request.name, "partitions": partitions})
        await asyncio.sleep(0)  # many topics: let other requests in between
    return {"throttle_time_ms": 0, "topics": topics}

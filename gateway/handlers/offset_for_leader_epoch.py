"""OffsetForLeaderEpoch (key 23): v2-4. Every partition has had one leader epoch, 0, since it was created.

Epoch 0 ends at the log end offset; an epoch above ours is UNDEFINED (-1, -1); a current leader epoch
newer than ours is UNKNOWN_LEADER_EPOCH (older cannot happen: ours never changes).
"""

from gateway.registry import handles
from gateway.security.acls import Operation, ResourceType
from wire.errors import ErrorCode


@handles(23, 2, 4)
async def handle_offset_for_leader_epoch(ctx, request):
    logs = ctx.broker.logs
    topics = []
    for t in request.topics:
        topic = logs.get(t.topic)
        partitions = []
        for p in t.partitions:
            entry = {"error_code": ErrorCode.NONE, "partition": p.partition, "leader_epoch": -1, "end_offset": -1}
            log = topic.partition(p.partition) if topic is not None else None
            if not ctx.authorize(Operation.DESCRIBE, ResourceType.TOPIC, t.topic):
                entry["error_code"] = ErrorCode.TOPIC_AUTHORIZATION_FAILED
            elif log is None:
                entry["error_code"] = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            elif p.current_leader_epoch > log.leader_epoch:
                entry["error_code"] = ErrorCode.UNKNOWN_LEADER_EPOCH
            elif p.leader_epoch <= log.leader_epoch:
                entry["leader_epoch"] = log.leader_epoch
                entry["end_offset"] = log.high_watermark
            partitions.append(entry)
        topics.append({"topic": t.topic, "partitions": partitions})
    return {"throttle_time_ms": 0, "topics": topics}

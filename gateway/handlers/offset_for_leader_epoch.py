"""OffsetForLeaderEpoch (key 23): v2-4. Where each leader epoch of a partition ended (KIP-101/KIP-320).

A single broker leads every partition in epoch 0: it ends at the log end offset. In a cluster
(gateway/cluster.py) each leadership change starts an epoch at the log end offset of that moment;
an epoch ends where the next one starts, the current one at the log end offset (Kafka's
LeaderEpochFileCache.endOffsetFor); an epoch older than every known one is UNDEFINED (-1, -1).
The leader answers (replica_id -1: a consumer) with current_leader_epoch checked as Kafka does:
older is FENCED_LEADER_EPOCH, newer UNKNOWN_LEADER_EPOCH; a follower says NOT_LEADER_OR_FOLLOWER.
"""

from gateway.leadership import partition_error
from gateway.registry import handles
from gateway.security.acl_codes import Operation, ResourceType
from wire.errors import ErrorCode


@handles(23, 2, 4)
async def handle_offset_for_leader_epoch(ctx, request):
    broker = ctx.broker
    logs = broker.logs
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
            elif code := partition_error(ctx, log, p.current_leader_epoch):
                entry["error_code"] = code
            elif broker.multi:
                entry["leader_epoch"], entry["end_offset"] = broker.state(log).end_offset_for(
                    p.leader_epoch, log.log_end_offset)
            elif p.leader_epoch <= log.leader_epoch:
                entry["leader_epoch"] = log.leader_epoch
                entry["end_offset"] = log.high_watermark
            partitions.append(entry)
        topics.append({"topic": t.topic, "partitions": partitions})
    return {"throttle_time_ms": 0, "topics": topics}

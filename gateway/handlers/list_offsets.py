"""ListOffsets (key 2): v1-11 (v0 was removed in Kafka 4; aiokafka sends 1-3).

Special timestamps: -1 latest (the last stable offset under read_committed), -2 earliest, -3 the
record with the largest timestamp (v7+), -4 earliest local (v8+: the log start, all data is local),
-5 latest tiered (v9+) and -6 earliest pending upload (v11+, KIP-1023): with no tiered storage Kafka
answers offset -1 for both (UnifiedLog.fetchOffsetByTimestamp). v10 adds timeout_ms for remote lookups
(KIP-1075), which never happen here. Any other timestamp finds the first record (not batch) at or after it.
A partition named more than once is one INVALID_REQUEST entry (Kafka's duplicatePartitions).
"""

from gateway.leadership import partition_error
from gateway.offload import Pacer, collapse_partitions
from gateway.registry import handles
from gateway.security.acl_codes import Operation, ResourceType
from wire.errors import ErrorCode

LATEST, EARLIEST, MAX_TIMESTAMP, EARLIEST_LOCAL, LATEST_TIERED, EARLIEST_PENDING_UPLOAD = -1, -2, -3, -4, -5, -6


def _lookup(log, timestamp: int, committed: bool) -> tuple[int, int]:
    """(offset, timestamp) for one query; (-1, -1) when no record matches."""
    if timestamp == LATEST:
        return (log.last_stable_offset if committed else log.high_watermark), -1
    if timestamp in (EARLIEST, EARLIEST_LOCAL):
        return log.log_start_offset, -1
    if timestamp in (LATEST_TIERED, EARLIEST_PENDING_UPLOAD):  # nothing is tiered
        return -1, -1
    if timestamp == MAX_TIMESTAMP:
        found = log.max_timestamp()
    else:
        found = log.offset_for_timestamp(timestamp)
    if found is not None and committed and found[0] >= log.last_stable_offset:
        found = None  # as Kafka: read_committed finds nothing a read_committed fetch could not return
    return found if found is not None else (-1, -1)


@handles(2, 1, 11)
async def handle_list_offsets(ctx, request):
    logs = ctx.broker.logs
    committed = request.get("isolation_level", 0) == 1
    topics = []
    pacer = Pacer()
    # A partition named twice is answered once, with INVALID_REQUEST, as Kafka's ReplicaManager does.
    grouped, duplicated = await collapse_partitions(request.topics, lambda t: t.name, "partition_index", pacer)
    for topic_request, requested in grouped:
        topic = logs.get(topic_request.name)
        partitions = []
        for p in requested:
            await pacer.step()
            entry = {"partition_index": p.partition_index, "error_code": ErrorCode.NONE, "old_style_offsets": [],
                     "timestamp": -1, "offset": -1, "leader_epoch": -1}
            log = topic.partition(p.partition_index) if topic is not None else None
            if (topic_request.name, p.partition_index) in duplicated:
                entry["error_code"] = ErrorCode.INVALID_REQUEST
            elif not ctx.authorize(Operation.DESCRIBE, ResourceType.TOPIC, topic_request.name):
                entry["error_code"] = ErrorCode.TOPIC_AUTHORIZATION_FAILED
            elif log is None:
                entry["error_code"] = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            elif code := partition_error(ctx, log, p.get("current_leader_epoch", -1)):  # a follower, an old epoch
                entry["error_code"] = code
            else:
                entry["offset"], entry["timestamp"] = _lookup(log, p.timestamp, committed)
                entry["leader_epoch"] = log.leader_epoch if entry["offset"] >= 0 else -1
            partitions.append(entry)
        topics.append({"name": topic_request.name, "partitions": partitions})
    return {"throttle_time_ms": 0, "topics": topics}

"""DescribeLogDirs (key 35): v1-4 and AlterReplicaLogDirs (key 34): v1-2. One log dir: the data dir.

DescribeLogDirs reports each partition's size as the storage engine estimates it, offset_lag 0 and
no future replicas; v3+ a top-level error_code; v4+ the data dir's total and usable bytes (-1 with
--memory, which has no directory). Unknown topics or partitions are left out, as Kafka leaves out
logs it does not host. v5 (is_cordoned, KIP-1066) is Kafka 4.3 and not served: kafka-python would
take a broker serving it for 4.3.
AlterReplicaLogDirs can only "move" a replica to the dir it is in (NONE); another path is
LOG_DIR_NOT_FOUND, an unknown partition UNKNOWN_TOPIC_OR_PARTITION.
"""

import os

from gateway.offload import Pacer
from gateway.registry import handles
from wire.errors import ErrorCode


def log_dir(broker) -> str:
    return os.path.abspath(broker.config.data_dir)


def _disk_usage(broker) -> tuple[int, int]:
    if broker.config.memory:
        return -1, -1
    import shutil  # here: at module level it (with lzma, bz2) is on every broker's start-up

    try:
        usage = shutil.disk_usage(log_dir(broker))
    except OSError:
        return -1, -1
    return usage.total, usage.free


def _wanted(logs, request):
    """(topic, [partition logs]) to describe: every hosted partition, or the requested ones that exist."""
    if request.topics is None:
        return [(t, list(t.partitions)) for t in logs.topics.values()]
    wanted = {}
    for asked in request.topics:
        topic = logs.get(asked.topic)
        if topic is None:
            continue
        chosen = wanted.setdefault(topic.name, (topic, {}))[1]
        for index in asked.partitions:
            log = topic.partition(index)
            if log is not None:
                chosen[index] = log
    return [(topic, list(chosen.values())) for topic, chosen in wanted.values() if chosen]


@handles(35, 1, 4)
async def handle_describe_log_dirs(ctx, request):
    broker = ctx.broker
    size = broker.storage.partition_size
    pacer = Pacer()  # a size is a storage scan: yield the loop between slices of them
    topics = []
    for topic, chosen in _wanted(broker.logs, request):
        partitions = []
        for p in chosen:
            partitions.append({"partition_index": p.index, "partition_size": size(topic.topic_id, p.index),
                               "offset_lag": 0, "is_future_key": False})
            await pacer.checkpoint()
        topics.append({"name": topic.name, "partitions": partitions})
    total, usable = _disk_usage(broker)
    return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "results": [
        {"error_code": ErrorCode.NONE, "log_dir": log_dir(broker), "topics": topics, "total_bytes": total,
         "usable_bytes": usable, "is_cordoned": False}]}


@handles(34, 1, 2)
async def handle_alter_replica_log_dirs(ctx, request):
    broker = ctx.broker
    here = log_dir(broker)
    results = {}
    for target in request.dirs:
        for asked in target.topics:
            partitions = results.setdefault(asked.name, {})
            topic = broker.logs.get(asked.name)
            for index in asked.partitions:
                if os.path.abspath(target.path) != here:
                    code = ErrorCode.LOG_DIR_NOT_FOUND
                elif topic is None or topic.partition(index) is None:
                    code = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
                else:
                    code = ErrorCode.NONE
                partitions[index] = code
    return {"throttle_time_ms": 0, "results": [
        {"topic_name": name, "partitions": [{"partition_index": i, "error_code": c} for i, c in partitions.items()]}
        for name, partitions in results.items()]}

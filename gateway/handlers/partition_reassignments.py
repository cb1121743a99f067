"""AlterPartitionReassignments (key 45): v0-1 and ListPartitionReassignments (key 46): v0.

One broker: every partition's replicas are [this node], so no reassignment is ever in progress.
Checked as Kafka's controller checks (ReplicationControlManager.alterPartitionReassignment):
unknown topic or partition UNKNOWN_TOPIC_OR_PARTITION, a target naming another broker, no broker or
one broker twice INVALID_REPLICA_ASSIGNMENT, a cancellation (replicas null)
NO_REASSIGNMENT_IN_PROGRESS; a target of [this node] is already in place (NONE). Nothing changes.
"""

from gateway.limits import fit_message
from gateway.registry import handles
from wire.errors import ErrorCode

NO_REASSIGNMENT = "No partition reassignment is in progress for this topic-partition."


def _check(logs, node_id: int, name: str, target) -> tuple[int, str | None]:
    topic = logs.get(name)
    if topic is None:
        return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"Unable to find a topic named {name}."
    if topic.partition(target.partition_index) is None:
        return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"Unable to find partition {name}:{target.partition_index}."
    if target.replicas is None:
        return ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, NO_REASSIGNMENT
    replicas = sorted(target.replicas)
    if not replicas:
        return ErrorCode.INVALID_REPLICATION_ASSIGNMENT, "The manual partition assignment includes an empty replica list."
    previous = None
    for broker_id in replicas:
        if broker_id != node_id:
            return ErrorCode.INVALID_REPLICATION_ASSIGNMENT, (
                f"The manual partition assignment includes broker {broker_id}, but no such broker is registered.")
        if broker_id == previous:
            return ErrorCode.INVALID_REPLICATION_ASSIGNMENT, (
                f"The manual partition assignment includes the broker {broker_id} more than once.")
        previous = broker_id
    return ErrorCode.NONE, None


@handles(45, 0, 1)
async def handle_alter_partition_reassignments(ctx, request):
    broker = ctx.broker
    responses = []
    for topic in request.topics:
        partitions = []
        for target in topic.partitions:
            code, message = _check(broker.logs, broker.node_id, topic.name, target)
            partitions.append({"partition_index": target.partition_index, "error_code": code,
                               "error_message": fit_message(message)})
        responses.append({"name": topic.name, "partitions": partitions})
    return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "error_message": None,
            "allow_replication_factor_change": request.get("allow_replication_factor_change", True),
            "responses": responses}


@handles(46, 0, 0)
async def handle_list_partition_reassignments(ctx, request):
    return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "error_message": None, "topics": []}

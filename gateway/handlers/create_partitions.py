"""CreatePartitions (key 37): v0-3. Grows topics; the new partitions are placed as Kafka places them
(gateway/cluster.py), or on the brokers a manual assignment names.

Checked as Kafka's controller checks (ReplicationControlManager.createPartitions), with its messages:
duplicate names INVALID_REQUEST, unknown topics UNKNOWN_TOPIC_OR_PARTITION, a count that is not an
increase INVALID_PARTITIONS, manual assignments that do not fit INVALID_REPLICA_ASSIGNMENT.
validate_only checks everything and changes nothing. v1 and v3 are v0 and v2 (quota behaviour).
Consumers see the new partitions on their next metadata refresh; KIP-848 groups on their next heartbeat.
"""

from gateway.registry import handles
from gateway.security.acl_codes import Operation, ResourceType
from wire.errors import ErrorCode, KafkaError


def _check_assignments(assignments, added: int, first_new: int, node_ids) -> None:
    if len(assignments) != added:
        raise KafkaError(ErrorCode.INVALID_REPLICATION_ASSIGNMENT,
                         f"Attempted to add {added} additional partition(s), but only {len(assignments)} "
                         "assignment(s) were specified.")
    for assignment in assignments:
        replicas = sorted(assignment.broker_ids)
        if not replicas:
            raise KafkaError(ErrorCode.INVALID_REPLICATION_ASSIGNMENT,
                             "The manual partition assignment includes an empty replica list.")
        previous = None
        for broker_id in replicas:
            if broker_id not in node_ids:
                raise KafkaError(ErrorCode.INVALID_REPLICATION_ASSIGNMENT,
                                 f"The manual partition assignment includes broker {broker_id}, but no such "
                                 "broker is registered.")
            if broker_id == previous:
                raise KafkaError(ErrorCode.INVALID_REPLICATION_ASSIGNMENT,
                                 f"The manual partition assignment includes the broker {broker_id} more than once.")
            previous = broker_id


@handles(37, 0, 3)
async def handle_create_partitions(ctx, request):
    broker = ctx.broker
    logs = broker.logs
    names = [t.name for t in request.topics]
    duplicates = sorted({name for name in names if names.count(name) > 1}) if len(set(names)) != len(names) else []
    results = [{"name": name, "error_code": ErrorCode.INVALID_REQUEST, "error_message": "Duplicate topic name."}
               for name in duplicates]
    for t in request.topics:
        if t.name in duplicates:
            continue
        if not ctx.authorize(Operation.ALTER, ResourceType.TOPIC, t.name):
            results.append({"name": t.name, "error_code": ErrorCode.TOPIC_AUTHORIZATION_FAILED, "error_message": None})
            continue
        try:
            topic = logs.add_partitions(t.name, t.count, validate_only=True)
            current = len(topic.partitions)
            if t.assignments is not None:
                _check_assignments(t.assignments, t.count - current, current,
                                   getattr(broker, "nodes", None) or {broker.node_id})
            if not request.validate_only:
                if t.assignments and hasattr(broker, "assign"):
                    broker.assign(topic.topic_id, {current + i: list(a.broker_ids) for i, a in enumerate(t.assignments)})
                logs.add_partitions(t.name, t.count)
        except KafkaError as exc:
            results.append({"name": t.name, "error_code": exc.code, "error_message": exc.message})
            continue
        ctx.log.info("partitions_created", topic=t.name, partitions=t.count, was=current,
                     validate_only=request.validate_only)
        results.append({"name": t.name, "error_code": ErrorCode.NONE, "error_message": None})
    return {"throttle_time_ms": 0, "results": results}

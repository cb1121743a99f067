"""CreateTopics (key 19): v2-7 and DeleteTopics (key 20): v1-6 (by name, or by topic id from v6).

Replication factors up to the cluster's broker count (-1: default.replication.factor, capped at it);
manual assignments set the partition count and name existing brokers (gateway/cluster.py places them).
`__cluster_metadata` (the KRaft log) cannot be created, as in Kafka.
"""

from gateway.clock import now_ms
from gateway.handlers.describe_quorum import METADATA_TOPIC as CLUSTER_METADATA_TOPIC
from gateway.limits import fit_message
from gateway.autocreate import may_create
from gateway.registry import handles
from gateway.security.acl_codes import Operation, ResourceType
from partitions.topic_configs import describe
from wire.errors import ErrorCode, KafkaError
from wire.schema import ZERO_UUID


def _created(topic, logs, replication_factor=1) -> dict:
    return {
        "name": topic.name, "topic_id": topic.topic_id, "error_code": ErrorCode.NONE, "error_message": None,
        "num_partitions": len(topic.partitions), "replication_factor": replication_factor,
        "configs": [
            {"name": c.name, "value": c.value, "read_only": c.read_only, "config_source": c.source,
             "is_sensitive": c.sensitive}
            for c in describe(topic.configs, logs.topic_defaults)  # validate_only: the topic is not registered
        ],
    }


def _failed(name, code, message=None) -> dict:
    return {"name": name, "topic_id": ZERO_UUID, "error_code": code, "error_message": fit_message(message),
            "num_partitions": -1, "replication_factor": -1, "configs": []}  # Kafka: the default, empty


def _brokers(broker) -> list[int]:
    nodes = getattr(broker, "nodes", None)
    return sorted(nodes) if nodes else [broker.node_id]


def _replication_factor(broker, t) -> int:
    if t.assignments:
        return len(t.assignments[0].broker_ids)
    if t.replication_factor == -1:
        default = getattr(broker, "default_replication_factor", None)
        return default() if default else 1
    return t.replication_factor


def _replication_refused(broker, t) -> tuple[int, str] | None:
    """Kafka's controller checks of a replication factor or a manual assignment (ReplicationControlManager)."""
    brokers = _brokers(broker)
    if t.assignments:
        for a in t.assignments:
            ids = list(a.broker_ids)
            if not ids or len(ids) != len(t.assignments[0].broker_ids):
                return ErrorCode.INVALID_REPLICATION_ASSIGNMENT, "All partitions must have the same number of replicas."
            if len(set(ids)) != len(ids):
                return ErrorCode.INVALID_REPLICATION_ASSIGNMENT, f"Duplicate brokers not allowed in replica assignment: {ids}"
            missing = [b for b in ids if b not in brokers]
            if missing:
                return ErrorCode.INVALID_REPLICATION_ASSIGNMENT, (
                    f"The manual partition assignment includes broker {missing[0]}, but no such broker is registered.")
        return None
    rf = t.replication_factor
    if rf == 0 or rf < -1:
        return ErrorCode.INVALID_REPLICATION_FACTOR, "Replication factor must be larger than 0, or -1 to use the default value."
    if rf > len(brokers):
        return ErrorCode.INVALID_REPLICATION_FACTOR, (
            f"Unable to replicate the partition {rf} time(s): The target replication factor of {rf} cannot be reached "
            f"because only {len(brokers)} broker(s) are registered.")
    return None


@handles(19, 2, 7)
async def handle_create_topics(ctx, request):
    logs = ctx.broker.logs
    results = []
    seen = set()
    for t in request.topics:
        if t.name in seen:
            results.append(_failed(t.name, ErrorCode.INVALID_REQUEST, "Duplicate topic name."))
            continue
        seen.add(t.name)
        if not may_create(ctx, t.name):  # CLUSTER CREATE, or TOPIC CREATE on the name
            results.append(_failed(t.name, ErrorCode.TOPIC_AUTHORIZATION_FAILED))
            continue
        if t.name == CLUSTER_METADATA_TOPIC:  # the KRaft log DescribeQuorum describes
            results.append(_failed(t.name, ErrorCode.INVALID_REQUEST,
                                   f"Creation of internal topic {CLUSTER_METADATA_TOPIC} is prohibited."))
            continue
        refused = _replication_refused(ctx.broker, t)
        if refused is not None:
            results.append(_failed(t.name, *refused))
            continue
        partitions = len(t.assignments) if t.assignments else t.num_partitions
        if t.assignments and t.num_partitions != -1:
            results.append(_failed(t.name, ErrorCode.INVALID_REQUEST,
                                   "Both numPartitions or replicationFactor and replicasAssignments were set."))
            continue
        configs = {c.name: c.value for c in t.configs}
        try:
            topic = logs.create_topic(t.name, partitions, configs, validate_only=request.get("validate_only", False))
        except KafkaError as exc:
            results.append(_failed(t.name, exc.code, exc.message))
            continue
        rf = _replication_factor(ctx.broker, t)
        if not request.get("validate_only", False) and hasattr(ctx.broker, "replication_for"):
            ctx.broker.replication_for(topic.topic_id, rf,
                                       [list(a.broker_ids) for a in t.assignments] if t.assignments else None)
        ctx.log.info("topic_created", topic=t.name, partitions=len(topic.partitions), replication_factor=rf,
                     validate_only=request.get("validate_only", False))
        results.append(_created(topic, logs, rf))
        if not ctx.authorize(Operation.DESCRIBE_CONFIGS, ResourceType.TOPIC, t.name, log=False):
            results[-1].update(configs=[], topic_config_error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED)
    return {"throttle_time_ms": 0, "topics": results}


@handles(20, 1, 6)
async def handle_delete_topics(ctx, request):
    logs = ctx.broker.logs
    wanted = [(t.name, t.topic_id) for t in request.topics] if ctx.api_version >= 6 else \
        [(name, ZERO_UUID) for name in request.topic_names]
    responses = []
    for name, topic_id in wanted:
        topic = logs.get(name) if name is not None else logs.get_by_id(topic_id)
        entry = {"name": name, "topic_id": topic_id, "error_code": ErrorCode.NONE, "error_message": None}
        if not ctx.authorize(Operation.DELETE, ResourceType.TOPIC, name or (topic.name if topic else "")):
            entry["error_code"] = ErrorCode.TOPIC_AUTHORIZATION_FAILED
        elif topic is None:
            entry["error_code"] = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION if name is not None else ErrorCode.UNKNOWN_TOPIC_ID
        else:
            entry["name"], entry["topic_id"] = topic.name, topic.topic_id
            logs.delete_topic(topic.name)
            if hasattr(ctx.broker, "topic_deleted"):
                ctx.broker.topic_deleted(topic)
            ctx.broker.groups.on_topics_deleted([topic.name], now_ms())
            ctx.broker.shares.on_topic_deleted(topic.topic_id)
            ctx.log.info("topic_deleted", topic=topic.name)
        responses.append(entry)
    return {"throttle_time_ms": 0, "responses": responses}

"""Metadata (key 3): v0-13. Topics by name, or by id from v10; null list = all topics (v1+), v0 empty = all.

Auto-creates requested topics when the broker allows it and (v4+) the client asks for it.
"""

from gateway.autocreate import get_or_create
from gateway.registry import handles
from wire.errors import ErrorCode
from wire.schema import ZERO_UUID


def broker_entry(broker) -> dict:
    return {"node_id": broker.node_id, "host": broker.host, "port": broker.port, "rack": None}


def topic_entry(topic, node_id: int) -> dict:
    return {
        "error_code": ErrorCode.NONE,
        "name": topic.name,
        "topic_id": topic.topic_id,
        "is_internal": topic.is_internal,
        "partitions": [
            {
                "error_code": ErrorCode.NONE,
                "partition_index": p.index,
                "leader_id": node_id,
                "leader_epoch": p.leader_epoch,
                "replica_nodes": [node_id],
                "isr_nodes": [node_id],
                "offline_replicas": [],
            }
            for p in topic.partitions
        ],
        "topic_authorized_operations": -2147483648,
    }


def _error_entry(name, topic_id, code) -> dict:
    return {"error_code": code, "name": name, "topic_id": topic_id or ZERO_UUID, "is_internal": False,
            "partitions": [], "topic_authorized_operations": -2147483648}


TOPIC_IDS_VERSION = 12  # v10-11 carry topic ids but may not use them: no null names, no non-zero ids


def _refused_topic_ids(request) -> dict:
    """Kafka's answer below v12 to a null name or a topic id: INVALID_REQUEST for every topic asked for."""
    return {"throttle_time_ms": 0, "brokers": [], "cluster_id": None, "controller_id": -1,
            "cluster_authorized_operations": -2147483648, "error_code": ErrorCode.NONE,
            "topics": [_error_entry(t.get("name") or "", t.get("topic_id"), ErrorCode.INVALID_REQUEST)
                       for t in request.topics]}


@handles(3, 0, 13)
async def handle_metadata(ctx, request):
    broker = ctx.broker
    logs = broker.logs
    wanted = request.topics
    if wanted and ctx.api_version < TOPIC_IDS_VERSION and any(
            t.get("name") is None or (t.get("topic_id") or ZERO_UUID) != ZERO_UUID for t in wanted):
        return _refused_topic_ids(request)
    if wanted is None or (ctx.api_version == 0 and not wanted):
        topics = [topic_entry(t, broker.node_id) for t in list(logs.topics.values())]
    else:
        allow_create = request.get("allow_auto_topic_creation", True)
        topics = []
        for wanted_topic in wanted:
            name = wanted_topic.get("name")
            topic_id = wanted_topic.get("topic_id") or ZERO_UUID
            if name is None:
                topic = logs.get_by_id(topic_id)
                topics.append(topic_entry(topic, broker.node_id) if topic
                              else _error_entry(None, topic_id, ErrorCode.UNKNOWN_TOPIC_ID))
                continue
            topic, error = get_or_create(ctx, name, allow_create)
            if topic is None:
                topics.append(_error_entry(name, None, error))
            else:
                topics.append(topic_entry(topic, broker.node_id))
    return {
        "throttle_time_ms": 0,
        "brokers": [broker_entry(broker)],
        "cluster_id": broker.cluster_id,
        "controller_id": broker.node_id,
        "topics": topics,
        "cluster_authorized_operations": -2147483648,
        "error_code": ErrorCode.NONE,
    }


"""Metadata (key 3): v0-13. Topics by name, or by id from v10; null list = all topics (v1+), v0 empty = all.

Auto-creates requested topics when the broker allows it and (v4+) the client asks for it, within
gateway.autocreate's bounds. A name asked for twice is answered once (Kafka takes the names as a set);
the work yields the loop as it goes (gateway.offload.Pacer), and a response of many partitions is
encoded off the loop. A topic's entry (up to PARTITIONS_PER_SLICE partitions) is kept encoded per
version until its partitions or their leader epochs change, so Metadata of every topic costs a
lookup per topic, not an encode per partition.
In a cluster (gateway/cluster.py) the brokers are the live ones, at their address on the listener the
client came through; partitions show their replicas, ISR, offline replicas and leader epoch, and an
offline partition (no live leader) is LEADER_NOT_AVAILABLE with leader -1.
"""

import weakref

from gateway.listeners import advertised
from gateway.authorized_operations import TOPIC as TOPIC_OPERATIONS, authorized, topic_operations, visible_topics
from gateway.autocreate import RequestBudget, get_or_create
from gateway.offload import Pacer
from gateway.registry import handles
from gateway.security.acls import CLUSTER_NAME, Operation, ResourceType
from wire.codec import encode_element
from wire.errors import ErrorCode
from wire.messages import APIS
from wire.schema import ZERO_UUID

DESCRIBE, TOPIC, CLUSTER = Operation.DESCRIBE, ResourceType.TOPIC, ResourceType.CLUSTER
_ENCODED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # Topic -> {(version, ops): (stamp, bytes)}


def broker_entry(broker, ctx=None) -> dict:
    host, port = advertised(ctx) if ctx is not None else (broker.host, broker.port)  # the client's listener
    return {"node_id": broker.node_id, "host": host, "port": port, "rack": None}


PARTITIONS_PER_SLICE = 500


def partition_entries(partitions, node_id: int, cluster=None) -> list[dict]:
    if cluster is not None:
        return [cluster.partition_entry(p) for p in partitions]
    return [
        {
            "error_code": ErrorCode.NONE,
            "partition_index": p.index,
            "leader_id": node_id,
            "leader_epoch": p.leader_epoch,
            "replica_nodes": [node_id],
            "isr_nodes": [node_id],
            "offline_replicas": [],
        }
        for p in partitions
    ]


def topic_entry(topic, node_id: int, partitions: list[dict] | None = None, cluster=None) -> dict:
    return {
        "error_code": ErrorCode.NONE,
        "name": topic.name,
        "topic_id": topic.topic_id,
        "is_internal": topic.is_internal,
        "partitions": partition_entries(topic.partitions, node_id, cluster) if partitions is None else partitions,
        "topic_authorized_operations": -2147483648,
    }


def _encoded_entry(topic, node_id: int, version: int, operations: int, cluster=None):
    """(the topic's entry encoded at `version`, whether it was encoded now): cached while nothing it
    shows has changed."""
    stamp = (node_id, cluster.version if cluster is not None else 0, len(topic.partitions),
             tuple(p.leader_epoch for p in topic.partitions))
    cached = _ENCODED.setdefault(topic, {})
    hit = cached.get((version, operations))
    if hit is not None and hit[0] == stamp:
        return hit[1], False
    entry = topic_entry(topic, node_id, cluster=cluster)
    entry["topic_authorized_operations"] = operations
    encoded = encode_element(APIS[3].response, version, ("topics",), entry)
    cached[(version, operations)] = (stamp, encoded)
    return encoded, True


async def _paced_entry(topic, node_id: int, pacer: Pacer, version: int | None = None,
                       operations: int = -2147483648, cluster=None):
    """topic_entry, yielding the loop between slices of partitions (a topic may have 10,000)."""
    if len(topic.partitions) <= PARTITIONS_PER_SLICE:
        if version is None:
            await pacer.step()
            return topic_entry(topic, node_id, cluster=cluster)
        entry, encoded_now = _encoded_entry(topic, node_id, version, operations, cluster)
        if encoded_now:  # an encode is more than a step's work: look at the clock after each
            await pacer.checkpoint()
        else:
            await pacer.step()
        return entry
    entry = topic_entry(topic, node_id, [])
    entry["topic_authorized_operations"] = operations
    for start in range(0, len(topic.partitions), PARTITIONS_PER_SLICE):
        await pacer.checkpoint()
        entry["partitions"].extend(partition_entries(topic.partitions[start:start + PARTITIONS_PER_SLICE], node_id,
                                                     cluster))
    return entry


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
    pacer = Pacer()
    version = ctx.api_version
    # KIP-430 (v8+): with no authorizer every topic operation is allowed
    operations = authorized(TOPIC_OPERATIONS, request.get("include_topic_authorized_operations", False))
    ops = topic_operations(ctx, request, operations)  # per topic when an authorizer decides
    cluster = broker if broker.multi else None

    async def paced(topic):
        return await _paced_entry(topic, broker.node_id, pacer, version, ops(topic.name), cluster)

    if wanted is None or (ctx.api_version == 0 and not wanted):
        listed = list(logs.topics.values()) if broker.authorizer is None else visible_topics(ctx, logs.topics.values())
        topics = [await paced(t) for t in listed]
    else:
        allow_create = request.get("allow_auto_topic_creation", True)
        budget = RequestBudget()
        topics = []
        seen = set()
        for wanted_topic in wanted:
            await pacer.step()
            name = wanted_topic.get("name")
            topic_id = wanted_topic.get("topic_id") or ZERO_UUID
            if (name, topic_id) in seen:
                continue
            seen.add((name, topic_id))
            if name is None:
                topic = logs.get_by_id(topic_id)
                if topic is not None and not ctx.authorize(DESCRIBE, TOPIC, topic.name):
                    topics.append(_error_entry(None, topic_id, ErrorCode.TOPIC_AUTHORIZATION_FAILED))
                    continue
                topics.append(await paced(topic) if topic
                              else _error_entry(None, topic_id, ErrorCode.UNKNOWN_TOPIC_ID))
                continue
            if not ctx.authorize(DESCRIBE, TOPIC, name):
                topics.append(_error_entry(name, None, ErrorCode.TOPIC_AUTHORIZATION_FAILED))
                continue
            known = logs.get(name)
            topic, error = get_or_create(ctx, name, allow_create, budget)
            if known is None and allow_create:
                await pacer.checkpoint()  # a creation (or its refusal) is heavier than a lookup
            if topic is None:
                topics.append(_error_entry(name, None, error))
            else:
                topics.append(await paced(topic))
    for entry in topics:
        if entry.__class__ is dict:
            entry["topic_authorized_operations"] = ops(entry["name"]) if not entry["error_code"] else operations
    return {
        "throttle_time_ms": 0,
        "brokers": broker.broker_entries(ctx.listener_name) if cluster is not None else [broker_entry(broker, ctx)],
        "cluster_id": broker.cluster_id,
        "controller_id": broker.controller_id if cluster is not None else broker.node_id,
        "topics": topics,
        "cluster_authorized_operations": ctx.authorized_operations(
            CLUSTER, CLUSTER_NAME, request.get("include_cluster_authorized_operations", False)),
        "error_code": ErrorCode.NONE,
    }


"""Metadata (key 3): v0-13. Topics by name, or by id from v10; null list = all topics (v1+), v0 empty = all.

Auto-creates requested topics when the broker allows it and (v4+) the client asks for it, within
gateway.autocreate's bounds. A name asked for twice is answered once (Kafka takes the names as a set);
the work yields the loop as it goes (gateway.offload.Pacer). Each topic's partition array is kept
encoded per version family, and its whole entry per (version, authorized operations), until what
they show changes (gateway.encoded_partitions: the invalidation contract), so a repeated Metadata
of 100,000 partitions costs a lookup per topic, not an encode per partition; a miss encodes the
array in slices of PARTITIONS_PER_SLICE, yielding between them.
In a cluster (gateway/cluster.py) the brokers are the live ones, at their address on the listener the
client came through; partitions show their replicas, ISR, offline replicas and leader epoch, and an
offline partition (no live leader) is LEADER_NOT_AVAILABLE with leader -1.
"""

from functools import lru_cache

from gateway import encoded_partitions
from gateway.listeners import advertised
from gateway.authorized_operations import TOPIC as TOPIC_OPERATIONS, authorized, topic_operations, visible_topics
from gateway.autocreate import RequestBudget, get_or_create
from gateway.offload import Pacer
from gateway.registry import handles
from gateway.security.acl_codes import CLUSTER_NAME, Operation, ResourceType
from wire.codec import Encoded, array_count, array_items, encode_element
from wire.errors import ErrorCode
from wire.messages import APIS
from wire.schema import ZERO_UUID

DESCRIBE, TOPIC, CLUSTER = Operation.DESCRIBE, ResourceType.TOPIC, ResourceType.CLUSTER
RESPONSE = APIS[3].response
PARTITIONS_PATH = ("topics", "partitions")
PARTITIONS_PER_SLICE = 500  # partitions encoded between two looks at the pacer's clock


def broker_entry(broker, ctx=None) -> dict:
    host, port = advertised(ctx) if ctx is not None else (broker.host, broker.port)  # the client's listener
    return {"node_id": broker.node_id, "host": host, "port": port, "rack": None}


def partition_entries(partitions, node_id: int, cluster=None) -> list[dict]:
    if cluster is not None:
        return [cluster.partition_entry(p) for p in partitions]
    replicas, none = [node_id], []  # the same for every partition: shared (nothing changes them)
    return [
        {
            "error_code": ErrorCode.NONE,
            "partition_index": p.index,
            "leader_id": node_id,
            "leader_epoch": p.leader_epoch,
            "replica_nodes": replicas,
            "isr_nodes": replicas,
            "offline_replicas": none,
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


@lru_cache(maxsize=None)
def partitions_family(version: int) -> tuple:
    """Versions whose partition array encodes to the same bytes share one key: the fields present
    and whether the version is flexible (compact arrays, tagged-field blocks)."""
    topics = next(f for f in RESPONSE.fields if f.name == "topics")
    partitions = next(f for f in topics.fields if f.name == "partitions")
    return ("metadata", RESPONSE.is_flexible(version),
            tuple(f.name for f in partitions.fields if f.present_in(version)))


async def _encoded_partitions(broker, topic, version: int, pacer: Pacer, built_at: tuple) -> Encoded:
    key = partitions_family(version)
    hit = encoded_partitions.lookup(topic, key, built_at)
    if hit is not None:
        return hit
    cluster = broker if broker.multi else None
    logs = list(topic.partitions)  # as they are now: CreatePartitions may add some while this yields
    parts = [array_count(RESPONSE, version, PARTITIONS_PATH, len(logs))]
    for start in range(0, len(logs), PARTITIONS_PER_SLICE):
        if start:
            await pacer.checkpoint()
        entries = partition_entries(logs[start:start + PARTITIONS_PER_SLICE], broker.node_id, cluster)
        parts.append(array_items(RESPONSE, version, PARTITIONS_PATH, entries))
    return encoded_partitions.store(topic, key, built_at, Encoded(b"".join(parts)))


async def _paced_entry(broker, topic, pacer: Pacer, version: int, operations: int) -> Encoded:
    """The topic's entry, encoded (kept while nothing it shows changes), yielding the loop as it goes."""
    if broker.multi and topic.partitions:
        broker.state(topic.partitions[-1])  # placed before the stamp is taken (placing moves its shown_version)
    built_at = encoded_partitions.stamp(broker, topic)
    key = ("metadata-topic", version, operations)
    hit = encoded_partitions.lookup(topic, key, built_at)
    if hit is not None:
        await pacer.step()
        return hit
    entry = topic_entry(topic, broker.node_id, await _encoded_partitions(broker, topic, version, pacer, built_at))
    entry["topic_authorized_operations"] = operations
    encoded = encoded_partitions.store(topic, key, built_at, encode_element(RESPONSE, version, ("topics",), entry))
    await pacer.checkpoint()  # an encode is more than a step's work: look at the clock after each
    return encoded


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

    async def paced(topic):
        return await _paced_entry(broker, topic, pacer, version, ops(topic.name))

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
    multi = broker.multi
    return {
        "throttle_time_ms": 0,
        "brokers": broker.broker_entries(ctx.listener_name) if multi else [broker_entry(broker, ctx)],
        "cluster_id": broker.cluster_id,
        "controller_id": broker.controller_id if multi else broker.node_id,
        "topics": topics,
        "cluster_authorized_operations": ctx.authorized_operations(
            CLUSTER, CLUSTER_NAME, request.get("include_cluster_authorized_operations", False)),
        "error_code": ErrorCode.NONE,
    }


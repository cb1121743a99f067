"""DescribeTopicPartitions (key 75): v0. Topics' partitions, sorted by topic name, paged (KIP-966).

As Kafka's DescribeTopicPartitionsRequestHandler: an empty topic list means every topic; the page
holds at most min(response_partition_limit, max.request.partition.size.limit = 2000) partitions (at
least 1) and ends with next_cursor where the next page starts. A cursor whose topic is not in the
list, or whose partition is negative, is INVALID_REQUEST for every requested topic. Unknown topics
asked by name get UNKNOWN_TOPIC_OR_PARTITION (INVALID_TOPIC_EXCEPTION for an illegal name).
In a cluster (gateway/cluster.py) partitions show their replicas, ISR, offline replicas and leader
epoch; an offline one has leader -1 (Kafka's KIP-966 ELR fields stay empty: no ELR here).
"""

from gateway import encoded_partitions
from gateway.authorized_operations import TOPIC
from gateway.registry import handles
from gateway.security.acl_codes import Operation, ResourceType
from partitions.topics import validate_topic_name
from wire.codec import encode_array, encode_element
from wire.errors import ErrorCode, KafkaError
from wire.messages import APIS
from wire.schema import ZERO_UUID

MAX_REQUEST_PARTITION_SIZE_LIMIT = 2000
RESPONSE = APIS[75].response


def _partition(p, node_id, cluster=None) -> dict:
    if cluster is not None:
        entry = cluster.partition_entry(p)
        entry["error_code"] = ErrorCode.NONE  # DescribeTopicPartitions shows an offline partition by leader -1
        entry["eligible_leader_replicas"], entry["last_known_elr"] = [], []
        return entry
    return {"error_code": ErrorCode.NONE, "partition_index": p.index, "leader_id": node_id,
            "leader_epoch": p.leader_epoch, "replica_nodes": [node_id], "isr_nodes": [node_id],
            "eligible_leader_replicas": [], "last_known_elr": [], "offline_replicas": []}


def _entry(topic, node_id, start, end, cluster=None) -> dict:
    return {"error_code": ErrorCode.NONE, "name": topic.name, "topic_id": topic.topic_id,
            "is_internal": topic.is_internal,
            "partitions": [_partition(p, node_id, cluster) for p in topic.partitions[start:end]],
            "topic_authorized_operations": TOPIC}


def _built_at(broker, topic) -> tuple:
    if broker.multi and topic.partitions:
        broker.state(topic.partitions[-1])  # placed before the stamp is taken (placing moves its shown_version)
    return encoded_partitions.stamp(broker, topic)


def _cached_entry(broker, topic, start, end, operations):
    """The topic's entry for partitions [start, end): the partition array kept encoded per range, and
    with every partition and the constant operations (no authorizer) the whole entry too
    (gateway.encoded_partitions: the invalidation contract)."""
    built_at = _built_at(broker, topic)
    whole = start == 0 and end == len(topic.partitions) and operations == TOPIC
    if whole:
        hit = encoded_partitions.lookup(topic, ("dtp-topic",), built_at)
        if hit is not None:
            return hit
    key = ("dtp", start, end)
    partitions = encoded_partitions.lookup(topic, key, built_at)
    if partitions is None:
        cluster = broker if broker.multi else None
        partitions = encoded_partitions.store(topic, key, built_at, encode_array(
            RESPONSE, 0, ("topics", "partitions"),
            [_partition(p, broker.node_id, cluster) for p in topic.partitions[start:end]]))
    entry = {**_entry(topic, broker.node_id, 0, 0), "partitions": partitions, "topic_authorized_operations": operations}
    if not whole:
        return entry
    return encoded_partitions.store(topic, ("dtp-topic",), built_at,
                                    encode_element(RESPONSE, 0, ("topics",), entry))


def _missing(name: str) -> dict:
    try:
        validate_topic_name(name)
        code = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    except KafkaError:
        code = ErrorCode.INVALID_TOPIC_EXCEPTION
    return {"error_code": code, "name": name, "topic_id": ZERO_UUID, "is_internal": False, "partitions": [],
            "topic_authorized_operations": TOPIC}


def _refused(request) -> dict:
    return {"throttle_time_ms": 0, "next_cursor": None, "topics": [
        {"error_code": ErrorCode.INVALID_REQUEST, "name": t.name, "topic_id": ZERO_UUID, "is_internal": False,
         "partitions": []} for t in request.topics]}


@handles(75, 0, 0)
async def handle_describe_topic_partitions(ctx, request):
    broker = ctx.broker
    logs = broker.logs
    cursor = request.cursor
    cursor_topic = cursor.topic_name if cursor is not None else ""
    fetch_all = not request.topics
    if fetch_all:
        names = [name for name in logs.topics if name >= cursor_topic]
    else:
        names = list({t.name for t in request.topics if t.name >= cursor_topic})
        if cursor is not None and cursor.topic_name not in names:
            return _refused(request)
    if cursor is not None and cursor.partition_index < 0:
        return _refused(request)
    remaining = max(min(MAX_REQUEST_PARTITION_SIZE_LIMIT, request.response_partition_limit), 1)
    denied = ctx.denied(Operation.DESCRIBE, ResourceType.TOPIC, names) if not fetch_all else set()
    if fetch_all and broker.authorizer is not None:  # "every topic" is every topic the principal may DESCRIBE
        names = [n for n in names if n in ctx.authorized(Operation.DESCRIBE, ResourceType.TOPIC, [n])]
    topics, next_cursor = [], None
    for name in sorted(names):
        if remaining == 0:
            next_cursor = {"topic_name": name, "partition_index": 0}
            break
        topic = logs.get(name)
        if name in denied:
            topics.append({**_missing(name), "error_code": ErrorCode.TOPIC_AUTHORIZATION_FAILED})
            continue
        if topic is None:
            if not fetch_all:
                topics.append(_missing(name))
            continue
        start = cursor.partition_index if cursor is not None and name == cursor_topic else 0
        end = min(len(topic.partitions), start + remaining)
        operations = TOPIC if broker.authorizer is None else ctx.authorized_operations(ResourceType.TOPIC, name, True)
        topics.append(_cached_entry(broker, topic, start, max(end, start), operations))  # the principal's bit set
        if end < len(topic.partitions):
            next_cursor = {"topic_name": name, "partition_index": end}
            break
        remaining -= max(end - start, 0)
    return {"throttle_time_ms": 0, "topics": topics, "next_cursor": next_cursor}

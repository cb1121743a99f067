"""Committed offsets: OffsetCommit (key 8): v2-10, OffsetFetch (9): v1-10 (batched groups from v8),
OffsetDelete (47): v0.

v10 of both names topics by topic id (KIP-848): ids are resolved to names on the way in (offsets are
kept by name, as Kafka keeps them) and an unknown id is UNKNOWN_TOPIC_ID for its partitions.

Partitions the broker does not have answer UNKNOWN_TOPIC_OR_PARTITION, as Kafka does; a KIP-848
group's commits and fetches are checked against its member epochs first. OffsetFetch with
require_stable (v7+) answers UNSTABLE_OFFSET_COMMIT for partitions an open transaction has staged
offsets for (TxnOffsetCommit, gateway.txn).
"""

from gateway.clock import now_ms
from gateway.registry import handles
from gateway.security.acl_codes import Operation, ResourceType
from gateway.security.acls_checks import restrict_offsets
from gateway.txn.offsets import mark_unstable
from wire.codec import Encoded, encode_element
from wire.errors import ErrorCode, KafkaError
from wire.messages import APIS
from wire.schema import ZERO_UUID

GROUP_DENIED = ErrorCode.GROUP_AUTHORIZATION_FAILED
TOPIC_DENIED = ErrorCode.TOPIC_AUTHORIZATION_FAILED
UNKNOWN_TOPIC_ID = ErrorCode.UNKNOWN_TOPIC_ID
UNKNOWN_PARTITION = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
OFFSET_COMMIT_KEY = 8
BATCHED_GROUPS = 8  # OffsetFetch v8+: several groups per request
TOPIC_IDS_VERSION = 10  # OffsetCommit and OffsetFetch v10+: topics by id


def _name_topics(logs, topics, version) -> None:
    """v10+: give each requested topic the name its id has here (None for an unknown id)."""
    if version >= TOPIC_IDS_VERSION and topics is not None:
        for t in topics:
            topic = logs.get_by_id(t.topic_id)
            t.name = topic.name if topic is not None else None


class _Answer:
    """One topic of the OffsetCommit answer: its partitions' indexes and codes, in request order."""

    __slots__ = ("name", "topic_id", "indexes", "codes")

    def __init__(self, topic, code) -> None:
        self.name, self.topic_id = topic["name"] or "", topic.get("topic_id", ZERO_UUID)
        self.indexes = [p["partition_index"] for p in topic["partitions"]]
        self.codes = [code] * len(self.indexes)


def _sort_out(logs, topics, denied) -> tuple[list[_Answer], list[dict], list[tuple[list, list[int]]]]:
    """One pass over the request: (the answer in request order, every partition UNKNOWN_TOPIC_OR_PARTITION
    until the coordinator says otherwise; the topics whose partitions exist, in the coordinator's shape;
    for each of those, its answer's codes and the positions in them of the partitions given)."""
    answers, known, slots = [], [], []
    for t in topics:
        name = t["name"]
        if name is None or name in denied:  # an unknown topic id (v10+), or no READ on the topic
            answers.append(_Answer(t, UNKNOWN_TOPIC_ID if name is None else TOPIC_DENIED))
            continue
        answer = _Answer(t, UNKNOWN_PARTITION)
        answers.append(answer)
        log_topic = logs.get(name)
        count = 0 if log_topic is None else len(log_topic.partitions)
        positions = [i for i, index in enumerate(answer.indexes) if 0 <= index < count]
        if positions:
            partitions = t["partitions"]
            if len(positions) < len(partitions):
                partitions = [partitions[i] for i in positions]
            known.append({"name": name, "partitions": partitions})
            slots.append((answer.codes, positions))
    return answers, known, slots


# Encoded answer entries (partition index, error code) by (version, index, code): most commits answer
# NONE for the same partitions every time. Bounded; past the bound entries are encoded each time.
ANSWER_CACHE_ENTRIES = 4096
_ENCODED_ANSWERS: dict[tuple[int, int, int], Encoded] = {}


def _response(ctx, answers: list[_Answer]) -> dict:
    """The OffsetCommit response. Partition entries come from _ENCODED_ANSWERS, except while a fault could
    fire on OffsetCommit: gateway.faults.partial merges answers by reading their entries as dicts."""
    faults = getattr(ctx.broker, "faults", None)
    if faults is not None and faults.wants(OFFSET_COMMIT_KEY):
        return {"throttle_time_ms": 0, "topics": [{"name": a.name, "topic_id": a.topic_id, "partitions": [
            {"partition_index": i, "error_code": c} for i, c in zip(a.indexes, a.codes)]} for a in answers]}
    version = ctx.api_version
    cached = _ENCODED_ANSWERS.get
    topics = []
    for a in answers:
        entries = []
        for index, code in zip(a.indexes, a.codes):
            entry = cached((version, index, code))
            if entry is None:
                entry = encode_element(APIS[OFFSET_COMMIT_KEY].response, version, ("topics", "partitions"),
                                       {"partition_index": index, "error_code": code})
                if len(_ENCODED_ANSWERS) < ANSWER_CACHE_ENTRIES:
                    _ENCODED_ANSWERS[version, index, code] = entry
            entries.append(entry)
        topics.append({"name": a.name, "topic_id": a.topic_id, "partitions": entries})
    return {"throttle_time_ms": 0, "topics": topics}


@handles(OFFSET_COMMIT_KEY, 2, 10)
async def handle_offset_commit(ctx, request):
    broker = ctx.broker
    topics = request.topics
    _name_topics(broker.logs, topics, ctx.api_version)
    group_id = request.group_id
    if not ctx.authorize(Operation.READ, ResourceType.GROUP, group_id):
        return _response(ctx, [_Answer(t, GROUP_DENIED if t["name"] is not None else UNKNOWN_TOPIC_ID)
                               for t in topics])
    denied = ctx.denied(Operation.READ, ResourceType.TOPIC, {t["name"] for t in topics})
    answers, known, slots = _sort_out(broker.logs, topics, denied)
    epoch = request.generation_id_or_member_epoch
    retention = request.get("retention_time_ms", -1)
    if broker.consumer_groups.consumer_group(group_id) is not None:
        try:
            broker.consumer_groups.validate_offset_commit(group_id, request.member_id, epoch,
                                                          api_version=ctx.api_version)
        except KafkaError as exc:
            for codes, positions in slots:
                for i in positions:
                    codes[i] = exc.code
            return _response(ctx, answers)
        answered = broker.groups.commit_offset_codes(group_id=group_id, topics=known, now_ms=now_ms(),
                                                     retention_time_ms=retention)
    else:
        answered = broker.groups.offset_commit_codes(
            group_id=group_id, generation_id=epoch, member_id=request.member_id,
            group_instance_id=request.get("group_instance_id"), topics=known, now_ms=now_ms(),
            retention_time_ms=retention)
    for (codes, positions), topic_codes in zip(slots, answered):  # answered in the order given
        if len(positions) == len(codes):
            codes[:] = topic_codes
        else:
            for i, code in zip(positions, topic_codes):
                codes[i] = code
    return _response(ctx, answers)


def _fetch_group(ctx, group_id: str, topics, member_id=None, member_epoch=-1, require_stable=False) -> dict:
    broker = ctx.broker
    if not ctx.authorize(Operation.DESCRIBE, ResourceType.GROUP, group_id):
        return {"group_id": group_id, "error_code": GROUP_DENIED, "topics": []}
    if broker.consumer_groups.consumer_group(group_id) is not None:
        try:
            broker.consumer_groups.validate_offset_fetch(group_id, member_id, member_epoch)
        except KafkaError as exc:
            return {"group_id": group_id, "error_code": exc.code, "topics": []}
    _name_topics(broker.logs, topics, ctx.api_version)
    wanted = None if topics is None else [{"name": t.name, "partition_indexes": t.partition_indexes}
                                          for t in topics if t.name is not None]
    response = broker.groups.offset_fetch(group_id=group_id, topics=wanted)
    restrict_offsets(ctx, response, topics is None)
    if require_stable:
        mark_unstable(broker.txn, group_id, response["topics"])
    if ctx.api_version >= TOPIC_IDS_VERSION:
        _add_topic_ids(broker.logs, topics, response)
    return {"group_id": group_id, **response}


def _add_topic_ids(logs, requested, response) -> None:
    """v10+: answer by topic id; committed offsets of a topic that no longer exists have no id to go by."""
    answered = []
    for t in response["topics"]:
        topic = logs.get(t["name"])
        if topic is not None:
            answered.append({**t, "topic_id": topic.topic_id})
    for t in requested or []:
        if t.name is None:
            answered.append({"name": "", "topic_id": t.topic_id, "partitions": [
                {"partition_index": i, "committed_offset": -1, "committed_leader_epoch": -1, "metadata": "",
                 "error_code": ErrorCode.UNKNOWN_TOPIC_ID} for i in t.partition_indexes]})
    response["topics"] = answered


@handles(9, 1, 10)
async def handle_offset_fetch(ctx, request):
    if ctx.api_version >= BATCHED_GROUPS:
        groups = [_fetch_group(ctx, g.group_id, g.topics, g.get("member_id"), g.get("member_epoch", -1),
                               request.require_stable) for g in request.groups]
        return {"throttle_time_ms": 0, "groups": groups}
    result = _fetch_group(ctx, request.group_id, request.topics, require_stable=request.get("require_stable", False))
    return {"throttle_time_ms": 0, "topics": result["topics"], "error_code": result["error_code"]}


@handles(47, 0, 0)
async def handle_offset_delete(ctx, request):
    if not ctx.authorize(Operation.DELETE, ResourceType.GROUP, request.group_id):
        return {"throttle_time_ms": 0, "error_code": GROUP_DENIED, "topics": []}
    denied = ctx.denied(Operation.READ, ResourceType.TOPIC, {t.name for t in request.topics})
    topics = [{"name": t.name, "partitions": [{"partition_index": p.partition_index} for p in t.partitions]}
              for t in request.topics if t.name not in denied]
    response = ctx.broker.groups.offset_delete(group_id=request.group_id, topics=topics, now_ms=now_ms())
    if denied and response["error_code"] == ErrorCode.NONE:
        response["topics"] += [{"name": t.name, "partitions": [{"partition_index": p.partition_index, "error_code":
                                ErrorCode.TOPIC_AUTHORIZATION_FAILED} for p in t.partitions]}
                               for t in request.topics if t.name in denied]
    return {"throttle_time_ms": 0, **response}

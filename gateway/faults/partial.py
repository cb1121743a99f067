"""A fault with a `topic` (and maybe `partition`) matcher on an API whose errors are per partition
(Produce, Fetch, ListOffsets, OffsetCommit, OffsetFetch v0-7, TxnOffsetCommit, AddPartitionsToTxn
v0-3, DeleteRecords, OffsetForLeaderEpoch, ShareFetch ...): only the matched partitions get the
injected error, as a real broker that does not lead them would answer; the rest of the request is
handled for real.

Generic from the declarations: the request's top-level array of topics (elements named by `name`/
`topic`/`topic_name` or `topic_id`) with a partitions array under each; the response array that
answers it (gateway.faults.responses' pairing) with an `error_code`-like field per partition. The
handler runs on the request minus the matched partitions (so a Produce, OffsetCommit, DeleteRecords
... never applies what the client is told failed), the matched partitions get the error answer, and
the two are merged in the request's order of topics and partitions. The top-level `error_code`
stays the handler's (none, when every partition matched): the errors are the partitions'.
A request with no such arrays (or nested ones, as OffsetFetch v8+) is answered as a whole.
"""

from __future__ import annotations

from collections.abc import Callable

from wire.schema import Field, Message

from gateway.faults.requests import PARTITION_FIELDS, TOPIC_NAME_FIELDS
from gateway.faults.responses import _counterpart, _present, error_response


class Shape:
    """Where the topics and partitions are in one API version's request and response."""

    def __init__(self, topics: Field, partitions: Field, partition_key: str | None, answer: Field,
                 answer_partitions: Field) -> None:
        self.topics, self.partitions, self.partition_key = topics, partitions, partition_key
        self.answer, self.answer_partitions = answer, answer_partitions


def _is_error(f: Field) -> bool:
    return f.type == "int16" and f.tag is None and (f.name == "error_code" or f.name.endswith("_error_code"))


def _partitions_of(topic_array: Field, version: int) -> tuple[Field, str | None] | None:
    for sub in _present(topic_array.fields, version):
        if not sub.is_array or "partition" not in sub.name:
            continue
        if sub.is_struct:
            key = next((n for n in PARTITION_FIELDS if any(x.name == n for x in _present(sub.fields, version))), None)
            return (sub, key) if key is not None else None
        return (sub, None) if sub.element_type == "int32" else None
    return None


def shape(request_message: Message, response_message: Message, version: int) -> Shape | None:
    """The per-partition shape of this API version, or None when its errors are not per partition."""
    for f in _present(request_message.fields, version):
        if not (f.is_array and f.is_struct and "topic" in f.name and not f.name.startswith("forgotten")):
            continue
        parts = _partitions_of(f, version)
        if parts is None:
            continue
        for rf in _present(response_message.fields, version):
            if not (rf.is_array and rf.is_struct) or _counterpart(rf, request_message.fields, version) is not f:
                continue
            for rp in _present(rf.fields, version):
                if (rp.is_array and rp.is_struct and _counterpart(rp, f.fields, version) is parts[0]
                        and any(_is_error(x) for x in _present(rp.fields, version))):
                    return Shape(f, parts[0], parts[1], rf, rp)
    return None


def _topic_key(element) -> tuple:
    name = next((element.get(n) for n in TOPIC_NAME_FIELDS if element.get(n) is not None), None)
    if name is not None:
        return ("name", name)
    topic_id = element.get("topic_id")
    return ("id", bytes(topic_id)) if topic_id is not None else ("none", None)


def _partition_of(entry, key: str | None) -> int | None:
    if key is None and not isinstance(entry, dict):
        return entry
    return next((entry.get(n) for n in PARTITION_FIELDS if entry.get(n) is not None), None)


def split(s: Shape, request, topic: str, partition: int | None, topic_name: Callable[[bytes], str | None]):
    """(the request without the matched partitions, the request with only them); None: nothing matched."""
    rest_topics, matched_topics = [], []
    for element in request.get(s.topics.name) or ():
        name = next((element.get(n) for n in TOPIC_NAME_FIELDS if element.get(n) is not None), None)
        if name is None and element.get("topic_id") is not None:
            name = topic_name(bytes(element["topic_id"]))
        partitions = element.get(s.partitions.name) or []
        if name != topic:
            rest_topics.append(element)
            continue
        hit = [p for p in partitions if partition is None or _partition_of(p, s.partition_key) == partition]
        miss = [p for p in partitions if not (partition is None or _partition_of(p, s.partition_key) == partition)]
        if hit:
            matched_topics.append(_with(element, s.partitions.name, hit))
        if miss:
            rest_topics.append(_with(element, s.partitions.name, miss))
    if not matched_topics:
        return None
    return _with(request, s.topics.name, rest_topics), _with(request, s.topics.name, matched_topics)


def _with(obj, name: str, value):
    copy = type(obj)(obj) if isinstance(obj, dict) else dict(obj)
    copy[name] = value
    return copy


def injected(api, version: int, matched_request, error: int, message: str | None) -> dict | None:
    """The error answer for the matched partitions, its top-level error fields cleared."""
    answer = error_response(api.key, api.request, api.response, version, matched_request, error, message)
    if answer is not None:
        for f in _present(api.response.fields, version):
            if _is_error(f):
                answer[f.name] = 0
    return answer


def merge(s: Shape, request, handled: dict | None, answer: dict | None) -> dict | None:
    """The handler's answer with the injected entries put in, topics and partitions in the request's order."""
    if handled is None or answer is None:
        return handled if answer is None else (answer if handled is None else handled)
    part_key = _answer_partition_key(s)
    done = {_topic_key(t): t for t in handled.get(s.answer.name) or ()}
    fake = {_topic_key(t): t for t in answer.get(s.answer.name) or ()}
    topics, seen = [], set()
    for element in request.get(s.topics.name) or ():
        key = _topic_key(element)
        if key in seen:
            continue
        seen.add(key)
        real, injected_topic = done.get(key), fake.get(key)
        if injected_topic is None:
            if real is not None:
                topics.append(real)
            continue
        if real is None:
            topics.append(injected_topic)
            continue
        by_index = {e.get(part_key): e for e in real.get(s.answer_partitions.name) or ()}
        by_index.update({e.get(part_key): e for e in injected_topic.get(s.answer_partitions.name) or ()})
        order = [_partition_of(p, s.partition_key) for p in element.get(s.partitions.name) or ()]
        ordered = [by_index.pop(i) for i in order if i in by_index] + list(by_index.values())
        topics.append(_with(real, s.answer_partitions.name, ordered))
    topics.extend(t for k, t in done.items() if k not in seen)  # a fetch session's own partitions
    return _with(handled, s.answer.name, topics)


def _answer_partition_key(s: Shape) -> str:
    names = [f.name for f in s.answer_partitions.fields]
    return next((n for n in PARTITION_FIELDS if n in names), "partition_index")

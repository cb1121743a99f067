"""What the fault matchers look at in a decoded request, read generically from its declaration.

Topics: any array of structs named for topics (`topics`, `topic_data`, also one level down, as in
OffsetFetch v8's `groups[].topics` or AddPartitionsToTxn v4's `transactions[].topics`) whose
elements carry a topic name (`name`, `topic`, `topic_name`) or a `topic_id` (resolved to its name),
with the partitions under them (`[]int32` or structs with `partition_index`/`partition`/`index`).
Groups: `group_id` fields, a `groups` array (of strings or of structs with `group_id`), and
FindCoordinator's group keys. Nothing here is per API.
"""

from __future__ import annotations

from collections.abc import Callable

from wire.schema import Field, Message

from gateway.faults.kinds import RequestFacts

TOPIC_NAME_FIELDS = ("name", "topic", "topic_name")
PARTITION_FIELDS = ("partition_index", "partition", "index")
_FIND_COORDINATOR = 10


def request_facts(message: Message, version: int, request, *, api_key: int, broker: int, client_id: str | None,
                  topic_name: Callable[[bytes], str | None]) -> RequestFacts:
    topics: dict[str, set[int] | None] = {}
    groups: set[str] = set()
    _walk(message.fields, version, request, topics, groups, topic_name, depth=0)
    if api_key == _FIND_COORDINATOR and getattr(request, "key_type", 0) == 0:
        key = getattr(request, "key", None)
        if key:
            groups.add(key)
        groups.update(getattr(request, "coordinator_keys", None) or ())
    return RequestFacts(api_key, broker, client_id,
                        {t: (frozenset(p) if p is not None else None) for t, p in topics.items()}, frozenset(groups))


def _present(fields, version):
    return [f for f in fields if f.present_in(version)]


def _walk(fields, version, obj, topics, groups, topic_name, depth: int) -> None:
    for f in _present(fields, version):
        value = getattr(obj, f.name, None)
        if value is None:
            continue
        if f.name == "group_id" and f.type == "string":
            groups.add(value)
        elif f.name == "groups" and f.is_array and not f.is_struct:
            groups.update(value)
        elif f.is_array and f.is_struct:
            if "topic" in f.name and not f.name.startswith("forgotten"):
                for element in value:
                    _topic(f, version, element, topics, topic_name)
            elif depth == 0:  # one level down: groups[].topics, transactions[].topics
                for element in value:
                    _walk(f.fields, version, element, topics, groups, topic_name, depth + 1)


def _topic(f: Field, version: int, element, topics, topic_name) -> None:
    present = {x.name: x for x in _present(f.fields, version)}
    name = next((getattr(element, n) for n in TOPIC_NAME_FIELDS if n in present and present[n].type == "string"), None)
    if name is None and "topic_id" in present:
        name = topic_name(bytes(element.topic_id))
    if name is None:
        return
    partitions = None
    for sub in present.values():
        if not sub.is_array or "partition" not in sub.name:
            continue
        value = getattr(element, sub.name, None) or ()
        if sub.is_struct:
            key = next((n for n in PARTITION_FIELDS if any(x.name == n for x in _present(sub.fields, version))), None)
            if key is None:
                continue
            partitions = {getattr(p, key) for p in value}
        elif sub.element_type == "int32":
            partitions = set(value)
        break
    if partitions is None:
        topics[name] = None  # the topic as a whole
    elif topics.get(name, set()) is not None:
        topics[name] = topics.get(name, set()) | partitions

"""Consumer groups (classic and KIP-848): state, members, assignments, committed offsets and lag."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from gateway.groups.consumer_protocol import CONSUMER_PROTOCOL_TYPE

_INT16 = struct.Struct(">h")
_INT32 = struct.Struct(">i")


@dataclass(frozen=True)
class MemberView:
    member_id: str
    client_id: str
    client_host: str
    instance_id: str | None
    assignment: dict[str, list[int]]  # topic -> partitions


@dataclass(frozen=True)
class OffsetView:
    topic: str
    partition: int
    committed: int
    log_end: int  # the partition's high watermark (what kafka_exporter measures lag against)
    lag: int | None  # None when the partition is gone
    member_id: str | None  # the member assigned it, if any


@dataclass(frozen=True)
class GroupSummary:
    group_id: str
    group_type: str  # classic, consumer (KIP-848) or share
    protocol_type: str
    state: str
    members: int
    lag: int


@dataclass(frozen=True)
class GroupView:
    group_id: str
    group_type: str
    protocol_type: str
    state: str
    protocol: str | None
    generation: int
    members: list[MemberView]
    offsets: list[OffsetView]
    lag: int


def classic_assignment(data: bytes) -> dict[str, list[int]]:
    """A ConsumerProtocolAssignment's topic partitions ({} for bytes that are not one)."""
    try:
        pos = 2  # version
        (count,) = _INT32.unpack_from(data, pos)
        pos += 4
        topics: dict[str, list[int]] = {}
        for _ in range(max(count, 0)):
            (size,) = _INT16.unpack_from(data, pos)
            pos += 2
            name = bytes(data[pos:pos + size]).decode("utf-8")
            pos += size
            (n,) = _INT32.unpack_from(data, pos)
            pos += 4
            topics[name] = sorted(_INT32.unpack_from(data, pos + 4 * i)[0] for i in range(max(n, 0)))
            pos += 4 * max(n, 0)
        return topics
    except (struct.error, UnicodeDecodeError, ValueError):
        return {}


def _topic_names(broker, assignment) -> dict[str, list[int]]:
    """A KIP-848 assignment (topic id -> partitions) by topic name."""
    named = {}
    for topic_id, partitions in assignment.items():
        topic = broker.logs.get_by_id(topic_id)
        named[topic.name if topic is not None else topic_id.hex()] = sorted(partitions)
    return named


def _members(broker, group) -> list[MemberView]:
    members = []
    for member in group.members.values():
        if hasattr(member, "assigned_partitions"):  # KIP-848
            assignment = _topic_names(broker, member.assigned_partitions)
            instance = member.instance_id
        elif hasattr(member, "assignment") and isinstance(member.assignment, dict):  # share group
            assignment = _topic_names(broker, member.assignment)
            instance = None
        else:
            assignment = classic_assignment(member.assignment) if group.protocol_type == CONSUMER_PROTOCOL_TYPE \
                else {}
            instance = member.group_instance_id
        members.append(MemberView(member.member_id, member.client_id, member.client_host, instance, assignment))
    return members


def offsets(broker, group_id: str, members: list[MemberView] = ()) -> list[OffsetView]:
    """The group's committed offsets with each partition's lag (high watermark - committed)."""
    owner = {(t, p): m.member_id for m in members for t, ps in m.assignment.items() for p in ps}
    views = []
    for topic in broker.groups.offsets.fetch(group_id, None):
        for p in topic["partitions"]:
            committed = p["committed_offset"]
            if committed < 0:
                continue
            log = broker.logs.get(topic["name"])
            log = log.partition(p["partition_index"]) if log is not None else None
            end = log.high_watermark if log is not None else -1
            views.append(OffsetView(topic["name"], p["partition_index"], committed, end,
                                    max(0, end - committed) if log is not None else None,
                                    owner.get((topic["name"], p["partition_index"]))))
    return sorted(views, key=lambda v: (v.topic, v.partition))


def list_groups(broker, *, include_share: bool = False) -> list[GroupSummary]:
    summaries = []
    for group_id in sorted(broker.groups.groups):
        group = broker.groups.groups[group_id]
        if group.group_type == "share" and not include_share:
            continue
        lag = sum(o.lag or 0 for o in offsets(broker, group_id)) if group.group_type != "share" else 0
        summaries.append(GroupSummary(group_id, group.group_type, group.protocol_type or "", group.state_name,
                                      len(group.members), lag))
    return summaries


def group(broker, group_id: str) -> GroupView | None:
    g = broker.groups.groups.get(group_id)
    if g is None or g.group_type == "share":
        return None
    members = _members(broker, g)
    committed = offsets(broker, group_id, members)
    generation = getattr(g, "generation_id", getattr(g, "group_epoch", 0))
    return GroupView(group_id, g.group_type, g.protocol_type or "", g.state_name, getattr(g, "protocol_name", None),
                     generation, members, committed, sum(o.lag or 0 for o in committed))

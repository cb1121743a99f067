"""A share group (KIP-932) and its members, and Kafka's `simple` share-group assignor.

Share groups live in the same group-id space as classic and consumer groups (one `groups` dict).
Unlike a consumer group, several members may hold the same partition, so there is no revocation:
the target assignment is the assignment, and a member's epoch is the group's once it heartbeats.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gateway.groups.group import Group

SHARE_PROTOCOL_TYPE = "share"
ASSIGNOR_NAME = "simple"

Assignment = dict[bytes, frozenset[int]]  # topic id -> partitions


class ShareGroupState(enum.StrEnum):
    EMPTY = "Empty"
    STABLE = "Stable"
    DEAD = "Dead"


@dataclass(slots=True)
class ShareMember:
    member_id: str
    member_epoch: int = 0
    rack_id: str | None = None
    client_id: str = ""
    client_host: str = ""
    subscribed_topic_names: tuple[str, ...] = ()
    assignment: Assignment = field(default_factory=dict)


class ShareGroup(Group):
    group_type = "share"

    def __init__(self, group_id: str) -> None:
        super().__init__(group_id)
        self.protocol_type = SHARE_PROTOCOL_TYPE
        self.members: dict[str, ShareMember] = {}
        self.group_epoch = 0
        self.assignment_epoch = 0
        self.subscription_metadata: dict[str, tuple[bytes, int]] = {}  # topic name -> (id, partitions)

    @property
    def state_name(self) -> str:
        return str(ShareGroupState.EMPTY if not self.members else ShareGroupState.STABLE)

    def is_empty(self) -> bool:
        return not self.members

    def is_subscribed_to_topic(self, topic: str) -> bool:
        return any(topic in m.subscribed_topic_names for m in self.members.values())

    def subscribed_topic_names(self) -> set[str]:
        return {name for m in self.members.values() for name in m.subscribed_topic_names}


def java_string_hash(text: str) -> int:
    """Java's String.hashCode (UTF-16 code units, 32-bit wrap): the simple assignor hashes member ids."""
    h = 0
    data = text.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + ((data[i] << 8) | data[i + 1])) & 0xFFFFFFFF
    return h - (1 << 32) if h & 0x80000000 else h


def _java_abs_mod(h: int, n: int) -> int:
    """Math.abs(h % n) with Java's truncated remainder."""
    r = abs(h) % n
    return r


def simple_assign(members: Mapping[str, Iterable[tuple[bytes, int]]],
                  current: Mapping[str, Assignment]) -> dict[str, Assignment]:
    """Kafka's SimpleAssignor: members -> the (topic id, partition) they may be given (their subscribed
    topics' partitions, in topic then partition order); current: the assignment they hold.

    Each member is hashed to one partition; then members keep current partitions up to the balanced
    count ceil(partitions / members) where hashing put nobody; then partitions still without a member
    go round-robin. Every partition gets a member, and with more members than partitions a partition
    gets several (that is what share groups are for)."""
    order = sorted(members)
    targets = {m: list(dict.fromkeys(members[m])) for m in order}
    all_partitions = list(dict.fromkeys(tp for m in order for tp in targets[m]))
    if not order or not all_partitions:
        return {m: {} for m in order}
    desired = -(-len(all_partitions) // len(order))
    final: dict[str, set[tuple[bytes, int]]] = {m: set() for m in order}
    hashed: dict[tuple[bytes, int], list[str]] = {}
    for m in order:
        if targets[m]:
            tp = targets[m][_java_abs_mod(java_string_hash(m), len(targets[m]))]
            hashed.setdefault(tp, []).append(m)
            final[m].add(tp)
    covered = set(hashed)
    for m in order:
        allowed = set(targets[m])
        for topic_id, partitions in sorted(current.get(m, {}).items()):
            for p in sorted(partitions):
                tp = (topic_id, p)
                if tp in allowed and tp not in hashed and len(final[m]) < desired:
                    final[m].add(tp)
                    covered.add(tp)
    unassigned = [tp for tp in all_partitions if tp not in covered]
    i = 0
    for tp in unassigned:
        candidates = [m for m in order if tp in set(targets[m])]
        if not candidates:
            continue
        best = min(candidates, key=lambda m: (len(final[m]) > desired, (order.index(m) - i) % len(order)))
        final[best].add(tp)
        i = order.index(best) + 1
    result: dict[str, Assignment] = {}
    for m in order:
        by_topic: dict[bytes, set[int]] = {}
        for topic_id, p in final[m]:
            by_topic.setdefault(topic_id, set()).add(p)
        result[m] = {t: frozenset(ps) for t, ps in by_topic.items()}
    return result

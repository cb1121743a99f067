"""A consumer-protocol group (KIP-848): members, epochs, subscriptions and the target assignment.

The group epoch counts changes that call for a new assignment (a member joins, leaves or changes its
subscription; a subscribed topic appears, disappears or gets more partitions). The assignment epoch is
the group epoch the target assignment was computed for; members then reconcile towards it, each at
its own member epoch.
"""

from __future__ import annotations

import enum
from collections import Counter
from typing import Iterable

from gateway.groups.consumer_protocol import CONSUMER_PROTOCOL_TYPE
from gateway.groups.group import Group
from gateway.groups.kip848.assignors import Assignment, Assignor, MemberSubscription
from gateway.groups.kip848.member import ConsumerGroupMember
from gateway.groups.kip848.regex import matching
from gateway.groups.kip848.topics import TopicInfo, TopicMetadata


class ConsumerGroupState(enum.StrEnum):
    EMPTY = "Empty"
    ASSIGNING = "Assigning"  # the group epoch moved past the target assignment's
    RECONCILING = "Reconciling"  # some member has not reached the target assignment yet
    STABLE = "Stable"
    DEAD = "Dead"


class ConsumerGroup(Group):
    group_type = "consumer"

    def __init__(self, group_id: str) -> None:
        super().__init__(group_id)
        self.protocol_type = CONSUMER_PROTOCOL_TYPE
        self.group_epoch = 0
        self.assignment_epoch = 0
        self.members: dict[str, ConsumerGroupMember] = {}
        self.target_assignment: dict[str, Assignment] = {}
        self.subscription_metadata: dict[str, TopicInfo] = {}  # every subscribed topic that exists
        self.resolved_regexes: dict[str, frozenset[str]] = {}  # regex -> the topic names it matches
        self._resolved_against: frozenset[str] = frozenset()  # the topic names resolved_regexes has seen
        self._static_members: dict[str, str] = {}  # instance id -> member id
        self._partition_epochs: dict[tuple[bytes, int], int] = {}  # held partitions -> holder's epoch

    @property
    def state(self) -> ConsumerGroupState:
        if not self.members:
            return ConsumerGroupState.EMPTY
        if self.group_epoch > self.assignment_epoch:
            return ConsumerGroupState.ASSIGNING
        if any(not m.is_reconciled_to(self.assignment_epoch) for m in self.members.values()):
            return ConsumerGroupState.RECONCILING
        return ConsumerGroupState.STABLE

    @property
    def state_name(self) -> str:
        return str(self.state)

    def is_empty(self) -> bool:
        return not self.members

    def static_member(self, instance_id: str) -> ConsumerGroupMember | None:
        member_id = self._static_members.get(instance_id)
        return None if member_id is None else self.members.get(member_id)

    def partition_epoch(self, topic_id: bytes, partition: int) -> int:
        """The epoch of the member holding the partition (assigned or being revoked), -1 if free."""
        return self._partition_epochs.get((topic_id, partition), -1)

    def update_member(self, member: ConsumerGroupMember) -> None:
        old = self.members.get(member.member_id)
        if old is not None:
            self._release(old)
        self.members[member.member_id] = member
        if member.instance_id is not None:
            self._static_members[member.instance_id] = member.member_id
        for tp in member.owned():
            self._partition_epochs[tp] = member.member_epoch

    def remove_member(self, member_id: str) -> None:
        member = self.members.pop(member_id)
        self._release(member)
        self.target_assignment.pop(member_id, None)
        if member.instance_id is not None and self._static_members.get(member.instance_id) == member_id:
            del self._static_members[member.instance_id]

    def replace_static_member(self, old_member_id: str, new: ConsumerGroupMember) -> None:
        """A static member rejoined under a new member id: it takes over the old one's place."""
        target = self.target_assignment.get(old_member_id)
        self.remove_member(old_member_id)
        self.update_member(new)
        if target is not None:
            self.target_assignment[new.member_id] = target

    def subscribed_topic_names(self) -> set[str]:
        names: set[str] = set()
        for member in self.members.values():
            names.update(member.subscribed_topic_names)
            if member.subscribed_topic_regex:
                names.update(self.resolved_regexes.get(member.subscribed_topic_regex, ()))
        return names

    def resolve_regexes(self, topic_names: Iterable[str]) -> None:
        """Match each member's regex against the topics, incrementally: a regex already resolved is
        matched only against topics created since (100,000 topics cost one set difference per
        heartbeat, not 100,000 matches)."""
        regexes = {m.subscribed_topic_regex for m in self.members.values() if m.subscribed_topic_regex}
        if not regexes:
            self.resolved_regexes, self._resolved_against = {}, frozenset()
            return
        names = frozenset(topic_names)
        previous = self._resolved_against
        if names == previous and regexes == self.resolved_regexes.keys():
            return
        created = list(names - previous)
        resolved = {}
        for regex in regexes:
            known = self.resolved_regexes.get(regex)
            if known is None:
                resolved[regex] = frozenset(matching(regex, names))
            else:
                resolved[regex] = (known & names) | frozenset(matching(regex, created))
        self.resolved_regexes, self._resolved_against = resolved, names

    def compute_subscription_metadata(self, topics: TopicMetadata) -> dict[str, TopicInfo]:
        metadata = {}
        for name in sorted(self.subscribed_topic_names()):
            info = topics.topic(name)
            if info is not None:
                metadata[name] = info
        return metadata

    def subscribed_topic_ids(self, member: ConsumerGroupMember) -> frozenset[bytes]:
        names = set(member.subscribed_topic_names)
        if member.subscribed_topic_regex:
            names.update(self.resolved_regexes.get(member.subscribed_topic_regex, ()))
        return frozenset(self.subscription_metadata[n].topic_id for n in names if n in self.subscription_metadata)

    def preferred_assignor(self) -> str | None:
        """The server assignor most members asked for (ties: the first name), None if nobody asked."""
        counts = Counter(m.server_assignor_name for m in self.members.values() if m.server_assignor_name)
        if not counts:
            return None
        return min(counts, key=lambda name: (-counts[name], name))

    def compute_target_assignment(self, assignor: Assignor) -> None:
        """A new target assignment for the current group epoch."""
        members = {
            member_id: MemberSubscription(self.subscribed_topic_ids(member), self.target_assignment.get(member_id, {}))
            for member_id, member in self.members.items()
        }
        counts = {info.topic_id: info.num_partitions for info in self.subscription_metadata.values()}
        self.target_assignment = dict(assignor(members, counts))
        self.assignment_epoch = self.group_epoch

    def _release(self, member: ConsumerGroupMember) -> None:
        for tp in member.owned():
            if self._partition_epochs.get(tp) == member.member_epoch:
                del self._partition_epochs[tp]

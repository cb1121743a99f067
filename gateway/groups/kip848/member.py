"""A consumer group member and its reconciliation towards the target assignment (KIP-848).

A member converges on its target in steps, one per heartbeat. Partitions it holds but must give up
are first revoked: the member stays in its epoch (UNREVOKED_PARTITIONS) until a heartbeat's owned
topic_partitions no longer lists them. Only then does it move to the target epoch and get the new
partitions, minus those another member still holds (UNRELEASED_PARTITIONS), which it gets once
their old owner has revoked them. So a partition is never held by two members at once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable

from gateway.groups.kip848.assignors import Assignment

LEAVE_GROUP_MEMBER_EPOCH = -1
LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2


class MemberState(enum.Enum):
    STABLE = "stable"  # holds its whole target (or waits for a newer one)
    UNREVOKED_PARTITIONS = "unrevoked_partitions"  # must revoke partitions before it can move on
    UNRELEASED_PARTITIONS = "unreleased_partitions"  # waits for partitions other members still hold


@dataclass(frozen=True)
class ConsumerGroupMember:
    member_id: str
    member_epoch: int = 0
    previous_member_epoch: int = -1
    state: MemberState = MemberState.STABLE
    instance_id: str | None = None
    rack_id: str | None = None
    rebalance_timeout_ms: int = -1
    client_id: str = ""
    client_host: str = ""
    subscribed_topic_names: tuple[str, ...] = ()
    subscribed_topic_regex: str = ""  # "" = none, as in Kafka
    server_assignor_name: str | None = None
    assigned_partitions: Assignment = field(default_factory=dict)
    partitions_pending_revocation: Assignment = field(default_factory=dict)

    def is_reconciled_to(self, target_assignment_epoch: int) -> bool:
        return self.state is MemberState.STABLE and self.member_epoch == target_assignment_epoch

    def owned(self) -> Iterable[tuple[bytes, int]]:
        """Every partition the member holds, including those it has yet to revoke."""
        for assignment in (self.assigned_partitions, self.partitions_pending_revocation):
            for topic_id, partitions in assignment.items():
                for partition in partitions:
                    yield topic_id, partition


def with_member_epoch(member: ConsumerGroupMember, epoch: int, **changes) -> ConsumerGroupMember:
    """Kafka's updateMemberEpoch: the epoch held so far becomes the previous one."""
    return replace(member, member_epoch=epoch, previous_member_epoch=member.member_epoch, **changes)


def reconcile(member: ConsumerGroupMember, target_assignment_epoch: int, target: Assignment,
              partition_epoch: Callable[[bytes, int], int],
              owned_topic_partitions: Iterable | None) -> ConsumerGroupMember:
    """The member's next state towards the target, given what it reported owning (None = unknown).

    `partition_epoch(topic_id, partition)` is the epoch of the member that holds the partition now
    (assigned or pending revocation), or -1 when nobody holds it.
    """
    if member.is_reconciled_to(target_assignment_epoch):
        return member
    if member.state is MemberState.UNREVOKED_PARTITIONS and _owns_any(owned_topic_partitions,
                                                                      member.partitions_pending_revocation):
        return member
    return _next_assignment(member, target_assignment_epoch, target, partition_epoch, owned_topic_partitions)


def _next_assignment(member, target_assignment_epoch, target, partition_epoch, owned_topic_partitions):
    assigned: dict[bytes, frozenset[int]] = {}
    revoking: dict[bytes, frozenset[int]] = {}
    adding: dict[bytes, frozenset[int]] = {}
    unreleased = False
    for topic_id in sorted(set(target) | set(member.assigned_partitions)):
        wanted = target.get(topic_id, frozenset())
        held = member.assigned_partitions.get(topic_id, frozenset())
        revoking_own = member.partitions_pending_revocation.get(topic_id, frozenset())
        kept = held & wanted
        new = wanted - kept
        free = frozenset(p for p in new if partition_epoch(topic_id, p) == -1 or p in revoking_own)
        unreleased = unreleased or free != new
        for result, partitions in ((assigned, kept), (revoking, held - kept), (adding, free)):
            if partitions:
                result[topic_id] = partitions
    if revoking and _owns_any(owned_topic_partitions, revoking):
        # Revoke first, in the current epoch; the new partitions wait for the acknowledgement.
        return with_member_epoch(member, member.member_epoch, state=MemberState.UNREVOKED_PARTITIONS,
                                 assigned_partitions=assigned, partitions_pending_revocation=revoking)
    for topic_id, partitions in adding.items():
        assigned[topic_id] = assigned.get(topic_id, frozenset()) | partitions
    state = MemberState.UNRELEASED_PARTITIONS if unreleased else MemberState.STABLE
    return with_member_epoch(member, target_assignment_epoch, state=state,
                             assigned_partitions=dict(sorted(assigned.items())), partitions_pending_revocation={})


def _owns_any(owned_topic_partitions: Iterable | None, assignment: Assignment) -> bool:
    """Whether the member still reports any of these partitions (None: it did not say, assume so)."""
    if owned_topic_partitions is None:
        return True
    for entry in owned_topic_partitions:
        partitions = assignment.get(bytes(entry.topic_id))
        if partitions and any(p in partitions for p in entry.partitions):
            return True
    return False


def owned_is_subset(owned_topic_partitions: Iterable | None, assignment: Assignment) -> bool:
    """Whether every reported partition is in the assignment (None: unknown, so no)."""
    if owned_topic_partitions is None:
        return False
    for entry in owned_topic_partitions:
        partitions = assignment.get(bytes(entry.topic_id))
        if partitions is None or not all(p in partitions for p in entry.partitions):
            return False
    return True

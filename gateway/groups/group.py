"""Group and member state of the classic group protocol (JoinGroup/SyncGroup), with its invariants.

A group is one of the `Group` types: `ClassicGroup` here; a KIP-848 consumer group (broker-side
assignment) would be another subclass with the same identity, state name and listing.
"""

from __future__ import annotations

import enum
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

from gateway.groups.consumer_protocol import CONSUMER_PROTOCOL_TYPE, subscription_topics
from gateway.limits import CLASSIC_STRING_MAX_BYTES, truncate_utf8
from wire.errors import ErrorCode

Respond = Callable[[dict], None]
Protocols = Sequence[tuple[str, bytes]]  # (name, metadata) in the member's order of preference


class GroupState(enum.StrEnum):
    EMPTY = "Empty"
    PREPARING_REBALANCE = "PreparingRebalance"
    COMPLETING_REBALANCE = "CompletingRebalance"
    STABLE = "Stable"
    DEAD = "Dead"


EMPTY = GroupState.EMPTY
PREPARING_REBALANCE = GroupState.PREPARING_REBALANCE
COMPLETING_REBALANCE = GroupState.COMPLETING_REBALANCE
STABLE = GroupState.STABLE
DEAD = GroupState.DEAD

# Kafka's ClassicGroupState: the states each state may be entered from.
VALID_PREVIOUS_STATES = {
    EMPTY: {PREPARING_REBALANCE},
    PREPARING_REBALANCE: {STABLE, COMPLETING_REBALANCE, EMPTY},
    COMPLETING_REBALANCE: {PREPARING_REBALANCE},
    STABLE: {COMPLETING_REBALANCE},
    DEAD: set(GroupState),
}


class Group:
    """What every group type shares: its id, type, state name and protocol type."""

    group_type: ClassVar[str]

    def __init__(self, group_id: str) -> None:
        self.group_id = group_id
        self.protocol_type: str | None = None

    @property
    def state_name(self) -> str:
        raise NotImplementedError

    def is_empty(self) -> bool:
        raise NotImplementedError

    def is_subscribed_to_topic(self, topic: str) -> bool:
        """Whether a member may consume the topic (OffsetDelete refuses those); True when unknown."""
        return True

    def listed(self) -> dict:
        """This group as a ListGroupsResponse `groups` entry."""
        return {
            "group_id": self.group_id,
            "protocol_type": self.protocol_type or "",
            "group_state": self.state_name,
            "group_type": self.group_type,
        }


@dataclass(eq=False)
class Member:
    """A classic group member: what it sent in JoinGroup, its assignment, and its parked responses."""

    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    rebalance_timeout_ms: int
    session_timeout_ms: int
    protocol_type: str
    protocols: list[tuple[str, bytes]]
    assignment: bytes = b""
    awaiting_join: Respond | None = None  # a JoinGroup waiting for the join phase to complete
    awaiting_sync: Respond | None = None  # a SyncGroup waiting for the leader's assignment
    is_new: bool = False  # joined during the current join phase and never completed one

    @property
    def protocol_names(self) -> set[str]:
        return {name for name, _ in self.protocols}

    def metadata(self, protocol_name: str) -> bytes:
        for name, metadata in self.protocols:
            if name == protocol_name:
                return metadata
        raise KeyError(f"member {self.member_id} does not support protocol {protocol_name}")

    def matches(self, protocols: Protocols) -> bool:
        return self.protocols == [(name, bytes(metadata)) for name, metadata in protocols]

    def vote(self, candidates: set[str]) -> str:
        """The member's most preferred protocol among the candidates."""
        return next(name for name, _ in self.protocols if name in candidates)

    def has_satisfied_heartbeat(self) -> bool:
        """A member parked in JoinGroup/SyncGroup needs no heartbeat, unless it never joined before."""
        return not self.is_new and (self.awaiting_join is not None or self.awaiting_sync is not None)


class ClassicGroup(Group):
    group_type = "classic"

    def __init__(self, group_id: str, now_ms: int) -> None:
        super().__init__(group_id)
        self.state = EMPTY
        self.previous_state = DEAD
        self.state_timestamp = now_ms  # when the group entered its current state
        self.generation_id = 0
        self.protocol_name: str | None = None
        self.leader_id: str | None = None
        self.members: dict[str, Member] = {}  # in join order
        self.static_members: dict[str, str] = {}  # group_instance_id -> member_id
        self.pending_members: set[str] = set()  # got MEMBER_ID_REQUIRED, not joined yet
        self.pending_sync_members: set[str] = set()  # got a JoinGroup response, no SyncGroup yet
        self.new_member_added = False  # a member joined during the initial rebalance delay
        self.subscribed_topics: set[str] | None = None  # None: unknown
        self._supported_protocols: Counter[str] = Counter()

    # -- state

    @property
    def state_name(self) -> str:
        return str(self.state)

    def is_empty(self) -> bool:
        return self.state is EMPTY

    def is_in(self, *states: GroupState) -> bool:
        return self.state in states

    def transition_to(self, state: GroupState, now_ms: int) -> None:
        if self.state not in VALID_PREVIOUS_STATES[state]:
            raise RuntimeError(f"group {self.group_id}: no transition from {self.state} to {state}")
        self.previous_state, self.state = self.state, state
        self.state_timestamp = now_ms

    def can_rebalance(self) -> bool:
        return self.state in VALID_PREVIOUS_STATES[PREPARING_REBALANCE]

    # -- members

    def is_leader(self, member_id: str) -> bool:
        return self.leader_id == member_id

    def static_member_id(self, group_instance_id: str | None) -> str | None:
        return None if group_instance_id is None else self.static_members.get(group_instance_id)

    def generate_member_id(self, client_id: str | None, group_instance_id: str | None) -> str:
        prefix = group_instance_id if group_instance_id is not None else (client_id or "")
        suffix = f"-{uuid.uuid4()}"
        # Kafka's "<client id>-<uuid>", with the prefix cut so that JoinGroup v0-5 can still carry it
        return truncate_utf8(prefix, CLASSIC_STRING_MAX_BYTES - len(suffix)) + suffix

    def validate_member(self, member_id: str, group_instance_id: str | None) -> ErrorCode:
        """NONE, or why a request from this member id (and instance id) is refused."""
        if group_instance_id is not None:
            existing = self.static_members.get(group_instance_id)
            if existing is None:
                return ErrorCode.UNKNOWN_MEMBER_ID
            if existing != member_id:
                return ErrorCode.FENCED_INSTANCE_ID
        if member_id not in self.members:
            return ErrorCode.UNKNOWN_MEMBER_ID
        return ErrorCode.NONE

    def add(self, member: Member, respond: Respond | None) -> None:
        if not self.members:
            self.protocol_type = member.protocol_type
        if self.leader_id is None:
            self.leader_id = member.member_id
        self.members[member.member_id] = member
        self._supported_protocols.update(member.protocol_names)
        if member.group_instance_id is not None:
            self.static_members[member.group_instance_id] = member.member_id
        member.awaiting_join = respond
        self.pending_members.discard(member.member_id)

    def remove(self, member_id: str) -> Member | None:
        member = self.members.pop(member_id, None)
        if member is not None:
            self._supported_protocols.subtract(member.protocol_names)
            if self.static_members.get(member.group_instance_id) == member_id:
                del self.static_members[member.group_instance_id]
        if self.leader_id == member_id:
            self.leader_id = next(iter(self.members), None)
        self.pending_members.discard(member_id)
        self.pending_sync_members.discard(member_id)
        return member

    def update_member(self, member: Member, protocols: Protocols, rebalance_timeout_ms: int,
                      session_timeout_ms: int, respond: Respond) -> None:
        """A known member rejoins: new protocols and timeouts; its JoinGroup waits for the join phase."""
        self._supported_protocols.subtract(member.protocol_names)
        member.protocols = [(name, bytes(metadata)) for name, metadata in protocols]
        self._supported_protocols.update(member.protocol_names)
        member.rebalance_timeout_ms = rebalance_timeout_ms
        member.session_timeout_ms = session_timeout_ms
        # A JoinGroup that is still parked was given up by its client (it sent this one instead).
        self.complete_join(member, join_error(member.member_id, ErrorCode.REBALANCE_IN_PROGRESS))
        member.awaiting_join = respond

    def replace_static_member(self, group_instance_id: str, old_member_id: str, new_member_id: str) -> Member:
        """A static member restarted: it keeps everything, assignment included, under a new member id.
        Whatever the old member id still has parked is fenced."""
        old = self.members.pop(old_member_id)
        self.complete_join(old, join_error(old_member_id, ErrorCode.FENCED_INSTANCE_ID))
        self.complete_sync(old, sync_error(ErrorCode.FENCED_INSTANCE_ID))
        member = replace(old, member_id=new_member_id, awaiting_join=None, awaiting_sync=None, is_new=False)
        self.members[new_member_id] = member
        if self.leader_id == old_member_id:
            self.leader_id = new_member_id
        if old_member_id in self.pending_sync_members:
            self.pending_sync_members.discard(old_member_id)
            self.pending_sync_members.add(new_member_id)
        self.static_members[group_instance_id] = new_member_id
        return member

    def complete_join(self, member: Member, response: dict) -> bool:
        respond, member.awaiting_join = member.awaiting_join, None
        if respond is None:
            return False
        respond(response)
        return True

    def complete_sync(self, member: Member, response: dict) -> bool:
        respond, member.awaiting_sync = member.awaiting_sync, None
        if respond is None:
            return False
        respond(response)
        return True

    def not_yet_rejoined(self) -> list[Member]:
        return [m for m in self.members.values() if m.awaiting_join is None]

    def has_all_members_joined(self) -> bool:
        return not self.pending_members and all(m.awaiting_join is not None for m in self.members.values())

    def num_awaiting_join(self) -> int:
        return sum(1 for m in self.members.values() if m.awaiting_join is not None)

    def rebalance_timeout_ms(self) -> int:
        return max((m.rebalance_timeout_ms for m in self.members.values()), default=0)

    def maybe_elect_new_joined_leader(self) -> bool:
        """Keep a leader that rejoined, else promote any member that did; False when none did."""
        if self.leader_id is None:
            return False
        if self.members[self.leader_id].awaiting_join is not None:
            return True
        for member in self.members.values():
            if member.awaiting_join is not None:
                self.leader_id = member.member_id
                return True
        return False

    # -- protocols

    def supports_protocols(self, protocol_type: str, protocol_names: Iterable[str]) -> bool:
        """Whether a member offering these protocols can join: in a non-empty group, the protocol type
        must match and one of the protocols must be supported by every current member."""
        names = set(protocol_names)
        if self.state is EMPTY:
            return bool(protocol_type) and bool(names)
        size = len(self.members)
        return self.protocol_type == protocol_type and any(self._supported_protocols[n] == size for n in names)

    def select_protocol(self) -> str:
        """Kafka's vote: each member votes for its most preferred protocol that all members support;
        most votes wins (a tie goes to the protocol voted for first, in join order)."""
        size = len(self.members)
        candidates = {name for name, count in self._supported_protocols.items() if count == size}
        votes = Counter(member.vote(candidates) for member in self.members.values())
        return max(votes, key=votes.__getitem__)

    def init_next_generation(self, now_ms: int) -> None:
        self.generation_id += 1
        if self.members:
            self.protocol_name = self.select_protocol()
            self.subscribed_topics = self.compute_subscribed_topics()
            self.transition_to(COMPLETING_REBALANCE, now_ms)
        else:
            self.protocol_name = None
            self.subscribed_topics = self.compute_subscribed_topics()
            self.transition_to(EMPTY, now_ms)
        self.pending_sync_members.clear()

    def compute_subscribed_topics(self) -> set[str] | None:
        """Topics the members of a "consumer" group subscribe to; None when that cannot be known."""
        if self.protocol_type != CONSUMER_PROTOCOL_TYPE:
            return None
        if not self.members:
            return set()
        if self.protocol_name is None:
            return None
        topics: set[str] = set()
        try:
            for member in self.members.values():
                topics.update(subscription_topics(member.metadata(self.protocol_name)))
        except ValueError:
            return None
        return topics

    def is_subscribed_to_topic(self, topic: str) -> bool:
        if self.subscribed_topics is None:
            return self.protocol_type == CONSUMER_PROTOCOL_TYPE
        return topic in self.subscribed_topics

    # -- views

    def current_members(self) -> list[dict]:
        """The members as the leader's JoinGroupResponse lists them, with the chosen protocol's metadata."""
        return [
            {"member_id": m.member_id, "group_instance_id": m.group_instance_id,
             "metadata": m.metadata(self.protocol_name)}
            for m in self.members.values()
        ]

    def described(self) -> dict:
        """This group as a DescribeGroupsResponse `groups` entry (metadata and assignment when Stable)."""
        stable = self.state is STABLE
        return {
            "error_code": ErrorCode.NONE,
            "error_message": None,
            "group_id": self.group_id,
            "group_state": self.state_name,
            "protocol_type": self.protocol_type or "",
            "protocol_data": (self.protocol_name or "") if stable else "",
            "members": [
                {
                    "member_id": m.member_id,
                    "group_instance_id": m.group_instance_id,
                    "client_id": m.client_id,
                    "client_host": m.client_host,
                    "member_metadata": m.metadata(self.protocol_name) if stable else b"",
                    "member_assignment": m.assignment if stable else b"",
                }
                for m in self.members.values()
            ],
        }


def join_error(member_id: str, error: ErrorCode) -> dict:
    """A JoinGroupResponse carrying an error (null protocol: handlers below v7 send "")."""
    return {
        "error_code": error,
        "generation_id": -1,
        "protocol_type": None,
        "protocol_name": None,
        "leader": "",
        "skip_assignment": False,
        "member_id": member_id,
        "members": [],
    }


def sync_error(error: ErrorCode) -> dict:
    return {"error_code": error, "protocol_type": None, "protocol_name": None, "assignment": b""}

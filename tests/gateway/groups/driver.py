"""Drives a GroupCoordinator the way clients do, with a hand-moved clock and recorded responses."""

from __future__ import annotations

from kafka.coordinator.assignors.range import RangePartitionAssignor

from gateway.groups import GroupConfig, GroupCoordinator
from gateway.groups.group import Group
from wire.errors import ErrorCode

SESSION_MS = 10_000
REBALANCE_MS = 30_000


def subscription(*topics: str) -> bytes:
    """ConsumerProtocolSubscription bytes exactly as kafka-python's range assignor sends them."""
    return RangePartitionAssignor.metadata(set(topics)).encode()


class OtherGroup(Group):
    """A group of another type (as a KIP-848 consumer group would be) in the shared id space."""

    group_type = "consumer"

    def __init__(self, group_id: str, members: int) -> None:
        super().__init__(group_id)
        self.protocol_type = "consumer"
        self.members = members

    @property
    def state_name(self) -> str:
        return "Stable" if self.members else "Empty"

    def is_empty(self) -> bool:
        return not self.members


class Reply:
    """A `respond` callback that records what it is given; a request gets exactly one response."""

    def __init__(self) -> None:
        self.responses: list[dict] = []

    def __call__(self, response: dict) -> None:
        self.responses.append(response)

    @property
    def done(self) -> bool:
        return bool(self.responses)

    @property
    def response(self) -> dict:
        assert len(self.responses) == 1, f"expected exactly one response, got {self.responses}"
        return self.responses[0]

    @property
    def error(self) -> ErrorCode:
        return self.response["error_code"]


class Driver:
    def __init__(self, config: GroupConfig | None = None, store=None, group_id: str = "g", groups=None,
                 now: int = 0) -> None:
        self.now = now
        self.group_id = group_id
        self.coordinator = GroupCoordinator(config, store, now_ms=self.now, groups=groups)

    @property
    def group(self):
        return self.coordinator.groups[self.group_id]

    def advance(self, ms: int) -> None:
        """Move the clock and tick as the server's timer does: again at once while a deadline is past
        (a tick's work is bounded, so a long jump is caught up over several ticks)."""
        self.now += ms
        self.coordinator.tick(self.now)
        deadline = self.coordinator.next_deadline()
        while deadline is not None and deadline <= self.now:
            self.coordinator.tick(self.now)
            deadline = self.coordinator.next_deadline()

    def join(self, member_id: str = "", *, instance: str | None = None, protocols=None, session: int = SESSION_MS,
             rebalance: int = REBALANCE_MS, version: int = 5, client_id: str = "client",
             protocol_type: str = "consumer", group_id: str | None = None, tick: bool = True) -> Reply:
        """One JoinGroup; with tick, the scheduler then runs (as the server's timer task does right after),
        so a join phase due now completes; tick=False models joins already queued behind this one."""
        reply = Reply()
        self.coordinator.join_group(
            group_id=self.group_id if group_id is None else group_id, member_id=member_id,
            group_instance_id=instance, session_timeout_ms=session, rebalance_timeout_ms=rebalance,
            protocol_type=protocol_type, protocols=[("range", subscription("t"))] if protocols is None else protocols,
            client_id=client_id, client_host="/127.0.0.1", api_version=version, now_ms=self.now, respond=reply)
        if tick:
            self.coordinator.tick(self.now)
        return reply

    def join_new(self, **kw) -> Reply:
        """A new dynamic member's two JoinGroups (v4+): MEMBER_ID_REQUIRED, then again with that id."""
        first = self.join(**{**kw, "tick": True})
        assert first.error == ErrorCode.MEMBER_ID_REQUIRED
        return self.join(first.response["member_id"], **kw)

    def sync(self, member_id: str, generation: int, assignments: dict[str, bytes] | None = None, *,
             instance: str | None = None, protocol_type: str | None = None,
             protocol_name: str | None = None) -> Reply:
        reply = Reply()
        self.coordinator.sync_group(
            group_id=self.group_id, generation_id=generation, member_id=member_id, group_instance_id=instance,
            protocol_type=protocol_type, protocol_name=protocol_name,
            assignments=list((assignments or {}).items()), now_ms=self.now, respond=reply)
        return reply

    def heartbeat(self, member_id: str, generation: int, *, instance: str | None = None) -> ErrorCode:
        return self.coordinator.heartbeat(group_id=self.group_id, generation_id=generation, member_id=member_id,
                                          group_instance_id=instance, now_ms=self.now)["error_code"]

    def leave(self, *members: tuple[str, str | None], version: int = 3) -> dict:
        return self.coordinator.leave_group(group_id=self.group_id, members=list(members), api_version=version,
                                            now_ms=self.now)

    def commit(self, offsets: dict[tuple[str, int], int], *, generation: int = -1, member_id: str = "",
               instance: str | None = None, metadata: str | None = "", group_id: str | None = None,
               retention_time_ms: int = -1) -> dict[tuple[str, int], ErrorCode]:
        topics: dict[str, list] = {}
        for (topic, partition), offset in offsets.items():
            topics.setdefault(topic, []).append({"partition_index": partition, "committed_offset": offset,
                                                 "committed_leader_epoch": 7, "committed_metadata": metadata})
        response = self.coordinator.offset_commit(
            group_id=self.group_id if group_id is None else group_id, generation_id=generation,
            member_id=member_id, group_instance_id=instance,
            topics=[{"name": name, "partitions": parts} for name, parts in topics.items()],
            now_ms=self.now, retention_time_ms=retention_time_ms)
        return {(t["name"], p["partition_index"]): p["error_code"] for t in response["topics"] for p in t["partitions"]}

    def committed(self, group_id: str | None = None) -> dict[tuple[str, int], int]:
        """Every committed offset of the group, from OffsetFetch with topics=None."""
        response = self.coordinator.offset_fetch(group_id=self.group_id if group_id is None else group_id, topics=None)
        return {(t["name"], p["partition_index"]): p["committed_offset"]
                for t in response["topics"] for p in t["partitions"]}

    def stable_group(self, count: int, **join_kw) -> tuple[list[str], int]:
        """`count` members joined in one generation (all within the join phase) and synced by the
        leader with assignment b"<member_id>"; returns the member ids (leader first) and generation."""
        first = self.join_new(**join_kw)
        assert first.done, "the first member's join completed at once (no initial delay)"
        leader = first.response["member_id"]
        generation = first.response["generation_id"]
        members = [leader]
        if count > 1:
            pending = [self.join_new(**join_kw) for _ in range(count - 1)]
            assert self.heartbeat(leader, generation) == ErrorCode.REBALANCE_IN_PROGRESS
            rejoin = self.join(leader, **join_kw)
            replies = [rejoin, *pending]
            assert all(r.done for r in replies)
            generation = rejoin.response["generation_id"]
            members = [r.response["member_id"] for r in replies]
            assert rejoin.response["leader"] == leader
        syncs = [self.sync(m, generation, {m: m.encode() for m in members} if m == leader else None)
                 for m in members]
        assert [s.response["assignment"] for s in syncs] == [m.encode() for m in members]
        assert self.group.state_name == "Stable"
        return members, generation

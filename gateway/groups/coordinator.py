"""The group coordinator: the classic protocol plus committed offsets, their expiry, and the admin views.

`GroupCoordinator` is what the broker holds as `broker.groups`. Handlers map request fields to the
keyword arguments (topics by name: OffsetCommit/OffsetFetch v10 handlers resolve topic ids first,
and answer UNKNOWN_TOPIC_OR_PARTITION themselves for partitions the broker does not have) and pass
the returned dicts, keyed like the response schemas, through. Only `join_group` and `sync_group`
answer through a callback (see `gateway.groups.membership`).

Time: every call that can change state takes `now_ms`; the owner also calls `tick(now_ms)` when
`next_deadline()` comes (session expiry, join-phase completion, the initial rebalance delay, the
offsets retention check). A call may move the next deadline earlier, so re-arm after each one.

Persistence, through one `GroupStore`: committed offsets on every commit (`gateway.groups.offsets`),
and each classic group's metadata on every completed rebalance, with a tombstone when the group goes
(`gateway.groups.group_metadata`). After a restart a Stable group comes back Stable, with its members,
generation and assignments, an Empty one Empty; a group with only committed offsets comes back Empty
with no protocol type (a "simple" group). KIP-848 groups are not persisted.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import partial

from gateway.groups.config import GroupConfig
from gateway.groups.consumer_protocol import CONSUMER_PROTOCOL_TYPE
from gateway.groups.group import COMPLETING_REBALANCE, DEAD, EMPTY, PREPARING_REBALANCE, STABLE, ClassicGroup, Group
from gateway.groups.membership import ClassicMembership
from gateway.groups.offsets import NO_EXPIRE_TIMESTAMP, NO_LEADER_EPOCH, CommittedOffset, OffsetManager
from gateway.groups.store import GroupStore, MemoryGroupStore
from gateway.limits import clamp_int64, fits_every_version
from wire.errors import ErrorCode

DESCRIBE_GROUP_ID_NOT_FOUND = 6  # DescribeGroups v6+ (KIP-1043) answers GROUP_ID_NOT_FOUND, not a Dead group
NO_RETENTION_TIME = -1
OFFSETS_EXPIRY_KEY = ("offsets-expiry",)
EXPIRY_GROUPS_PER_TICK = 500  # groups one tick's expiry looks at
_NONE, _UNKNOWN_PARTITION, _METADATA_TOO_LARGE = (
    ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.OFFSET_METADATA_TOO_LARGE)  # per partition


class GroupCoordinator(ClassicMembership):
    """Consumer groups (classic protocol: JoinGroup, SyncGroup, Heartbeat, LeaveGroup, inherited from
    `ClassicMembership`), OffsetCommit/OffsetFetch/OffsetDelete, and ListGroups/DescribeGroups/DeleteGroups."""

    def __init__(self, config: GroupConfig | None = None, store: GroupStore | None = None, now_ms: int = 0,
                 groups: dict[str, Group] | None = None) -> None:
        store = store if store is not None else MemoryGroupStore()
        super().__init__(config, groups, store)
        self.offsets = OffsetManager(store)
        self.on_group_removed: list = []  # called with the group id of every group removed (share state goes too)
        self.load_groups(now_ms)
        for group_id in self.offsets.group_ids():
            if fits_every_version(group_id):  # one stored before such ids were refused is not listed
                self.groups.setdefault(group_id, ClassicGroup(group_id, now_ms))
        self._schedule_offsets_expiry(now_ms)

    # -- OffsetCommit

    def offset_commit(self, *, group_id: str, generation_id: int = -1, member_id: str = "",
                      group_instance_id: str | None = None, topics: Sequence, now_ms: int,
                      retention_time_ms: int = NO_RETENTION_TIME) -> dict:
        """OffsetCommit of topics [{name, partitions: [{partition_index, committed_offset,
        committed_leader_epoch?, committed_metadata}]}] to a classic group. Generation -1 with no member
        id is a "simple" commit (admin clients, manually assigned consumers): accepted while the group
        is Empty, and it creates the group when there is none. (A KIP-848 group's member epoch is
        checked by its own coordinator, which then calls `commit_offsets`.)"""
        return _answers(topics, self.offset_commit_codes(
            group_id=group_id, generation_id=generation_id, member_id=member_id,
            group_instance_id=group_instance_id, topics=topics, now_ms=now_ms, retention_time_ms=retention_time_ms))

    def offset_commit_codes(self, *, group_id: str, generation_id: int = -1, member_id: str = "",
                            group_instance_id: str | None = None, topics: Sequence, now_ms: int,
                            retention_time_ms: int = NO_RETENTION_TIME) -> list[list[int]]:
        """`offset_commit`, answered as each topic's partitions' error codes in the order given."""
        self.tick(now_ms)
        group = self.classic_group(group_id)
        if not fits_every_version(group_id):
            error = ErrorCode.INVALID_GROUP_ID  # ListGroups v0-2 could never list it
        elif group is None and group_id in self.groups:
            error = ErrorCode.GROUP_ID_NOT_FOUND  # not a classic group
        elif group is None and generation_id >= 0:
            error = ErrorCode.ILLEGAL_GENERATION  # a member of a generation this coordinator never had
        else:
            if group is None:
                group = self.groups[group_id] = ClassicGroup(group_id, now_ms)
            error = self._validate_offset_commit(group, generation_id, member_id, group_instance_id)
        if error:
            return [[error] * len(topic["partitions"]) for topic in topics]
        member = group.members.get(member_id)
        if member is not None and group.is_in(STABLE, PREPARING_REBALANCE):
            self._schedule_heartbeat(group, member_id, now_ms + member.session_timeout_ms)
        return self.commit_offset_codes(group_id=group_id, topics=topics, now_ms=now_ms,
                                        retention_time_ms=retention_time_ms)

    def commit_offsets(self, *, group_id: str, topics: Sequence, now_ms: int,
                      retention_time_ms: int = NO_RETENTION_TIME) -> dict:
        """Commit offsets with no membership check (the caller made it: OffsetCommit above, a KIP-848
        group's coordinator, a transaction's TxnOffsetCommit at EndTxn); per-partition errors only
        for metadata over offset.metadata.max.bytes and negative partitions."""
        return _answers(topics, self.commit_offset_codes(group_id=group_id, topics=topics, now_ms=now_ms,
                                                         retention_time_ms=retention_time_ms))

    def commit_offset_codes(self, *, group_id: str, topics: Sequence, now_ms: int,
                            retention_time_ms: int = NO_RETENTION_TIME) -> list[list[int]]:
        """`commit_offsets`, answered as each topic's partitions' error codes in the order given; the
        accepted partitions of every topic are one store write."""
        if not fits_every_version(group_id):
            return [[ErrorCode.INVALID_GROUP_ID] * len(topic["partitions"]) for topic in topics]
        expire_timestamp = (clamp_int64(now_ms + retention_time_ms) if retention_time_ms != NO_RETENTION_TIME
                            else NO_EXPIRE_TIMESTAMP)
        max_bytes = self.config.offset_metadata_max_bytes
        surely_fits = max_bytes // 4  # characters: UTF-8 takes at most 4 bytes for one
        answers, accepted = [], []
        for topic in topics:
            partitions = topic["partitions"]
            codes, commits = [_NONE] * len(partitions), []
            for i, partition in enumerate(partitions):
                index = partition["partition_index"]
                metadata = partition.get("committed_metadata") or ""
                if len(metadata) > surely_fits and len(metadata.encode("utf-8")) > max_bytes:
                    codes[i] = _METADATA_TOO_LARGE
                elif index < 0:
                    codes[i] = _UNKNOWN_PARTITION
                else:
                    commits.append((index, partition["committed_offset"],
                                    partition.get("committed_leader_epoch", NO_LEADER_EPOCH), metadata))
            answers.append(codes)
            if commits:
                accepted.append((topic["name"], commits))
        self.offsets.commit_topics(group_id, accepted, now_ms, expire_timestamp)
        return answers

    @staticmethod
    def _validate_offset_commit(group: ClassicGroup, generation_id: int, member_id: str,
                                group_instance_id: str | None) -> ErrorCode:
        if generation_id < 0 and group.is_in(EMPTY):
            return ErrorCode.NONE
        if generation_id >= 0 or member_id or group_instance_id is not None:
            if error := group.validate_member(member_id, group_instance_id):
                return error
            if generation_id != group.generation_id:
                return ErrorCode.ILLEGAL_GENERATION
        elif not group.is_in(EMPTY):
            return ErrorCode.UNKNOWN_MEMBER_ID  # only members commit to a group that has members
        if group.is_in(COMPLETING_REBALANCE):
            return ErrorCode.REBALANCE_IN_PROGRESS  # the member has its new generation but no assignment yet
        return ErrorCode.NONE

    def validate_txn_offset_commit(self, group_id: str, generation_id: int, member_id: str,
                                   group_instance_id: str | None) -> ErrorCode:
        """TxnOffsetCommit v3+ (KIP-447) from a classic group's member: OffsetCommit's checks, except that
        a request naming no generation and no member (a client before KIP-447) is not checked."""
        if generation_id < 0 and not member_id and group_instance_id is None:
            return ErrorCode.NONE
        group = self.classic_group(group_id)
        if group is None:
            return ErrorCode.ILLEGAL_GENERATION if generation_id >= 0 else ErrorCode.UNKNOWN_MEMBER_ID
        return self._validate_offset_commit(group, generation_id, member_id, group_instance_id)

    # -- OffsetFetch

    def offset_fetch(self, *, group_id: str, topics: Sequence | None) -> dict:
        """OffsetFetch for one group, topics [{name, partition_indexes}] or None for all committed.
        (v8+ handlers call this per group and add its group_id.)"""
        return {"error_code": ErrorCode.NONE, "topics": self.offsets.fetch(group_id, topics)}

    # -- OffsetDelete

    def offset_delete(self, *, group_id: str, topics: Sequence, now_ms: int) -> dict:
        """OffsetDelete of topics [{name, partitions: [{partition_index}]}]: allowed for an Empty group,
        and in a "consumer" group for topics none of its members subscribes to."""
        self.tick(now_ms)
        group = self.groups.get(group_id) if group_id else None
        if not group_id:
            return {"error_code": ErrorCode.INVALID_GROUP_ID, "topics": []}
        if group is None:
            return {"error_code": ErrorCode.GROUP_ID_NOT_FOUND, "topics": []}
        if not group.is_empty() and group.protocol_type != CONSUMER_PROTOCOL_TYPE:
            return {"error_code": ErrorCode.NON_EMPTY_GROUP, "topics": []}
        response_topics = []
        for topic in topics:
            name = topic["name"]
            subscribed = not group.is_empty() and group.is_subscribed_to_topic(name)
            error = ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC if subscribed else ErrorCode.NONE
            partitions = [p["partition_index"] for p in topic["partitions"]]
            if not subscribed:
                self.offsets.delete(group_id, [(name, p) for p in partitions])
            response_topics.append({"name": name, "partitions": [
                {"partition_index": p, "error_code": error} for p in partitions]})
        if isinstance(group, ClassicGroup):
            self._remove_if_empty_without_offsets(group, now_ms)
        return {"error_code": ErrorCode.NONE, "topics": response_topics}

    # -- DeleteGroups

    def delete_groups(self, group_ids: Sequence[str], now_ms: int) -> dict:
        """DeleteGroups: an Empty group goes, with its committed offsets; others are NON_EMPTY_GROUP."""
        self.tick(now_ms)
        results = []
        for group_id in group_ids:
            group = self.groups.get(group_id)
            if group is None:
                error = ErrorCode.GROUP_ID_NOT_FOUND
            elif not group.is_empty():
                error = ErrorCode.NON_EMPTY_GROUP
            else:
                self._remove_group(group, now_ms)
                error = ErrorCode.NONE
            results.append({"group_id": group_id, "error_code": error, "error_message": None})
        return {"results": results}

    def on_topics_deleted(self, topics: Collection[str], now_ms: int) -> None:
        """Committed offsets of deleted topics go too (and Empty groups left without offsets)."""
        for group_id in self.offsets.delete_topics(set(topics)):
            group = self.classic_group(group_id)
            if group is not None:
                self._remove_if_empty_without_offsets(group, now_ms)

    # -- ListGroups / DescribeGroups

    def list_groups(self, states_filter: Collection[str] = (), types_filter: Collection[str] = ()) -> dict:
        """ListGroups; both filters match case-insensitively, and an empty filter matches every group."""
        states = {state.strip().lower() for state in states_filter}
        types = {group_type.strip().lower() for group_type in types_filter}
        return {"error_code": ErrorCode.NONE, "groups": [
            group.listed() for group in self.groups.values()
            if (not states or group.state_name.lower() in states) and (not types or group.group_type in types)
        ]}

    def describe_groups(self, group_ids: Sequence[str], api_version: int) -> dict:
        """DescribeGroups; member metadata and assignments are only shown for a Stable group."""
        described = []
        for group_id in group_ids:
            group = self.classic_group(group_id)
            if group is not None:
                described.append(group.described())
                continue
            not_found = api_version >= DESCRIBE_GROUP_ID_NOT_FOUND
            why = "is not a classic group" if group_id in self.groups else "not found"
            described.append({
                "error_code": ErrorCode.GROUP_ID_NOT_FOUND if not_found else ErrorCode.NONE,
                "error_message": f"Group {group_id} {why}." if not_found else None,
                "group_id": group_id, "group_state": str(DEAD), "protocol_type": "", "protocol_data": "",
                "members": [],
            })
        return {"groups": described}

    # -- offsets expiry

    def _schedule_offsets_expiry(self, now_ms: int) -> None:
        self.timers.schedule(OFFSETS_EXPIRY_KEY, now_ms + self.config.offsets_retention_check_interval_ms,
                             self._expire_offsets)

    def _expire_offsets(self, now_ms: int, pending: list[str] | None = None, start: int = 0) -> int:
        """Kafka's retention rules: all offsets of an Empty group once it has been empty for the retention
        period; offsets of a simple group (no protocol type) and of topics a Stable consumer group no
        longer subscribes to, once that long has passed since their commit. An Empty group left with no
        offsets is removed (Kafka's cleanupGroupMetadata). EXPIRY_GROUPS_PER_TICK groups per tick, the
        rest on the next ticks: 100,000 groups are not one stall of the event loop."""
        retention_ms = self.config.offsets_retention_ms
        if pending is None:
            pending = list(self.groups)
        end = start + EXPIRY_GROUPS_PER_TICK
        batch = pending[start:end]
        for group_id in batch:
            group = self.groups.get(group_id)
            if not isinstance(group, ClassicGroup):
                continue
            if group.protocol_type is not None and group.is_in(EMPTY):
                empty_since = group.state_timestamp
                self.offsets.expire(group.group_id, now_ms, retention_ms, lambda offset: empty_since)
            elif group.protocol_type is None:
                self.offsets.expire(group.group_id, now_ms, retention_ms, _commit_timestamp)
            elif (group.protocol_type == CONSUMER_PROTOCOL_TYPE and group.subscribed_topics is not None
                  and group.is_in(STABLE)):
                self.offsets.expire(group.group_id, now_ms, retention_ms, _commit_timestamp, group.subscribed_topics)
            self._remove_if_empty_without_offsets(group, now_ms)
        if end < len(pending):
            self.timers.schedule(OFFSETS_EXPIRY_KEY, now_ms, partial(self._expire_offsets, pending=pending, start=end))
        else:
            self._schedule_offsets_expiry(now_ms)
        return len(batch)  # the work done, counted against the tick's TIMERS_PER_TICK

    def _remove_if_empty_without_offsets(self, group: ClassicGroup, now_ms: int) -> None:
        if group.is_in(EMPTY) and not self.offsets.has_offsets(group.group_id):
            self._remove_group(group, now_ms)

    def _remove_group(self, group: Group, now_ms: int) -> None:
        if isinstance(group, ClassicGroup):
            self._cancel_group_timers(group)
            group.transition_to(DEAD, now_ms)
        del self.groups[group.group_id]
        self.offsets.delete_group(group.group_id)
        # Also for a KIP-848 group: it may have replaced an Empty classic group whose record is stored.
        self.group_metadata.delete_group(group.group_id)
        for listener in self.on_group_removed:
            listener(group.group_id)


def _commit_timestamp(offset: CommittedOffset) -> int:
    return offset.commit_timestamp


def _answers(topics: Sequence, codes: list[list[int]]) -> dict:
    """An OffsetCommit response's `topics` from each topic's partitions' codes."""
    return {"topics": [
        {"name": topic["name"], "partitions": [
            {"partition_index": partition["partition_index"], "error_code": code}
            for partition, code in zip(topic["partitions"], topic_codes)
        ]}
        for topic, topic_codes in zip(topics, codes)
    ]}

"""The consumer group protocol (KIP-848): ConsumerGroupHeartbeat and ConsumerGroupDescribe over a set of groups.

Sans-IO and single-threaded, like the classic coordinator: every call takes `now_ms`, and `tick(now_ms)`
fires the session and rebalance timeouts due by then (`next_deadline()` says when). Requests are the
decoded containers (attribute access); responses are dicts keyed by the response fields.

One heartbeat: (1) create or update the member; the group epoch moves on when a member joins or
changes its subscription, or when a subscribed topic appears, disappears or changes partition count;
(2) when the group epoch is past the assignment epoch, the server-side assignor computes a new target
assignment; (3) the member reconciles one step towards its target (see member.py).

Classic and consumer groups share one id space: give both coordinators the same `groups` dict.
The rule, as Kafka with no online migration between the protocols:
- ConsumerGroupHeartbeat naming a classic group with members: GROUP_ID_NOT_FOUND "Group <id> is not a
  consumer group." (Kafka's answer when it cannot upgrade the classic group; Ottla never upgrades
  one). An empty classic group is replaced by a new consumer group when a member joins (epoch 0).
- JoinGroup naming a consumer group is the classic side's call. Kafka drops an empty consumer group
  for a classic one, and lets a classic "consumer"-protocol member into a non-empty one (a mixed
  group, which Ottla does not have); INCONSISTENT_GROUP_PROTOCOL is Kafka's answer to other joiners.
- ConsumerGroupDescribe of a classic group: GROUP_ID_NOT_FOUND "Group <id> is not a consumer group."
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import replace
from functools import partial
from typing import Callable, Iterable, Sequence

from gateway.groups.group import Group
from gateway.groups.kip848.assignors import ASSIGNORS
from gateway.groups.kip848.describe import described_error, described_group, heartbeat_assignment
from gateway.groups.kip848.group import ConsumerGroup
from gateway.groups.kip848.member import (
    LEAVE_GROUP_MEMBER_EPOCH, LEAVE_GROUP_STATIC_MEMBER_EPOCH, ConsumerGroupMember, MemberState, owned_is_subset,
    reconcile,
)
from gateway.groups.kip848.regex import InvalidRegex, compile_regex
from gateway.groups.kip848.topics import TopicMetadata
from gateway.groups.kip848.validation import subscribed_topic_regex, validate_heartbeat
from gateway.groups.timers import Timers
from gateway.limits import fits_every_version
from wire.errors import ErrorCode, KafkaError

NO_LIMIT = 2**31 - 1
OFFSET_COMMIT_MIN_VERSION = 9  # members of consumer-protocol groups must commit with OffsetCommit v9+


def new_member_id() -> str:
    """A Kafka Uuid string: 22 characters of URL-safe base64, never starting with '-'."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")
        if not text.startswith("-"):
            return text


def heartbeat_error(code: ErrorCode, message: str | None = None) -> dict:
    return {"throttle_time_ms": 0, "error_code": code, "error_message": message, "member_id": None,
            "member_epoch": 0, "heartbeat_interval_ms": 0, "assignment": None}


class ConsumerGroupCoordinator:
    """Kafka's GroupMetadataManager, consumer-protocol half (group.consumer.* settings as arguments)."""

    def __init__(self, topics: TopicMetadata, *, groups: dict[str, Group] | None = None,
                 heartbeat_interval_ms: int = 5000, session_timeout_ms: int = 45000,
                 assignors: Sequence[str] = ("uniform", "range"), max_size: int = NO_LIMIT,
                 member_ids: Callable[[], str] = new_member_id,
                 group_config: Callable[[str, str], int] | None = None) -> None:
        unknown = [name for name in assignors if name not in ASSIGNORS]
        if not assignors or unknown:
            raise ValueError(f"assignors must be among {sorted(ASSIGNORS)}, not {list(assignors)}")
        self.topics = topics
        self.groups: dict[str, Group] = {} if groups is None else groups
        self.heartbeat_interval_ms = heartbeat_interval_ms  # group.consumer.heartbeat.interval.ms
        self.session_timeout_ms = session_timeout_ms  # group.consumer.session.timeout.ms
        self.assignors = list(assignors)  # group.consumer.assignors; the first is the default
        self.max_size = max_size  # group.consumer.max.size
        self.timers = Timers()
        self._member_ids = member_ids
        # a GROUP resource's consumer.session.timeout.ms / consumer.heartbeat.interval.ms (gateway.configs)
        self._group_config = group_config

    # -- queries

    def consumer_group(self, group_id: str) -> ConsumerGroup | None:
        group = self.groups.get(group_id)
        return group if isinstance(group, ConsumerGroup) else None

    def _session_timeout(self, group_id: str) -> int:
        if self._group_config is None:
            return self.session_timeout_ms
        return self._group_config(group_id, "consumer.session.timeout.ms")

    def _heartbeat_interval(self, group_id: str) -> int:
        if self._group_config is None:
            return self.heartbeat_interval_ms
        return self._group_config(group_id, "consumer.heartbeat.interval.ms")

    def tick(self, now_ms: int) -> None:
        """Fence every member whose session or rebalance timeout has passed by now_ms."""
        self.timers.run_due(now_ms)

    def next_deadline(self) -> int | None:
        return self.timers.next_deadline()

    # -- ConsumerGroupHeartbeat

    def heartbeat(self, request, now_ms: int, *, api_version: int, client_id: str = "",
                  client_host: str = "") -> dict:
        """ConsumerGroupHeartbeat; client_host as Kafka reports it is "/" + the client's IP address."""
        self.tick(now_ms)  # a member whose session ran out before this heartbeat is gone already
        try:
            validate_heartbeat(request, api_version, self.assignors)
            if request.member_epoch in (LEAVE_GROUP_MEMBER_EPOCH, LEAVE_GROUP_STATIC_MEMBER_EPOCH):
                return self._leave(request)
            return self._heartbeat(request, now_ms, client_id or "", client_host)
        except KafkaError as error:
            return heartbeat_error(error.code, error.message)

    def _heartbeat(self, request, now_ms: int, client_id: str, client_host: str) -> dict:
        joining = request.member_epoch == 0
        group = self._group_for_heartbeat(request.group_id, request.member_id, joining)
        if len(group.members) >= self.max_size and (not request.member_id or request.member_id not in group.members):
            raise KafkaError(ErrorCode.GROUP_MAX_SIZE_REACHED,
                             f"The consumer group has reached its maximum capacity of {self.max_size} members.")
        member_id = request.member_id or self._member_ids()
        owned = request.topic_partitions
        member, replaced_member_id = self._member_for_heartbeat(group, member_id, request, owned)

        names = request.subscribed_topic_names
        regex = subscribed_topic_regex(request)
        updated = replace(
            member,
            instance_id=request.instance_id if request.instance_id is not None else member.instance_id,
            rack_id=request.rack_id if request.rack_id is not None else member.rack_id,
            rebalance_timeout_ms=(request.rebalance_timeout_ms if request.rebalance_timeout_ms != -1
                                  else member.rebalance_timeout_ms),
            server_assignor_name=request.server_assignor or member.server_assignor_name,
            subscribed_topic_names=tuple(sorted(set(names))) if names is not None else member.subscribed_topic_names,
            subscribed_topic_regex=regex if regex is not None else member.subscribed_topic_regex,
            client_id=client_id,
            client_host=client_host,
        )
        regex_changed = updated.subscribed_topic_regex != member.subscribed_topic_regex
        if regex_changed and updated.subscribed_topic_regex:
            _check_regex(updated.subscribed_topic_regex)
        subscription_changed = regex_changed or updated.subscribed_topic_names != member.subscribed_topic_names

        # Nothing below fails: the group changes only from here on.
        if replaced_member_id is not None:
            self._cancel_timers(group.group_id, replaced_member_id)
            group.replace_static_member(replaced_member_id, updated)
        else:
            group.update_member(updated)
        self.groups[group.group_id] = group
        self._refresh_epoch(group, bump=group.group_epoch == 0 or subscription_changed)
        if group.group_epoch > group.assignment_epoch:
            assignor = ASSIGNORS[group.preferred_assignor() or self.assignors[0]]
            group.compute_target_assignment(assignor)

        reconciled = reconcile(updated, group.assignment_epoch, group.target_assignment.get(member_id, {}),
                               group.partition_epoch, owned)
        if reconciled != updated:
            group.update_member(reconciled)
            self._schedule_rebalance_timeout(group.group_id, reconciled, now_ms)
        self.timers.schedule(("session", group.group_id, member_id), now_ms + self._session_timeout(group.group_id),
                             partial(self._fence_on_timeout, group.group_id, member_id, None))

        full_request = (request.rebalance_timeout_ms != -1 and (names is not None or regex is not None)
                        and owned is not None)
        changed = reconciled.assigned_partitions != member.assigned_partitions
        return {
            "throttle_time_ms": 0,
            "error_code": ErrorCode.NONE,
            "error_message": None,
            "member_id": member_id,
            "member_epoch": reconciled.member_epoch,
            "heartbeat_interval_ms": self._heartbeat_interval(group.group_id),
            "assignment": heartbeat_assignment(reconciled.assigned_partitions)
            if joining or full_request or changed else None,
        }

    def _group_for_heartbeat(self, group_id: str, member_id: str, joining: bool) -> ConsumerGroup:
        group = self.groups.get(group_id)
        if isinstance(group, ConsumerGroup):
            return group
        if group is not None and (not group.is_empty() or group.group_type == "share"):
            raise KafkaError(ErrorCode.GROUP_ID_NOT_FOUND, f"Group {group_id} is not a consumer group.")
        if not joining:
            # Kafka says GROUP_ID_NOT_FOUND, but it keeps groups across restarts and Ottla does not: a
            # member back after a restart finds no group (or the empty group its offsets left). Told
            # it is unknown, it rejoins as it would after its session ran out; GROUP_ID_NOT_FOUND would
            # stop a librdkafka 2.16 consumer for good.
            raise KafkaError(ErrorCode.UNKNOWN_MEMBER_ID, f"Member {member_id} is not a member of group {group_id}.")
        if not fits_every_version(group_id):
            raise KafkaError(ErrorCode.INVALID_GROUP_ID,  # ListGroups v0-2 could never list it
                             "Group ids longer than 32767 bytes are not accepted.")
        return ConsumerGroup(group_id)  # stored once the heartbeat succeeds

    def _member_for_heartbeat(self, group: ConsumerGroup, member_id: str, request,
                              owned) -> tuple[ConsumerGroupMember, str | None]:
        """The member as it stands (new ones blank) and the id of a static member it replaces."""
        joining = request.member_epoch == 0
        instance_id = request.instance_id
        if instance_id is None:
            member = group.members.get(member_id)
            if member is None:
                if not joining:
                    raise KafkaError(ErrorCode.UNKNOWN_MEMBER_ID,
                                     f"Member {member_id} is not a member of group {group.group_id}.")
                member = ConsumerGroupMember(member_id)
            _check_member_epoch(member, request.member_epoch, owned)
            return member, None
        existing = group.static_member(instance_id)
        if joining:
            if existing is None:
                return group.members.get(member_id) or ConsumerGroupMember(member_id), None
            if existing.member_epoch != LEAVE_GROUP_STATIC_MEMBER_EPOCH:
                raise KafkaError(ErrorCode.UNRELEASED_INSTANCE_ID,
                                 f"Static member {member_id} with instance id {instance_id} cannot join the group "
                                 f"because the instance id is owned by {existing.member_id} member.")
            # The returning instance takes over the old member's assignment under its new member id.
            return replace(existing, member_id=member_id, member_epoch=0, previous_member_epoch=0), existing.member_id
        _check_static_member(existing, member_id, instance_id)
        _check_member_epoch(existing, request.member_epoch, owned)
        return existing, None

    def _refresh_epoch(self, group: ConsumerGroup, *, bump: bool) -> None:
        """Re-resolve regexes and topic metadata; a change of either moves the group epoch on."""
        group.resolve_regexes(self.topics.topic_names())
        metadata = group.compute_subscription_metadata(self.topics)
        if bump or metadata != group.subscription_metadata:
            group.group_epoch += 1
            group.subscription_metadata = metadata

    # -- leaving and fencing

    def _leave(self, request) -> dict:
        group = self._existing_group(request.group_id)
        member_id, instance_id = request.member_id, request.instance_id
        if instance_id is None:
            member = group.members.get(member_id)
            if member is None:
                raise KafkaError(ErrorCode.UNKNOWN_MEMBER_ID,
                                 f"Member {member_id} is not a member of group {group.group_id}.")
            self._fence(group, member)
        else:
            member = group.static_member(instance_id)
            _check_static_member(member, member_id, instance_id)
            if request.member_epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH:
                # A static member leaving for a while keeps its partitions until its session expires.
                self.timers.cancel(("rebalance", group.group_id, member_id))
                group.update_member(replace(member, member_epoch=LEAVE_GROUP_STATIC_MEMBER_EPOCH,
                                            partitions_pending_revocation={}))
            else:
                self._fence(group, member)
        return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "error_message": None, "member_id": member_id,
                "member_epoch": request.member_epoch, "heartbeat_interval_ms": 0, "assignment": None}

    def _fence(self, group: ConsumerGroup, member: ConsumerGroupMember) -> None:
        """Remove the member: its partitions are free at once, the others get them at the next epoch."""
        group.remove_member(member.member_id)
        self._cancel_timers(group.group_id, member.member_id)
        self._refresh_epoch(group, bump=True)

    def _fence_on_timeout(self, group_id: str, member_id: str, epoch: int | None, now_ms: int) -> None:
        group = self.consumer_group(group_id)
        member = group.members.get(member_id) if group is not None else None
        if member is not None and (epoch is None or member.member_epoch == epoch):
            self._fence(group, member)

    def _schedule_rebalance_timeout(self, group_id: str, member: ConsumerGroupMember, now_ms: int) -> None:
        """A member has rebalance_timeout_ms to revoke; still in the same epoch by then, it is fenced."""
        key = ("rebalance", group_id, member.member_id)
        if member.state is MemberState.UNREVOKED_PARTITIONS:
            self.timers.schedule(key, now_ms + member.rebalance_timeout_ms,
                                 partial(self._fence_on_timeout, group_id, member.member_id, member.member_epoch))
        else:
            self.timers.cancel(key)

    def _cancel_timers(self, group_id: str, member_id: str) -> None:
        self.timers.cancel(("session", group_id, member_id))
        self.timers.cancel(("rebalance", group_id, member_id))

    # -- ConsumerGroupDescribe, offsets, deletion

    def describe(self, group_ids: Iterable[str]) -> list[dict]:
        """ConsumerGroupDescribe `groups` entries, in request order."""
        described = []
        for group_id in group_ids:
            try:
                group = self._existing_group(group_id)
            except KafkaError as error:
                described.append(described_error(group_id, error.code, error.message))
            else:
                described.append(described_group(group, self.topics, self.assignors[0]))
        return described

    def validate_offset_commit(self, group_id: str, member_id: str, member_epoch: int, *, api_version: int,
                               is_transactional: bool = False) -> None:
        """OffsetCommit/TxnOffsetCommit to a consumer group: raise what Kafka would answer, else pass."""
        group = self._existing_group(group_id)
        if member_epoch < 0 and group.is_empty():
            return  # an admin client or a consumer without group management
        member = self._known_member(group, member_id)
        if not is_transactional and api_version < OFFSET_COMMIT_MIN_VERSION:
            raise KafkaError(ErrorCode.UNSUPPORTED_VERSION, "OffsetCommit version 9 or above must be used by "
                                                            "members using the modern group protocol")
        _check_offset_member_epoch(member, member_epoch)

    def validate_offset_fetch(self, group_id: str, member_id: str | None, member_epoch: int) -> None:
        """OffsetFetch (v9+ carries member id and epoch) from a consumer group: raise or pass."""
        group = self._existing_group(group_id)
        if member_id is None and member_epoch < 0:
            return
        _check_offset_member_epoch(self._known_member(group, member_id), member_epoch)

    def delete_group(self, group_id: str) -> None:
        """DeleteGroups: only an empty group goes (NON_EMPTY_GROUP otherwise)."""
        group = self._existing_group(group_id)
        if not group.is_empty():
            raise KafkaError(ErrorCode.NON_EMPTY_GROUP, "The group is not empty.")
        del self.groups[group_id]

    def _existing_group(self, group_id: str) -> ConsumerGroup:
        group = self.groups.get(group_id)
        if group is None:
            raise KafkaError(ErrorCode.GROUP_ID_NOT_FOUND, f"Group {group_id} not found.")
        if not isinstance(group, ConsumerGroup):
            raise KafkaError(ErrorCode.GROUP_ID_NOT_FOUND, f"Group {group_id} is not a consumer group.")
        return group

    @staticmethod
    def _known_member(group: ConsumerGroup, member_id: str | None) -> ConsumerGroupMember:
        member = group.members.get(member_id or "")
        if member is None:
            raise KafkaError(ErrorCode.UNKNOWN_MEMBER_ID, f"Member {member_id} is not a member of group "
                                                          f"{group.group_id}.")
        return member


def _check_member_epoch(member: ConsumerGroupMember, received: int, owned) -> None:
    """FENCED_MEMBER_EPOCH unless the epoch is the member's current one, or its previous one with no
    partition beyond the current assignment (the response that moved it on may have been lost)."""
    if received == 0:
        return  # (re)joining
    if received > member.member_epoch:
        raise KafkaError(ErrorCode.FENCED_MEMBER_EPOCH,
                         f"The consumer group member has a greater member epoch ({received}) than the one known "
                         f"by the group coordinator ({member.member_epoch}). The member must abandon all its "
                         f"partitions and rejoin.")
    if received < member.member_epoch and (received != member.previous_member_epoch
                                           or not owned_is_subset(owned, member.assigned_partitions)):
        raise KafkaError(ErrorCode.FENCED_MEMBER_EPOCH,
                         f"The consumer group member has a smaller member epoch ({received}) than the one known "
                         f"by the group coordinator ({member.member_epoch}). The member must abandon all its "
                         f"partitions and rejoin.")


def _check_static_member(member: ConsumerGroupMember | None, member_id: str, instance_id: str) -> None:
    if member is None:
        raise KafkaError(ErrorCode.UNKNOWN_MEMBER_ID, f"Instance id {instance_id} is unknown.")
    if member.member_id != member_id:
        raise KafkaError(ErrorCode.FENCED_INSTANCE_ID, f"Static member {member_id} with instance id {instance_id} "
                                                       f"was fenced by member {member.member_id}.")


def _check_offset_member_epoch(member: ConsumerGroupMember, received: int) -> None:
    if received != member.member_epoch:
        raise KafkaError(ErrorCode.STALE_MEMBER_EPOCH, f"The received member epoch {received} does not match "
                                                       f"the expected member epoch {member.member_epoch}.")


def _check_regex(regex: str) -> None:
    try:
        compile_regex(regex)
    except InvalidRegex as error:
        raise KafkaError(ErrorCode.INVALID_REGULAR_EXPRESSION,
                         f"SubscribedTopicRegex `{regex}` is not a valid regular expression: {error}.") from None

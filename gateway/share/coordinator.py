"""Share-group membership (KIP-932): ShareGroupHeartbeat and ShareGroupDescribe over the broker's groups.

Sans-IO like the other coordinators: calls take `now_ms`, `tick(now_ms)` fences members whose session
ran out. The member id is the client's own (a UUID it keeps for its lifetime); epoch 0 joins, -1 leaves.
A heartbeat that changes the membership or the subscribed topics' metadata moves the group epoch on,
the simple assignor recomputes the assignment, and every member takes it at its next heartbeat
(there is nothing to revoke: members share partitions). The heartbeat interval and session timeout
are the group's `share.heartbeat.interval.ms` / `share.session.timeout.ms`.

A member that leaves or is fenced is reported to `on_member_gone(group_id, member_id)`: the share
partitions release its records at once and its share session goes.
Share groups share the id space with classic and consumer groups: a group id held by another type is
GROUP_ID_NOT_FOUND "Group <id> is not a share group.", as Kafka answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial

from gateway.groups.group import Group
from gateway.groups.kip848.topics import TopicMetadata
from gateway.groups.timers import Timers
from gateway.limits import fit_message, fits_every_version
from gateway.share.config import ShareConfigs
from gateway.share.group import ASSIGNOR_NAME, ShareGroup, ShareMember, simple_assign
from wire.errors import ErrorCode, KafkaError

LEAVE_GROUP_MEMBER_EPOCH = -1
MAX_GROUP_SIZE = 200  # group.share.max.size


def heartbeat_error(code: ErrorCode, message: str | None = None) -> dict:
    return {"throttle_time_ms": 0, "error_code": code, "error_message": fit_message(message), "member_id": None,
            "member_epoch": 0, "heartbeat_interval_ms": 0, "assignment": None}


class ShareGroupCoordinator:
    def __init__(self, topics: TopicMetadata, configs: ShareConfigs, *, groups: dict[str, Group] | None = None,
                 on_member_gone: Callable[[str, str], None] = lambda group_id, member_id: None,
                 max_size: int | None = None) -> None:
        self.topics = topics
        self.configs = configs
        self.groups: dict[str, Group] = {} if groups is None else groups
        self.on_member_gone = on_member_gone
        self._max_size = max_size  # None: the broker's group.share.max.size, read each time
        self.timers = Timers()

    @property
    def max_size(self) -> int:
        return self._max_size if self._max_size is not None else self.configs.broker("group.share.max.size",
                                                                                       MAX_GROUP_SIZE)

    def share_group(self, group_id: str) -> ShareGroup | None:
        group = self.groups.get(group_id)
        return group if isinstance(group, ShareGroup) else None

    def is_member(self, group_id: str, member_id: str) -> bool:
        group = self.share_group(group_id)
        return group is not None and member_id in group.members

    def tick(self, now_ms: int) -> None:
        self.timers.run_due(now_ms)

    def next_deadline(self) -> int | None:
        return self.timers.next_deadline()

    # -- ShareGroupHeartbeat

    def heartbeat(self, request, now_ms: int, *, client_id: str = "", client_host: str = "") -> dict:
        self.tick(now_ms)
        try:
            _validate(request)
            if request.member_epoch == LEAVE_GROUP_MEMBER_EPOCH:
                return self._leave(request)
            return self._heartbeat(request, now_ms, client_id, client_host)
        except KafkaError as error:
            return heartbeat_error(error.code, error.message)

    def _heartbeat(self, request, now_ms: int, client_id: str, client_host: str) -> dict:
        group_id, member_id = request.group_id, request.member_id
        joining = request.member_epoch == 0
        group = self.groups.get(group_id)
        if group is not None and not isinstance(group, ShareGroup):
            raise KafkaError(ErrorCode.GROUP_ID_NOT_FOUND, f"Group {group_id} is not a share group.")
        member = group.members.get(member_id) if group is not None else None
        if member is None:
            if not joining:
                # After a restart (share groups' membership is not persisted) the member rejoins.
                raise KafkaError(ErrorCode.UNKNOWN_MEMBER_ID,
                                 f"Member {member_id} is not a member of group {group_id}.")
            if group is not None and len(group.members) >= self.max_size:
                raise KafkaError(ErrorCode.GROUP_MAX_SIZE_REACHED,
                                 f"The share group has reached its maximum capacity of {self.max_size} members.")
            member = ShareMember(member_id)
        elif not joining and request.member_epoch != member.member_epoch:
            raise KafkaError(ErrorCode.FENCED_MEMBER_EPOCH,
                             f"The share group member has a {'greater' if request.member_epoch > member.member_epoch else 'smaller'} "
                             f"member epoch ({request.member_epoch}) than the one known by the group coordinator "
                             f"({member.member_epoch}). The member must abandon all its partitions and rejoin.")
        if group is None:
            if not fits_every_version(group_id):
                raise KafkaError(ErrorCode.INVALID_GROUP_ID,  # ListGroups v0-2 could never list it
                                 "Group ids longer than 32767 bytes are not accepted.")
            group = ShareGroup(group_id)
            self.groups[group_id] = group
        bump = member_id not in group.members
        if request.subscribed_topic_names is not None:
            names = tuple(sorted(set(request.subscribed_topic_names)))
            bump = bump or names != member.subscribed_topic_names
            member.subscribed_topic_names = names
        if request.rack_id is not None:
            member.rack_id = request.rack_id
        member.client_id, member.client_host = client_id, client_host
        previous_epoch = member.member_epoch
        if joining:
            member.member_epoch = 0
        group.members[member_id] = member
        self._refresh(group, bump=bump)
        if member.member_epoch < group.assignment_epoch:
            member.member_epoch = group.assignment_epoch
        config = self.configs.for_group(group_id)
        self.timers.schedule(("session", group_id, member_id), now_ms + config.session_timeout_ms,
                             partial(self._fence_on_timeout, group_id, member_id))
        send_assignment = joining or member.member_epoch != previous_epoch
        return {
            "throttle_time_ms": 0, "error_code": ErrorCode.NONE, "error_message": None,
            "member_id": member_id, "member_epoch": member.member_epoch,
            "heartbeat_interval_ms": config.heartbeat_interval_ms,
            "assignment": {"topic_partitions": [
                {"topic_id": topic_id, "partitions": sorted(partitions)}
                for topic_id, partitions in sorted(member.assignment.items())
            ]} if send_assignment else None,
        }

    def _refresh(self, group: ShareGroup, *, bump: bool) -> None:
        """Re-read the subscribed topics' metadata; a change, or `bump`, moves the group epoch on and
        recomputes every member's assignment."""
        metadata = {}
        for name in group.subscribed_topic_names():
            info = self.topics.topic(name)
            if info is not None:
                metadata[name] = (info.topic_id, info.num_partitions)
        if bump or metadata != group.subscription_metadata:
            group.group_epoch += 1
            group.subscription_metadata = metadata
        if group.group_epoch > group.assignment_epoch:
            subscriptions = {
                m.member_id: [(metadata[name][0], p) for name in m.subscribed_topic_names if name in metadata
                              for p in range(metadata[name][1])]
                for m in group.members.values()
            }
            target = simple_assign(subscriptions, {m.member_id: m.assignment for m in group.members.values()})
            for member_id, assignment in target.items():
                group.members[member_id].assignment = assignment
            group.assignment_epoch = group.group_epoch

    def _leave(self, request) -> dict:
        group = self.existing(request.group_id)
        if request.member_id not in group.members:
            raise KafkaError(ErrorCode.UNKNOWN_MEMBER_ID,
                             f"Member {request.member_id} is not a member of group {group.group_id}.")
        self._remove(group, request.member_id)
        return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "error_message": None,
                "member_id": request.member_id, "member_epoch": LEAVE_GROUP_MEMBER_EPOCH,
                "heartbeat_interval_ms": 0, "assignment": None}

    def _fence_on_timeout(self, group_id: str, member_id: str, now_ms: int) -> None:
        group = self.share_group(group_id)
        if group is not None and member_id in group.members:
            self._remove(group, member_id)

    def _remove(self, group: ShareGroup, member_id: str) -> None:
        del group.members[member_id]
        self.timers.cancel(("session", group.group_id, member_id))
        group.group_epoch += 1
        self._refresh(group, bump=False)
        self.on_member_gone(group.group_id, member_id)

    def existing(self, group_id: str) -> ShareGroup:
        """The share group of that id; GROUP_ID_NOT_FOUND if there is none or the id is another type's."""
        group = self.groups.get(group_id)
        if group is None:
            raise KafkaError(ErrorCode.GROUP_ID_NOT_FOUND, f"Group {group_id} not found.")
        if not isinstance(group, ShareGroup):
            raise KafkaError(ErrorCode.GROUP_ID_NOT_FOUND, f"Group {group_id} is not a share group.")
        return group

    # -- ShareGroupDescribe

    def describe(self, group_ids: Iterable[str]) -> list[dict]:
        described = []
        for group_id in group_ids:
            try:
                if not group_id:
                    raise KafkaError(ErrorCode.INVALID_GROUP_ID, "Group id must not be empty.")
                group = self.existing(group_id)
            except KafkaError as error:
                described.append({"error_code": error.code, "error_message": error.message, "group_id": group_id,
                                  "group_state": "Dead", "group_epoch": -1, "assignment_epoch": -1,
                                  "assignor_name": "", "members": []})
                continue
            described.append({
                "error_code": ErrorCode.NONE, "error_message": None, "group_id": group_id,
                "group_state": group.state_name, "group_epoch": group.group_epoch,
                "assignment_epoch": group.assignment_epoch, "assignor_name": ASSIGNOR_NAME,
                "members": [self._described_member(m) for m in group.members.values()],
            })
        return described

    def _described_member(self, member: ShareMember) -> dict:
        topic_partitions = []
        for topic_id, partitions in sorted(member.assignment.items()):
            info = self.topics.topic_by_id(topic_id)
            topic_partitions.append({"topic_id": topic_id, "topic_name": info.name if info else "",
                                     "partitions": sorted(partitions)})
        return {"member_id": member.member_id, "rack_id": member.rack_id, "member_epoch": member.member_epoch,
                "client_id": member.client_id, "client_host": member.client_host,
                "subscribed_topic_names": list(member.subscribed_topic_names),
                "assignment": {"topic_partitions": topic_partitions}}


def _validate(request) -> None:
    """Kafka's throwIfShareGroupHeartbeatRequestIsInvalid."""
    if not request.group_id:
        raise KafkaError(ErrorCode.INVALID_REQUEST, "GroupId can't be empty.")
    if not request.member_id:
        raise KafkaError(ErrorCode.INVALID_REQUEST, "MemberId can't be empty.")
    if request.rack_id is not None and not request.rack_id.strip():
        raise KafkaError(ErrorCode.INVALID_REQUEST, "RackId can't be empty.")
    if request.member_epoch < LEAVE_GROUP_MEMBER_EPOCH:
        raise KafkaError(ErrorCode.INVALID_REQUEST, f"MemberEpoch is {request.member_epoch}, but must be "
                                                    f"greater than or equal to -1.")
    if request.member_epoch == 0 and not request.subscribed_topic_names:
        raise KafkaError(ErrorCode.INVALID_REQUEST, "SubscribedTopicNames must be set in first request.")

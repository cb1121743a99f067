"""The classic group protocol: JoinGroup, SyncGroup, Heartbeat and LeaveGroup, and the rebalance timers.

Sans-IO and single-threaded: every call takes `now_ms`, fires the timers due by then, and returns at
once. Responses Kafka delays (JoinGroup until the join phase completes, a follower's SyncGroup until
the leader's assignment arrives) go to the `respond` callback given with the request, later, from
whichever call completes them (including `tick`). `respond` must not call back into the coordinator.
Every JoinGroup and SyncGroup gets exactly one response.

Each completed rebalance (the leader's SyncGroup, a static member's takeover in a Stable group, a join
phase that leaves the group Empty) writes the group's metadata record through the `GroupStore`;
`load_groups` brings those groups back after a restart (see `gateway.groups.group_metadata`).

Responses are dicts keyed by the response fields of Kafka's JSON schemas. Where Kafka sends a null
protocol_type/protocol_name they hold None: handlers below the version that made the field nullable
send "" instead (JoinGroup protocol_name before v7).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from gateway.groups.config import GroupConfig
from gateway.groups.group import (
    COMPLETING_REBALANCE, EMPTY, PREPARING_REBALANCE, STABLE, ClassicGroup, Group, Member, Protocols,
    Respond, join_error, sync_error,
)
from gateway.groups.group_metadata import GroupMetadataStore
from gateway.groups.store import GroupStore, MemoryGroupStore
from gateway.groups.timers import Timers
from gateway.limits import fits_every_version
from wire.errors import ErrorCode

NO_MEMBER_ID = ""
JOIN_REQUIRES_KNOWN_MEMBER_ID = 4  # JoinGroup v4+: a new member first gets MEMBER_ID_REQUIRED
JOIN_SKIP_ASSIGNMENT = 9  # JoinGroup v9+: a rejoining static leader can be told to skip assignment
LEAVE_GROUP_BATCH = 3
TIMERS_PER_TICK = 1000  # LeaveGroup v3+: a list of members, each with its own error code


class ClassicMembership:
    """The classic rebalance protocol over a set of groups (Kafka's GroupCoordinator, classic half)."""

    def __init__(self, config: GroupConfig | None = None, groups: dict[str, Group] | None = None,
                 store: GroupStore | None = None) -> None:
        self.config = config or GroupConfig()
        self.groups: dict[str, Group] = {} if groups is None else groups  # shared with other group types
        self.timers = Timers()
        self.group_metadata = GroupMetadataStore(store if store is not None else MemoryGroupStore())

    def load_groups(self, now_ms: int) -> None:
        """Bring back every stored group, as Kafka does when it loads __consumer_offsets: each member
        gets a fresh session (now + its session timeout) to heartbeat in; a group over group.max.size
        (the setting may have shrunk) rebalances."""
        for group in self.group_metadata.load():
            if not fits_every_version(group.group_id):
                continue  # stored before such ids were refused: it would break ListGroups v0-2 for everyone
            self.groups[group.group_id] = group
            for member in group.members.values():
                self._schedule_heartbeat(group, member.member_id, now_ms + member.session_timeout_ms)
            if len(group.members) > self.config.group_max_size:
                self._prepare_rebalance(group, now_ms)

    def tick(self, now_ms: int) -> None:
        """Fire the timers due by now_ms (session expiry, join-phase completion, initial delay ...), at
        most TIMERS_PER_TICK: 100,000 sessions ending together are many ticks, not one long stall
        (the rest are still due, so the owner ticks again at once)."""
        self.timers.run_due(now_ms, TIMERS_PER_TICK)

    def next_deadline(self) -> int | None:
        """When `tick` next has something to do (None: nothing scheduled)."""
        return self.timers.next_deadline()

    def classic_group(self, group_id: str) -> ClassicGroup | None:
        group = self.groups.get(group_id)
        return group if isinstance(group, ClassicGroup) else None

    # -- JoinGroup

    def join_group(
        self, *, group_id: str, member_id: str, group_instance_id: str | None, session_timeout_ms: int,
        rebalance_timeout_ms: int, protocol_type: str, protocols: Protocols, client_id: str | None,
        client_host: str, api_version: int, now_ms: int, respond: Respond, reason: str | None = None,
    ) -> None:
        """JoinGroup; `rebalance_timeout_ms` -1 (v0, which has none) means the session timeout.
        `reason` (v8+, KIP-800) only explains the join in logs: it changes nothing here.
        Timers are left to `tick`: a join phase due now (initial delay 0) must not end inside the next
        member's JoinGroup, or joins arriving together would split into two generations."""
        if rebalance_timeout_ms < 0:
            rebalance_timeout_ms = session_timeout_ms
        protocols = [(name, bytes(metadata)) for name, metadata in protocols]
        join = _Join(member_id, group_instance_id, session_timeout_ms, rebalance_timeout_ms, protocol_type,
                     protocols, client_id or "", client_host, api_version, respond)
        cfg = self.config
        if not group_id or not fits_every_version(group_id):
            respond(join_error(member_id, ErrorCode.INVALID_GROUP_ID))  # too long: ListGroups v0-2 could not list it
        elif not all(map(fits_every_version, (group_instance_id, protocol_type, *(n for n, _ in protocols)))):
            # DescribeGroups v0-4 and JoinGroup v0-5 show these to the other members: refuse what they cannot carry
            respond(join_error(member_id, ErrorCode.INVALID_REQUEST))
        elif not cfg.group_min_session_timeout_ms <= session_timeout_ms <= cfg.group_max_session_timeout_ms:
            respond(join_error(member_id, ErrorCode.INVALID_SESSION_TIMEOUT))
        else:
            group = self.classic_group(group_id)
            other = self.groups.get(group_id) if group is None else None
            if other is not None and (not other.is_empty() or other.group_type == "share"):
                # A group of another type (KIP-848 "consumer") with members: Kafka would mix the two
                # protocols in one group, which Ottla does not; an empty one is replaced, as Kafka does
                # (not a share group: its share-partition state outlives its members).
                respond(join_error(member_id, ErrorCode.INCONSISTENT_GROUP_PROTOCOL))
            elif group is None and member_id:
                respond(join_error(member_id, ErrorCode.UNKNOWN_MEMBER_ID))
            else:
                if group is None:
                    group = self.groups[group_id] = ClassicGroup(group_id, now_ms)
                self._join(group, join, now_ms)

    def _join(self, group: ClassicGroup, join: _Join, now_ms: int) -> None:
        if not self._accepts_joining_member(group, join.member_id):
            was_member = join.member_id in group.members
            self._remove_member(group, join.member_id)
            if was_member:
                self._on_members_removed(group, now_ms)
            join.respond(join_error(NO_MEMBER_ID, ErrorCode.GROUP_MAX_SIZE_REACHED))
        elif not group.supports_protocols(join.protocol_type, (name for name, _ in join.protocols)):
            join.respond(join_error(join.member_id, ErrorCode.INCONSISTENT_GROUP_PROTOCOL))
        elif not join.member_id:
            self._join_new_member(group, join, now_ms)
        elif join.member_id in group.pending_members and join.group_instance_id is None:
            self._add_member_and_rebalance(group, join.member_id, join, now_ms)
        else:
            self._join_known_member(group, join, now_ms)

    def _accepts_joining_member(self, group: ClassicGroup, member_id: str) -> bool:
        max_size = self.config.group_max_size
        if group.is_in(EMPTY):
            return True
        member = group.members.get(member_id)
        if group.is_in(PREPARING_REBALANCE):
            # Counting the members that rejoined lets the last ones to rejoin an oversized group out.
            return (member is not None and member.awaiting_join is not None) or group.num_awaiting_join() < max_size
        return member is not None or len(group.members) < max_size

    def _join_new_member(self, group: ClassicGroup, join: _Join, now_ms: int) -> None:
        new_member_id = group.generate_member_id(join.client_id, join.group_instance_id)
        if join.group_instance_id is not None:
            old_member_id = group.static_member_id(join.group_instance_id)
            if old_member_id is not None:
                self._replace_static_member(group, old_member_id, new_member_id, join, now_ms)
            else:
                self._add_member_and_rebalance(group, new_member_id, join, now_ms)
        elif join.api_version >= JOIN_REQUIRES_KNOWN_MEMBER_ID:
            group.pending_members.add(new_member_id)
            self._schedule_heartbeat(group, new_member_id, now_ms + join.session_timeout_ms)
            join.respond(join_error(new_member_id, ErrorCode.MEMBER_ID_REQUIRED))
        else:
            self._add_member_and_rebalance(group, new_member_id, join, now_ms)

    def _join_known_member(self, group: ClassicGroup, join: _Join, now_ms: int) -> None:
        error = group.validate_member(join.member_id, join.group_instance_id)
        if error:
            join.respond(join_error(join.member_id, error))
            return
        member = group.members[join.member_id]
        if group.is_in(PREPARING_REBALANCE):
            self._update_member_and_rebalance(group, member, join, now_ms)
        elif group.is_in(COMPLETING_REBALANCE):
            if member.matches(join.protocols):
                # It lost the JoinGroup response: answer again for the current generation.
                join.respond(self._join_response(group, member.member_id, with_members=group.is_leader(member.member_id)))
            else:
                self._update_member_and_rebalance(group, member, join, now_ms)
        elif group.is_in(STABLE):
            # The leader rejoining forces a rebalance (assignment inputs such as topic metadata may have
            # changed); so does a follower with new metadata. Otherwise it resumes the current generation.
            if group.is_leader(member.member_id) or not member.matches(join.protocols):
                self._update_member_and_rebalance(group, member, join, now_ms)
            else:
                join.respond(self._join_response(group, member.member_id, with_members=False))
        else:
            join.respond(join_error(join.member_id, ErrorCode.UNKNOWN_MEMBER_ID))

    def _add_member_and_rebalance(self, group: ClassicGroup, member_id: str, join: _Join, now_ms: int) -> None:
        member = Member(member_id, join.group_instance_id, join.client_id, join.client_host,
                        join.rebalance_timeout_ms, join.session_timeout_ms, join.protocol_type,
                        list(join.protocols), is_new=True)
        if group.is_in(PREPARING_REBALANCE) and group.previous_state is EMPTY:
            group.new_member_added = True
        group.add(member, join.respond)
        # A new member cannot heartbeat while its JoinGroup is parked; a client that gave up and
        # retried leaves a defunct member behind, so new members' joins time out on their own.
        self._schedule_heartbeat(group, member_id, now_ms + self.config.group_new_member_join_timeout_ms)
        self._maybe_prepare_rebalance_or_complete_join(group, now_ms)

    def _update_member_and_rebalance(self, group: ClassicGroup, member: Member, join: _Join, now_ms: int) -> None:
        group.update_member(member, join.protocols, join.rebalance_timeout_ms, join.session_timeout_ms, join.respond)
        self._maybe_prepare_rebalance_or_complete_join(group, now_ms)

    def _replace_static_member(self, group: ClassicGroup, old_member_id: str, new_member_id: str,
                               join: _Join, now_ms: int) -> None:
        """A static member rejoined with no member id (it restarted): it takes over the old member's
        place and assignment; a Stable group does not rebalance unless the chosen protocol changes."""
        current_leader = group.leader_id
        member = group.replace_static_member(join.group_instance_id, old_member_id, new_member_id)
        self.timers.cancel(_heartbeat_key(group, old_member_id))
        group.update_member(member, join.protocols, join.rebalance_timeout_ms, join.session_timeout_ms, join.respond)
        self._schedule_heartbeat(group, new_member_id, now_ms + member.session_timeout_ms)
        if group.is_in(STABLE):
            if group.protocol_name == group.select_protocol():
                if join.api_version >= JOIN_SKIP_ASSIGNMENT:
                    is_leader = group.is_leader(new_member_id)
                    response = self._join_response(group, new_member_id, with_members=is_leader)
                    response["skip_assignment"] = is_leader
                else:
                    # The old leader id keeps a replaced leader from computing an assignment that
                    # a Stable group would never hand out.
                    response = self._join_response(group, new_member_id, with_members=False)
                    response["leader"] = current_leader
                self.group_metadata.store_group(group)  # the instance id now maps to the new member id
                group.complete_join(member, response)
            else:
                self._prepare_rebalance(group, now_ms)
        elif group.is_in(COMPLETING_REBALANCE):
            # The leader may be assigning to the old member id: start over so the new id gets a share.
            self._prepare_rebalance(group, now_ms)
        else:
            self._maybe_complete_join_phase(group, now_ms)

    # -- SyncGroup

    def sync_group(
        self, *, group_id: str, generation_id: int, member_id: str, group_instance_id: str | None = None,
        protocol_type: str | None = None, protocol_name: str | None = None,
        assignments: Sequence[tuple[str, bytes]] = (), now_ms: int, respond: Respond,
    ) -> None:
        """SyncGroup; `assignments` (member_id, assignment) pairs come from the leader only."""
        self.tick(now_ms)
        group = self.classic_group(group_id) if group_id else None
        if not group_id:
            respond(sync_error(ErrorCode.INVALID_GROUP_ID))
        elif group is None:
            respond(sync_error(ErrorCode.UNKNOWN_MEMBER_ID))
        elif error := self._validate_sync(group, generation_id, member_id, group_instance_id, protocol_type,
                                          protocol_name):
            respond(sync_error(error))
        elif group.is_in(PREPARING_REBALANCE):
            respond(sync_error(ErrorCode.REBALANCE_IN_PROGRESS))
        elif group.is_in(COMPLETING_REBALANCE):
            member = group.members[member_id]
            group.complete_sync(member, sync_error(ErrorCode.REBALANCE_IN_PROGRESS))  # a retried SyncGroup
            member.awaiting_sync = respond
            group.pending_sync_members.discard(member_id)
            if group.is_leader(member_id):
                assignment = {m: bytes(a) for m, a in assignments}
                for each in group.members.values():
                    each.assignment = assignment.get(each.member_id, b"")
                group.transition_to(STABLE, now_ms)
                self.group_metadata.store_group(group)
                self._propagate_assignment(group, ErrorCode.NONE, now_ms)
        elif group.is_in(STABLE):
            member = group.members[member_id]
            group.pending_sync_members.discard(member_id)
            respond(self._sync_response(group, member.assignment))
            self._schedule_heartbeat(group, member_id, now_ms + member.session_timeout_ms)
        else:
            respond(sync_error(ErrorCode.UNKNOWN_MEMBER_ID))
        self.tick(now_ms)

    @staticmethod
    def _validate_sync(group: ClassicGroup, generation_id: int, member_id: str, group_instance_id: str | None,
                       protocol_type: str | None, protocol_name: str | None) -> ErrorCode:
        if error := group.validate_member(member_id, group_instance_id):
            return error
        if generation_id != group.generation_id:
            return ErrorCode.ILLEGAL_GENERATION
        if protocol_type is not None and protocol_type != group.protocol_type:
            return ErrorCode.INCONSISTENT_GROUP_PROTOCOL
        if protocol_name is not None and protocol_name != group.protocol_name:
            return ErrorCode.INCONSISTENT_GROUP_PROTOCOL
        return ErrorCode.NONE

    # -- Heartbeat

    def heartbeat(self, *, group_id: str, generation_id: int, member_id: str,
                  group_instance_id: str | None = None, now_ms: int) -> dict:
        self.tick(now_ms)
        return {"error_code": self._heartbeat(group_id, generation_id, member_id, group_instance_id, now_ms)}

    def _heartbeat(self, group_id: str, generation_id: int, member_id: str, group_instance_id: str | None,
                   now_ms: int) -> ErrorCode:
        if not group_id:
            return ErrorCode.INVALID_GROUP_ID
        group = self.classic_group(group_id)
        if group is None:
            return ErrorCode.UNKNOWN_MEMBER_ID
        if error := group.validate_member(member_id, group_instance_id):
            return error
        if generation_id != group.generation_id:
            return ErrorCode.ILLEGAL_GENERATION
        if group.is_in(EMPTY):
            return ErrorCode.UNKNOWN_MEMBER_ID
        member = group.members[member_id]
        self._schedule_heartbeat(group, member_id, now_ms + member.session_timeout_ms)
        if group.is_in(PREPARING_REBALANCE):
            return ErrorCode.REBALANCE_IN_PROGRESS
        return ErrorCode.NONE

    # -- LeaveGroup

    def leave_group(self, *, group_id: str, members: Sequence[tuple[str, str | None]], api_version: int,
                    now_ms: int) -> dict:
        """LeaveGroup of (member_id, group_instance_id) pairs. An empty member id with an instance id
        removes that static member (the admin client's removeMembersFromConsumerGroup). Below v3 (one
        member, no per-member errors) the member's error is the response's error_code."""
        self.tick(now_ms)
        if not group_id:
            return {"error_code": ErrorCode.INVALID_GROUP_ID, "members": []}
        group = self.classic_group(group_id)
        results = []
        removed_members = removed_pending = False
        for member_id, group_instance_id in members:
            error = ErrorCode.UNKNOWN_MEMBER_ID
            if group is None:
                pass
            elif not member_id:
                current = group.static_member_id(group_instance_id)
                if current is not None:
                    self._remove_member(group, current)
                    error, removed_members = ErrorCode.NONE, True
            elif member_id in group.pending_members and group_instance_id is None:
                self._remove_member(group, member_id)
                error, removed_pending = ErrorCode.NONE, True
            else:
                error = group.validate_member(member_id, group_instance_id)
                if not error:
                    self._remove_member(group, member_id)
                    removed_members = True
            results.append({"member_id": member_id, "group_instance_id": group_instance_id, "error_code": error})
        if removed_members:
            self._on_members_removed(group, now_ms)
        elif removed_pending:
            self._on_pending_member_removed(group, now_ms)
        self.tick(now_ms)
        top = ErrorCode.NONE
        if api_version < LEAVE_GROUP_BATCH:
            top = next((r["error_code"] for r in results if r["error_code"]), ErrorCode.NONE)
        return {"error_code": top, "members": results}

    # -- the rebalance

    def _maybe_prepare_rebalance_or_complete_join(self, group: ClassicGroup, now_ms: int) -> None:
        if group.can_rebalance():
            self._prepare_rebalance(group, now_ms)
        else:
            self._maybe_complete_join_phase(group, now_ms)

    def _prepare_rebalance(self, group: ClassicGroup, now_ms: int) -> None:
        if group.is_in(COMPLETING_REBALANCE):
            self._reset_and_propagate_assignment_error(group, ErrorCode.REBALANCE_IN_PROGRESS, now_ms)
        self.timers.cancel(_sync_key(group))
        group.pending_sync_members.clear()
        initial = group.is_in(EMPTY)
        group.transition_to(PREPARING_REBALANCE, now_ms)
        if initial:
            # A new group waits group.initial.rebalance.delay.ms (again, while members keep arriving,
            # within the rebalance timeout) so that members starting together join one generation.
            delay = self.config.group_initial_rebalance_delay_ms
            remaining = max(group.rebalance_timeout_ms() - delay, 0)
            self._schedule_initial_join(group, now_ms + delay, delay, remaining)
        elif group.has_all_members_joined():
            self._complete_join(group, now_ms)
        else:
            self._schedule_join(group, now_ms + group.rebalance_timeout_ms())

    def _maybe_complete_join_phase(self, group: ClassicGroup, now_ms: int) -> None:
        """Complete the join phase once everyone rejoined (never early during the initial delay)."""
        if (group.is_in(PREPARING_REBALANCE) and group.previous_state is not EMPTY
                and group.has_all_members_joined()):
            self._complete_join(group, now_ms)

    def _initial_join_due(self, group: ClassicGroup, delay: int, remaining: int, now_ms: int) -> None:
        if not self._is_current(group) or not group.is_in(PREPARING_REBALANCE):
            return
        if group.new_member_added and remaining != 0:
            group.new_member_added = False
            next_delay = min(self.config.group_initial_rebalance_delay_ms, remaining)
            self._schedule_initial_join(group, now_ms + next_delay, next_delay, max(remaining - delay, 0))
        else:
            self._complete_join(group, now_ms)

    def _join_due(self, group: ClassicGroup, now_ms: int) -> None:
        if self._is_current(group) and group.is_in(PREPARING_REBALANCE):
            self._complete_join(group, now_ms)

    def _complete_join(self, group: ClassicGroup, now_ms: int) -> None:
        """End the join phase: drop dynamic members that did not rejoin, start the next generation and
        answer every parked JoinGroup (the leader's with all members' metadata)."""
        self.timers.cancel(_join_key(group))
        for member in group.not_yet_rejoined():
            if member.group_instance_id is None:
                self._remove_member(group, member.member_id)
        if not group.maybe_elect_new_joined_leader() and group.members:
            # Only static members that have not rejoined are left: wait for them (or their sessions).
            self._schedule_join(group, now_ms + max(group.rebalance_timeout_ms(), 1))
            return
        group.init_next_generation(now_ms)
        if group.is_in(EMPTY):
            self.group_metadata.store_group(group)  # its generation, and when it became empty
            return
        for member in group.members.values():
            leader = group.is_leader(member.member_id)
            group.complete_join(member, self._join_response(group, member.member_id, with_members=leader))
            self._schedule_heartbeat(group, member.member_id, now_ms + member.session_timeout_ms)
            member.is_new = False
            group.pending_sync_members.add(member.member_id)
        self.timers.schedule(_sync_key(group), now_ms + group.rebalance_timeout_ms(),
                             partial(self._sync_due, group, group.generation_id))

    def _sync_due(self, group: ClassicGroup, generation_id: int, now_ms: int) -> None:
        """Members that got the JoinGroup response but sent no SyncGroup within the rebalance timeout
        are removed, and the group rebalances without them."""
        if not self._is_current(group) or generation_id != group.generation_id:
            return
        if group.is_in(COMPLETING_REBALANCE, STABLE) and group.pending_sync_members:
            for member_id in list(group.pending_sync_members):
                self._remove_member(group, member_id)
            self._prepare_rebalance(group, now_ms)

    def _reset_and_propagate_assignment_error(self, group: ClassicGroup, error: ErrorCode, now_ms: int) -> None:
        for member in group.members.values():
            member.assignment = b""
        self._propagate_assignment(group, error, now_ms)

    def _propagate_assignment(self, group: ClassicGroup, error: ErrorCode, now_ms: int) -> None:
        for member in list(group.members.values()):
            response = self._sync_response(group, member.assignment) if not error else sync_error(error)
            if group.complete_sync(member, response):
                # Its session may have run out while it waited: count from now.
                self._schedule_heartbeat(group, member.member_id, now_ms + member.session_timeout_ms)

    # -- members leaving

    def _remove_member(self, group: ClassicGroup, member_id: str) -> None:
        """Remove a member; a JoinGroup or SyncGroup it has parked gets UNKNOWN_MEMBER_ID."""
        member = group.members.get(member_id)
        if member is not None:
            group.complete_join(member, join_error(NO_MEMBER_ID, ErrorCode.UNKNOWN_MEMBER_ID))
            group.complete_sync(member, sync_error(ErrorCode.UNKNOWN_MEMBER_ID))
        group.remove(member_id)
        self.timers.cancel(_heartbeat_key(group, member_id))

    def _on_members_removed(self, group: ClassicGroup, now_ms: int) -> None:
        if group.is_in(STABLE, COMPLETING_REBALANCE):
            self._prepare_rebalance(group, now_ms)
        elif group.is_in(PREPARING_REBALANCE) and group.has_all_members_joined():
            self._complete_join(group, now_ms)

    def _on_pending_member_removed(self, group: ClassicGroup, now_ms: int) -> None:
        """A member that never came back with its member id no longer holds up the join phase."""
        if group.is_in(PREPARING_REBALANCE) and group.has_all_members_joined():
            self._complete_join(group, now_ms)

    def _heartbeat_due(self, group: ClassicGroup, member_id: str, now_ms: int) -> None:
        """The session (or a pending member's wait, or a new member's join) timed out."""
        if not self._is_current(group):
            return
        if member_id in group.pending_members:
            group.pending_members.discard(member_id)
            self._on_pending_member_removed(group, now_ms)
            return
        member = group.members.get(member_id)
        if member is not None and not member.has_satisfied_heartbeat():
            self._remove_member(group, member_id)
            self._on_members_removed(group, now_ms)

    # -- helpers

    def _is_current(self, group: ClassicGroup) -> bool:
        return self.groups.get(group.group_id) is group

    def _schedule_heartbeat(self, group: ClassicGroup, member_id: str, deadline_ms: int) -> None:
        self.timers.schedule(_heartbeat_key(group, member_id), deadline_ms,
                             partial(self._heartbeat_due, group, member_id))

    def _schedule_join(self, group: ClassicGroup, deadline_ms: int) -> None:
        self.timers.schedule(_join_key(group), deadline_ms, partial(self._join_due, group))

    def _schedule_initial_join(self, group: ClassicGroup, deadline_ms: int, delay: int, remaining: int) -> None:
        self.timers.schedule(_join_key(group), deadline_ms, partial(self._initial_join_due, group, delay, remaining))

    def _cancel_group_timers(self, group: ClassicGroup) -> None:
        self.timers.cancel(_join_key(group))
        self.timers.cancel(_sync_key(group))
        for member_id in (*group.members, *group.pending_members):
            self.timers.cancel(_heartbeat_key(group, member_id))

    @staticmethod
    def _join_response(group: ClassicGroup, member_id: str, *, with_members: bool) -> dict:
        return {
            "error_code": ErrorCode.NONE,
            "generation_id": group.generation_id,
            "protocol_type": group.protocol_type,
            "protocol_name": group.protocol_name,
            "leader": group.leader_id or "",
            "skip_assignment": False,
            "member_id": member_id,
            "members": group.current_members() if with_members else [],
        }

    @staticmethod
    def _sync_response(group: ClassicGroup, assignment: bytes) -> dict:
        return {"error_code": ErrorCode.NONE, "protocol_type": group.protocol_type,
                "protocol_name": group.protocol_name, "assignment": assignment}


@dataclass(frozen=True, slots=True)
class _Join:
    """One JoinGroup request's arguments, as the join paths pass them along."""

    member_id: str
    group_instance_id: str | None
    session_timeout_ms: int
    rebalance_timeout_ms: int
    protocol_type: str
    protocols: list[tuple[str, bytes]]
    client_id: str
    client_host: str
    api_version: int
    respond: Respond


def _heartbeat_key(group: ClassicGroup, member_id: str) -> tuple:
    return ("heartbeat", group.group_id, member_id)


def _join_key(group: ClassicGroup) -> tuple:
    return ("join", group.group_id)


def _sync_key(group: ClassicGroup) -> tuple:
    return ("sync", group.group_id)

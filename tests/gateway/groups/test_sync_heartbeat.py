"""SyncGroup (the leader's assignment reaches every member) and Heartbeat, with their errors."""

import pytest

from gateway.groups import GroupConfig
from tests.gateway.groups.driver import Driver
from wire.errors import ErrorCode


def joined(count: int) -> tuple[Driver, list[str], int]:
    """`count` members that completed one join phase together (group in CompletingRebalance)."""
    d = Driver(GroupConfig(group_initial_rebalance_delay_ms=100))
    replies = [d.join_new() for _ in range(count)]
    d.advance(200)
    responses = [r.response for r in replies]
    assert d.group.state_name == "CompletingRebalance"
    return d, [r["member_id"] for r in responses], responses[0]["generation_id"]


def test_followers_that_sync_first_wait_for_the_leaders_assignment():
    d, (leader, a, b), generation = joined(3)
    follower_syncs = [d.sync(a, generation), d.sync(b, generation)]
    assert not any(s.done for s in follower_syncs)
    leader_sync = d.sync(leader, generation, {leader: b"L", a: b"A", b: b"B"})
    assert [s.response["assignment"] for s in (leader_sync, *follower_syncs)] == [b"L", b"A", b"B"]
    assert {s.error for s in (leader_sync, *follower_syncs)} == {ErrorCode.NONE}
    assert leader_sync.response["protocol_type"] == "consumer" and leader_sync.response["protocol_name"] == "range"
    assert d.group.state_name == "Stable"


def test_a_follower_that_syncs_after_the_leader_gets_its_assignment_at_once():
    d, (leader, follower), generation = joined(2)
    d.sync(leader, generation, {leader: b"L", follower: b"F"})
    late = d.sync(follower, generation)
    assert late.response["assignment"] == b"F"


def test_members_the_leader_left_out_get_an_empty_assignment():
    d, (leader, follower), generation = joined(2)
    waiting = d.sync(follower, generation)
    d.sync(leader, generation, {leader: b"L", "not-a-member": b"X"})
    assert waiting.response["assignment"] == b"" and waiting.error == ErrorCode.NONE


def test_a_rebalance_during_sync_answers_parked_syncs_with_rebalance_in_progress():
    d, (leader, follower), generation = joined(2)
    waiting = d.sync(follower, generation)
    d.join_new()  # a new member arrives before the leader synced
    assert waiting.error == ErrorCode.REBALANCE_IN_PROGRESS
    assert d.group.state_name == "PreparingRebalance"
    assert d.sync(leader, generation, {leader: b"L"}).error == ErrorCode.REBALANCE_IN_PROGRESS


def test_sync_errors():
    d, (leader, follower), generation = joined(2)
    assert d.sync("ghost", generation).error == ErrorCode.UNKNOWN_MEMBER_ID
    assert d.sync(follower, generation + 1).error == ErrorCode.ILLEGAL_GENERATION
    assert d.sync(follower, generation, protocol_name="roundrobin").error == ErrorCode.INCONSISTENT_GROUP_PROTOCOL
    assert d.sync(follower, generation, protocol_type="connect").error == ErrorCode.INCONSISTENT_GROUP_PROTOCOL
    matching = d.sync(follower, generation, protocol_type="consumer", protocol_name="range")
    d.sync(leader, generation, {follower: b"F"})
    assert matching.response["assignment"] == b"F"


def test_sync_for_an_unknown_group_or_an_empty_group_id():
    d = Driver()
    assert d.sync("m", 1).error == ErrorCode.UNKNOWN_MEMBER_ID
    assert Driver(group_id="").sync("m", 1).error == ErrorCode.INVALID_GROUP_ID


def test_a_retried_sync_supersedes_the_parked_one():
    d, (leader, follower), generation = joined(2)
    first = d.sync(follower, generation)
    second = d.sync(follower, generation)
    assert first.error == ErrorCode.REBALANCE_IN_PROGRESS
    d.sync(leader, generation, {follower: b"F"})
    assert second.response["assignment"] == b"F"


def test_heartbeat_in_a_stable_group():
    d = Driver()
    (leader, follower), generation = d.stable_group(2)
    assert d.heartbeat(leader, generation) == ErrorCode.NONE
    assert d.heartbeat(follower, generation) == ErrorCode.NONE


def test_heartbeat_while_completing_the_rebalance_is_fine():
    d, (leader, follower), generation = joined(2)
    assert d.heartbeat(follower, generation) == ErrorCode.NONE


def test_heartbeat_during_a_rebalance_gets_rebalance_in_progress():
    d = Driver()
    (leader, follower), generation = d.stable_group(2)
    d.join(leader)  # the leader rejoins: rebalance
    assert d.heartbeat(follower, generation) == ErrorCode.REBALANCE_IN_PROGRESS


@pytest.mark.parametrize("member, generation_delta, error", [
    ("ghost", 0, ErrorCode.UNKNOWN_MEMBER_ID),
    (None, -1, ErrorCode.ILLEGAL_GENERATION),
    (None, 1, ErrorCode.ILLEGAL_GENERATION),
])
def test_heartbeat_errors(member, generation_delta, error):
    d = Driver()
    (leader, follower), generation = d.stable_group(2)
    assert d.heartbeat(member or follower, generation + generation_delta) == error


def test_heartbeat_for_an_unknown_group_or_an_empty_group_id():
    assert Driver().heartbeat("m", 1) == ErrorCode.UNKNOWN_MEMBER_ID
    assert Driver(group_id="").heartbeat("m", 1) == ErrorCode.INVALID_GROUP_ID


def test_a_member_of_an_older_generation_gets_illegal_generation_after_the_rebalance():
    d = Driver()
    (leader, follower), old = d.stable_group(2)
    rejoin = d.join(leader)
    d.join(follower)
    new = rejoin.response["generation_id"]
    assert new == old + 1
    assert d.heartbeat(follower, old) == ErrorCode.ILLEGAL_GENERATION
    assert d.sync(follower, old).error == ErrorCode.ILLEGAL_GENERATION
    assert d.heartbeat(follower, new) == ErrorCode.NONE

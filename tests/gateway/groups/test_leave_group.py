"""LeaveGroup: one member (v0-2), batches (v3+), pending members, and the group left behind."""

import pytest

from tests.gateway.groups.driver import Driver
from wire.errors import ErrorCode


@pytest.mark.parametrize("version", [0, 1, 2])
def test_a_single_member_leaves_before_v3(version):
    d = Driver()
    (leader, follower), generation = d.stable_group(2)
    response = d.leave((follower, None), version=version)
    assert response["error_code"] == ErrorCode.NONE
    assert follower not in d.group.members
    assert d.group.state_name == "PreparingRebalance"
    assert d.heartbeat(leader, generation) == ErrorCode.REBALANCE_IN_PROGRESS
    assert d.join(leader).response["generation_id"] == generation + 1  # alone now: completes at once


@pytest.mark.parametrize("version", [0, 1, 2])
def test_before_v3_the_members_error_is_the_responses_error(version):
    d = Driver()
    d.stable_group(1)
    assert d.leave(("ghost", None), version=version)["error_code"] == ErrorCode.UNKNOWN_MEMBER_ID


def test_a_batch_leaves_with_an_error_per_member():
    d = Driver()
    (leader, a, b), generation = d.stable_group(3)
    response = d.leave((a, None), ("ghost", None), (b, None), version=3)
    assert response["error_code"] == ErrorCode.NONE
    assert [(m["member_id"], m["error_code"]) for m in response["members"]] == [
        (a, ErrorCode.NONE), ("ghost", ErrorCode.UNKNOWN_MEMBER_ID), (b, ErrorCode.NONE)]
    assert list(d.group.members) == [leader]
    assert d.join(leader).response["generation_id"] == generation + 1


def test_the_last_member_leaving_empties_the_group():
    d = Driver()
    (member,), generation = d.stable_group(1)
    d.leave((member, None))
    assert d.group.state_name == "Empty"
    assert d.group.generation_id == generation + 1
    assert d.heartbeat(member, generation) == ErrorCode.UNKNOWN_MEMBER_ID


def test_leaving_during_the_join_phase_completes_it_for_the_rest():
    d = Driver()
    (leader, follower), generation = d.stable_group(2)
    rejoin = d.join(leader)
    assert not rejoin.done
    d.leave((follower, None))
    assert rejoin.response["generation_id"] == generation + 1


def test_a_member_parked_in_join_group_that_is_removed_gets_unknown_member_id():
    d = Driver()
    (leader, follower), generation = d.stable_group(2)
    parked = d.join(leader)
    d.leave((leader, None))  # e.g. a second process of the same client
    assert parked.error == ErrorCode.UNKNOWN_MEMBER_ID and parked.response["member_id"] == ""


def test_a_pending_member_can_leave_without_disturbing_a_stable_group():
    d = Driver()
    (member,), generation = d.stable_group(1)
    pending = d.join().response["member_id"]
    response = d.leave((pending, None))
    assert response["members"][0]["error_code"] == ErrorCode.NONE
    assert pending not in d.group.pending_members
    assert d.group.state_name == "Stable"
    assert d.join(pending).error == ErrorCode.UNKNOWN_MEMBER_ID


def test_leave_group_of_an_unknown_group_or_an_empty_group_id():
    response = Driver().leave(("m", None), ("", "host-a"))
    assert response["error_code"] == ErrorCode.NONE
    assert [m["error_code"] for m in response["members"]] == [ErrorCode.UNKNOWN_MEMBER_ID] * 2
    assert Driver(group_id="").leave(("m", None))["error_code"] == ErrorCode.INVALID_GROUP_ID

"""JoinGroup: member ids, generations, leader election, protocol voting and the join errors."""

import uuid

import pytest

from gateway.groups import GroupConfig
from tests.gateway.groups.driver import Driver, OtherGroup, subscription
from wire.errors import ErrorCode


def test_a_new_member_gets_a_generated_id_and_member_id_required_from_v4():
    d = Driver()
    first = d.join(version=4, client_id="consumer-1")
    assert first.error == ErrorCode.MEMBER_ID_REQUIRED
    member_id = first.response["member_id"]
    assert member_id.startswith("consumer-1-")
    suffix = member_id[len("consumer-1-"):]
    assert str(uuid.UUID(suffix)) == suffix
    assert d.group.state_name == "Empty" and not d.group.members  # pending until it joins again

    second = d.join(member_id, version=4, client_id="consumer-1")
    response = second.response
    assert response["error_code"] == ErrorCode.NONE
    assert response["member_id"] == member_id and response["leader"] == member_id
    assert response["generation_id"] == 1
    assert response["protocol_type"] == "consumer" and response["protocol_name"] == "range"
    assert response["members"] == [{"member_id": member_id, "group_instance_id": None, "metadata": subscription("t")}]
    assert d.group.state_name == "CompletingRebalance"


@pytest.mark.parametrize("version", [0, 1, 2, 3])
def test_before_v4_a_new_member_joins_in_one_request(version):
    d = Driver()
    reply = d.join(version=version, client_id="old")
    assert reply.error == ErrorCode.NONE
    assert reply.response["member_id"].startswith("old-")
    assert reply.response["generation_id"] == 1


def test_v0_rebalance_timeout_is_the_session_timeout():
    d = Driver()
    d.join(version=0, session=7_000, rebalance=-1)
    assert d.group.rebalance_timeout_ms() == 7_000


def test_a_lone_member_waits_out_the_initial_rebalance_delay():
    d = Driver(GroupConfig(group_initial_rebalance_delay_ms=3_000))
    reply = d.join_new()
    d.advance(2_999)
    assert not reply.done
    d.advance(1)
    assert reply.response["generation_id"] == 1


def test_three_members_join_one_generation_within_the_initial_delay():
    d = Driver(GroupConfig(group_initial_rebalance_delay_ms=3_000))
    replies = [d.join_new(client_id="c0")]
    for i in (1, 2):
        d.advance(1_000)
        replies.append(d.join_new(client_id=f"c{i}"))
    d.advance(1_000)  # t=3000: members arrived during the delay, so it is extended once more
    assert not any(r.done for r in replies)
    d.advance(2_999)
    assert not any(r.done for r in replies)
    d.advance(1)  # t=6000: nobody new in the last delay
    responses = [r.response for r in replies]
    ids = [r["member_id"] for r in responses]
    assert {r["generation_id"] for r in responses} == {1}
    assert {r["leader"] for r in responses} == {ids[0]}
    assert [m["member_id"] for m in responses[0]["members"]] == ids
    assert responses[1]["members"] == [] and responses[2]["members"] == []  # only the leader sees members


def test_the_initial_delay_never_outlasts_the_rebalance_timeout():
    d = Driver(GroupConfig(group_initial_rebalance_delay_ms=3_000))
    replies = []
    for _ in range(5):  # a new member every 2 s keeps extending the delay ...
        replies.append(d.join_new(rebalance=7_000))
        d.advance(2_000)
    # ... but only until the rebalance timeout (7 s) is used up: at t=3000, 6000, then 7000.
    assert d.now == 10_000
    assert [r.done for r in replies] == [True] * 4 + [False]
    assert {r.response["generation_id"] for r in replies[:4]} == {1}


def test_with_no_initial_delay_later_members_rebalance_the_group():
    d = Driver()
    first = d.join_new()
    leader = first.response["member_id"]
    assert first.response["generation_id"] == 1
    second = d.join_new()
    assert not second.done and d.group.state_name == "PreparingRebalance"
    assert d.heartbeat(leader, 1) == ErrorCode.REBALANCE_IN_PROGRESS
    rejoin = d.join(leader)
    assert rejoin.response["generation_id"] == second.response["generation_id"] == 2
    assert rejoin.response["leader"] == leader == second.response["leader"]


def test_leader_election_prefers_the_old_leader_else_any_member_that_rejoined():
    d = Driver()
    (leader, follower, third), generation = d.stable_group(3)
    d.join(follower, protocols=[("range", subscription("t", "u"))])  # new metadata: rebalance
    third_rejoin = d.join(third)
    for _ in range(6):  # the leader heartbeats but never rejoins: removed at the rebalance timeout
        assert d.heartbeat(leader, generation) == ErrorCode.REBALANCE_IN_PROGRESS
        d.advance(5_000)
    assert d.now == 30_000 and leader not in d.group.members
    new_leader = d.group.leader_id
    assert new_leader in (follower, third)
    assert third_rejoin.response["leader"] == new_leader
    assert third_rejoin.response["generation_id"] == generation + 1


def test_protocol_voting_picks_the_most_preferred_protocol_every_member_supports():
    d = Driver(GroupConfig(group_initial_rebalance_delay_ms=100))
    meta = {name: name.encode() for name in ("range", "roundrobin", "sticky")}
    a = d.join_new(protocols=[("sticky", meta["sticky"]), ("roundrobin", meta["roundrobin"]), ("range", meta["range"])])
    b = d.join_new(protocols=[("roundrobin", meta["roundrobin"]), ("range", meta["range"])])
    c = d.join_new(protocols=[("range", meta["range"]), ("roundrobin", meta["roundrobin"])])
    d.advance(200)
    # sticky is not supported by b and c; a and b vote roundrobin, c votes range.
    assert a.response["protocol_name"] == b.response["protocol_name"] == c.response["protocol_name"] == "roundrobin"
    assert [m["metadata"] for m in a.response["members"]] == [b"roundrobin"] * 3


def test_member_metadata_passes_through_untouched():
    d = Driver()
    blob = bytes(range(256)) * 3
    reply = d.join_new(protocols=[("custom", blob)], protocol_type="connect")
    assert reply.response["members"][0]["metadata"] == blob
    assert reply.response["protocol_type"] == "connect"


def test_inconsistent_group_protocol_for_another_protocol_type():
    d = Driver()
    d.join_new()
    other = d.join(protocol_type="connect", protocols=[("range", b"")])
    assert other.error == ErrorCode.INCONSISTENT_GROUP_PROTOCOL
    assert other.response["member_id"] == ""


def test_inconsistent_group_protocol_when_no_protocol_is_common():
    d = Driver()
    d.join_new(protocols=[("range", b"")])
    other = d.join(protocols=[("roundrobin", b""), ("sticky", b"")])
    assert other.error == ErrorCode.INCONSISTENT_GROUP_PROTOCOL


@pytest.mark.parametrize("protocol_type, protocols", [("", [("range", b"")]), ("consumer", [])])
def test_inconsistent_group_protocol_for_an_empty_type_or_no_protocols(protocol_type, protocols):
    d = Driver()
    reply = d.join(protocol_type=protocol_type, protocols=protocols)
    assert reply.error == ErrorCode.INCONSISTENT_GROUP_PROTOCOL


def test_a_group_of_another_type_with_members_refuses_classic_joins():
    groups = {"g": OtherGroup("g", members=1)}
    d = Driver(groups=groups)
    assert d.join().error == ErrorCode.INCONSISTENT_GROUP_PROTOCOL
    assert d.coordinator.groups is groups and isinstance(groups["g"], OtherGroup)


def test_an_empty_group_of_another_type_is_replaced_by_a_classic_group():
    groups = {"g": OtherGroup("g", members=0)}
    d = Driver(groups=groups)
    assert d.join_new().response["generation_id"] == 1
    assert groups["g"].group_type == "classic"


def test_invalid_group_id():
    d = Driver(group_id="")
    reply = d.join(member_id="m")
    assert reply.error == ErrorCode.INVALID_GROUP_ID and reply.response["member_id"] == "m"


@pytest.mark.parametrize("session, error", [
    (5_999, ErrorCode.INVALID_SESSION_TIMEOUT), (6_000, ErrorCode.MEMBER_ID_REQUIRED),
    (1_800_000, ErrorCode.MEMBER_ID_REQUIRED), (1_800_001, ErrorCode.INVALID_SESSION_TIMEOUT),
])
def test_session_timeout_bounds(session, error):
    assert Driver().join(session=session).error == error


def test_session_timeout_bounds_are_configurable():
    d = Driver(GroupConfig(group_min_session_timeout_ms=100, group_max_session_timeout_ms=500))
    assert d.join(session=100).error == ErrorCode.MEMBER_ID_REQUIRED
    assert d.join(session=501).error == ErrorCode.INVALID_SESSION_TIMEOUT


def test_unknown_member_id_for_an_unknown_group_or_member():
    d = Driver()
    assert d.join("ghost").error == ErrorCode.UNKNOWN_MEMBER_ID
    assert "g" not in d.coordinator.groups
    d.join_new()
    assert d.join("ghost").error == ErrorCode.UNKNOWN_MEMBER_ID


def test_a_follower_rejoining_a_stable_group_unchanged_gets_the_current_generation():
    d = Driver()
    (leader, follower), generation = d.stable_group(2)
    again = d.join(follower)
    assert again.response["generation_id"] == generation and again.response["leader"] == leader
    assert again.response["members"] == []
    assert d.group.state_name == "Stable"


def test_the_leader_rejoining_a_stable_group_forces_a_rebalance():
    d = Driver()
    (leader, follower), generation = d.stable_group(2)
    rejoin = d.join(leader)
    assert not rejoin.done and d.group.state_name == "PreparingRebalance"
    d.join(follower)
    assert rejoin.response["generation_id"] == generation + 1


def test_a_follower_with_new_metadata_forces_a_rebalance():
    d = Driver()
    (leader, follower), generation = d.stable_group(2)
    d.join(follower, protocols=[("range", subscription("t", "other"))])
    assert d.group.state_name == "PreparingRebalance"
    leader_rejoin = d.join(leader)
    members = {m["member_id"]: m["metadata"] for m in leader_rejoin.response["members"]}
    assert members[follower] == subscription("t", "other")


def test_a_member_that_lost_its_join_response_gets_it_again_while_completing():
    d = Driver()
    first = d.join_new()
    member_id = first.response["member_id"]
    again = d.join(member_id)
    assert again.response["generation_id"] == first.response["generation_id"]
    assert again.response["members"] == first.response["members"]  # it is the leader
    assert d.group.state_name == "CompletingRebalance"


def test_a_pending_member_that_never_rejoins_expires_after_its_session_timeout():
    d = Driver()
    first = d.join(session=8_000)
    member_id = first.response["member_id"]
    d.advance(7_999)
    assert member_id in d.group.pending_members
    d.advance(1)
    assert member_id not in d.group.pending_members
    assert d.join(member_id, session=8_000).error == ErrorCode.UNKNOWN_MEMBER_ID


def test_a_pending_member_holds_the_join_phase_until_it_expires():
    d = Driver()
    (leader,), generation = d.stable_group(1)
    pending = d.join(session=6_000).response["member_id"]
    rejoin = d.join(leader, protocols=[("range", subscription("t", "u"))])
    assert not rejoin.done  # waits for the pending member
    d.advance(6_000)
    assert pending not in d.group.pending_members
    assert rejoin.response["generation_id"] == generation + 1


def test_group_max_size_turns_away_extra_members():
    d = Driver(GroupConfig(group_max_size=1))
    (member,), _ = d.stable_group(1)
    refused = d.join()
    assert refused.error == ErrorCode.GROUP_MAX_SIZE_REACHED and refused.response["member_id"] == ""
    assert list(d.group.members) == [member] and d.group.state_name == "Stable"


def test_every_join_gets_exactly_one_response_even_when_superseded():
    d = Driver()
    (leader, follower), _ = d.stable_group(2)
    first = d.join(leader)
    second = d.join(leader)  # the client gave up on the first and retried
    assert first.error == ErrorCode.REBALANCE_IN_PROGRESS
    d.join(follower)
    assert second.error == ErrorCode.NONE


def test_joins_queued_together_make_one_generation_even_with_no_initial_delay():
    """With group.initial.rebalance.delay.ms 0 the join phase still ends on the scheduler, not inside
    the first JoinGroup, so members whose joins arrive together are one generation (one round)."""
    driver = Driver()
    ids = [driver.join(tick=True).response["member_id"] for _ in range(3)]  # MEMBER_ID_REQUIRED round trips
    replies = [driver.join(member_id, tick=False) for member_id in ids]
    assert not any(r.done for r in replies)
    driver.coordinator.tick(driver.now)
    assert {r.response["generation_id"] for r in replies} == {1}
    assert all(r.error == ErrorCode.NONE for r in replies)
    assert sum(1 for r in replies if r.response["members"]) == 1  # only the leader gets the member list

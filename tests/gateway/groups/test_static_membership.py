"""Static membership (group.instance.id): restarts without rebalances, and fencing of the old member id."""

from tests.gateway.groups.driver import Driver, subscription
from wire.errors import ErrorCode


def static_group(d: Driver, *instances: str, version: int = 5) -> tuple[dict[str, str], int]:
    """Static members (no MEMBER_ID_REQUIRED round trip) joined and synced: instance -> member id."""
    first = d.join(instance=instances[0], version=version)
    leader = first.response["member_id"]
    others = [d.join(instance=i, version=version) for i in instances[1:]]
    if others:
        rejoin = d.join(leader, instance=instances[0], version=version)
        replies = [rejoin, *others]
    else:
        replies = [first]
    generation = replies[0].response["generation_id"]
    ids = {i: r.response["member_id"] for i, r in zip(instances, replies)}
    for i, m in ids.items():
        assignment = {mid: inst.encode() for inst, mid in ids.items()} if m == leader else None
        d.sync(m, generation, assignment, instance=i)
    assert d.group.state_name == "Stable"
    return ids, generation


def test_static_member_ids_start_with_the_instance_id():
    d = Driver()
    ids, _ = static_group(d, "host-a")
    assert ids["host-a"].startswith("host-a-")
    assert d.group.static_members == {"host-a": ids["host-a"]}


def test_a_restarted_static_member_keeps_its_assignment_without_a_rebalance():
    d = Driver()
    ids, generation = static_group(d, "host-a", "host-b")
    restarted = d.join(instance="host-b")  # the process restarted: it lost its member id
    response = restarted.response
    new_id = response["member_id"]
    assert response["error_code"] == ErrorCode.NONE and new_id != ids["host-b"]
    assert response["generation_id"] == generation and response["leader"] == ids["host-a"]
    assert response["members"] == []
    assert d.group.state_name == "Stable"
    sync = d.sync(new_id, generation, instance="host-b")
    assert sync.response["assignment"] == b"host-b"
    assert d.heartbeat(ids["host-a"], generation, instance="host-a") == ErrorCode.NONE


def test_the_old_member_id_of_a_replaced_static_member_is_fenced():
    d = Driver()
    ids, generation = static_group(d, "host-a", "host-b")
    d.join(instance="host-b")
    old = ids["host-b"]
    assert d.heartbeat(old, generation, instance="host-b") == ErrorCode.FENCED_INSTANCE_ID
    assert d.sync(old, generation, instance="host-b").error == ErrorCode.FENCED_INSTANCE_ID
    assert d.join(old, instance="host-b").error == ErrorCode.FENCED_INSTANCE_ID
    assert d.commit({("t", 0): 5}, generation=generation, member_id=old, instance="host-b") == {
        ("t", 0): ErrorCode.FENCED_INSTANCE_ID}
    assert d.leave((old, "host-b"))["members"][0]["error_code"] == ErrorCode.FENCED_INSTANCE_ID


def test_a_parked_join_of_the_replaced_member_is_fenced():
    d = Driver()
    ids, generation = static_group(d, "host-a", "host-b")
    parked = d.join(ids["host-b"], instance="host-b", protocols=[("range", subscription("t", "u"))])
    assert not parked.done  # new metadata: a rebalance, the old process waits in JoinGroup
    d.join(instance="host-b")  # a second process with the same instance id
    assert parked.error == ErrorCode.FENCED_INSTANCE_ID


def test_an_unknown_instance_id_with_a_member_id_is_unknown_member():
    d = Driver()
    ids, generation = static_group(d, "host-a")
    assert d.heartbeat(ids["host-a"], generation, instance="host-z") == ErrorCode.UNKNOWN_MEMBER_ID


def test_a_static_member_rejoining_with_a_new_protocol_choice_rebalances():
    d = Driver()
    ids, generation = static_group(d, "host-a")
    incompatible = d.join(instance="host-a", protocols=[("roundrobin", subscription("t"))])
    assert incompatible.error == ErrorCode.INCONSISTENT_GROUP_PROTOCOL  # range is the group's protocol
    rejoin = d.join(instance="host-a", protocols=[("roundrobin", subscription("t")), ("range", subscription("t"))])
    # It now votes roundrobin: the chosen protocol changes, so the group rebalances (alone, at once).
    assert rejoin.response["generation_id"] == generation + 1
    assert rejoin.response["protocol_name"] == "roundrobin"


def test_a_static_member_replaced_while_completing_the_rebalance_rebalances_again():
    d = Driver()
    first = d.join(instance="host-a")
    assert d.group.state_name == "CompletingRebalance"
    replaced = d.join(instance="host-a")
    assert replaced.response["generation_id"] == first.response["generation_id"] + 1
    assert replaced.response["member_id"] != first.response["member_id"]


def test_a_replaced_static_leader_gets_the_old_leader_id_below_v9():
    d = Driver()
    ids, generation = static_group(d, "host-a", "host-b")
    restarted = d.join(instance="host-a", version=8)
    response = restarted.response
    assert response["leader"] == ids["host-a"] != response["member_id"]  # so it does not assign
    assert response["skip_assignment"] is False and response["members"] == []
    assert d.group.leader_id == response["member_id"]


def test_a_replaced_static_leader_is_told_to_skip_assignment_from_v9():
    d = Driver()
    ids, generation = static_group(d, "host-a", "host-b", version=9)
    restarted = d.join(instance="host-a", version=9)
    response = restarted.response
    assert response["leader"] == response["member_id"] and response["skip_assignment"] is True
    assert {m["member_id"] for m in response["members"]} == {response["member_id"], ids["host-b"]}
    assert {m["group_instance_id"] for m in response["members"]} == {"host-a", "host-b"}
    sync = d.sync(response["member_id"], generation, {}, instance="host-a")  # skipped: no assignments
    assert sync.response["assignment"] == b"host-a"
    assert d.group.state_name == "Stable"


def test_static_members_that_did_not_rejoin_stay_until_their_session_expires():
    d = Driver()
    ids, generation = static_group(d, "host-a", "host-b")
    rejoin = d.join(ids["host-a"], instance="host-a", session=20_000)
    for _ in range(6):  # host-a keeps its session alive; host-b is silent
        d.advance(5_000)
        d.heartbeat(ids["host-a"], generation, instance="host-a")
    assert d.now == 30_000
    # The rebalance timeout passed: host-b's session ended at 10 s, before the join phase completed.
    assert rejoin.response["generation_id"] == generation + 1
    assert [m["group_instance_id"] for m in rejoin.response["members"]] == ["host-a"]


def test_a_static_member_that_did_not_rejoin_is_kept_in_the_next_generation():
    d = Driver()
    ids, generation = static_group(d, "host-a", "host-b")
    rejoin = d.join(ids["host-a"], instance="host-a")
    for _ in range(6):  # host-b stays alive but does not rejoin within the 30 s rebalance timeout
        assert d.heartbeat(ids["host-b"], generation, instance="host-b") == ErrorCode.REBALANCE_IN_PROGRESS
        d.advance(5_000)
    response = rejoin.response
    assert response["generation_id"] == generation + 1
    assert {m["group_instance_id"] for m in response["members"]} == {"host-a", "host-b"}
    assert ids["host-b"] in d.group.members  # a dynamic member would have been dropped


def test_leave_group_by_instance_id_removes_the_static_member_and_rebalances():
    d = Driver()
    ids, generation = static_group(d, "host-a", "host-b")
    response = d.leave(("", "host-b"))  # the admin client's removeMembersFromConsumerGroup
    assert response["error_code"] == ErrorCode.NONE
    assert response["members"] == [{"member_id": "", "group_instance_id": "host-b", "error_code": ErrorCode.NONE}]
    assert "host-b" not in d.group.static_members
    assert d.group.state_name == "PreparingRebalance"
    assert d.leave(("", "host-z"))["members"][0]["error_code"] == ErrorCode.UNKNOWN_MEMBER_ID


def test_a_static_member_leaving_with_its_member_id_triggers_a_rebalance():
    d = Driver()
    ids, generation = static_group(d, "host-a", "host-b")
    response = d.leave((ids["host-b"], "host-b"))
    assert response["members"][0]["error_code"] == ErrorCode.NONE
    assert d.group.state_name == "PreparingRebalance"
    assert d.heartbeat(ids["host-a"], generation, instance="host-a") == ErrorCode.REBALANCE_IN_PROGRESS

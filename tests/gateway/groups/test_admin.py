"""ListGroups, DescribeGroups, DeleteGroups and OffsetDelete: the admin client's view of groups."""

import pytest

from gateway.groups import GroupConfig, MemoryGroupStore
from gateway.groups.group_metadata import group_metadata_key
from tests.gateway.groups.driver import Driver, OtherGroup, subscription
from wire.errors import ErrorCode


def listed(d: Driver, states=(), types=()) -> dict[str, tuple[str, str, str]]:
    response = d.coordinator.list_groups(states, types)
    assert response["error_code"] == ErrorCode.NONE
    return {g["group_id"]: (g["protocol_type"], g["group_state"], g["group_type"]) for g in response["groups"]}


def test_list_groups_shows_state_protocol_type_and_type():
    d = Driver()
    d.stable_group(1)
    d.commit({("t", 0): 1}, group_id="simple")
    assert listed(d) == {"g": ("consumer", "Stable", "classic"), "simple": ("", "Empty", "classic")}


@pytest.mark.parametrize("states, expected", [
    (["Stable"], {"g"}), (["stable", " EMPTY "], {"g", "simple"}), (["PreparingRebalance"], set()),
    (["Dead"], set()),
])
def test_list_groups_filters_by_state_case_insensitively(states, expected):
    d = Driver()
    d.stable_group(1)
    d.commit({("t", 0): 1}, group_id="simple")
    assert set(listed(d, states=states)) == expected


@pytest.mark.parametrize("types, expected", [(["classic"], {"g"}), (["Classic"], {"g"}), (["consumer"], set())])
def test_list_groups_filters_by_type(types, expected):
    d = Driver()
    d.stable_group(1)
    assert set(listed(d, types=types)) == expected


def test_describe_a_stable_group_shows_members_metadata_and_assignments():
    d = Driver()
    (leader, follower), generation = d.stable_group(2, client_id="app")
    (group,) = d.coordinator.describe_groups(["g"], api_version=5)["groups"]
    assert group["error_code"] == ErrorCode.NONE and group["group_id"] == "g"
    assert (group["group_state"], group["protocol_type"], group["protocol_data"]) == ("Stable", "consumer", "range")
    assert group["members"] == [
        {"member_id": m, "group_instance_id": None, "client_id": "app", "client_host": "/127.0.0.1",
         "member_metadata": subscription("t"), "member_assignment": m.encode()}
        for m in (leader, follower)
    ]


def test_describe_a_rebalancing_group_hides_metadata_and_assignments():
    d = Driver()
    (leader, follower), generation = d.stable_group(2)
    d.join(leader)
    (group,) = d.coordinator.describe_groups(["g"], api_version=5)["groups"]
    assert group["group_state"] == "PreparingRebalance" and group["protocol_data"] == ""
    assert [(m["member_id"], m["member_metadata"], m["member_assignment"]) for m in group["members"]] == [
        (leader, b"", b""), (follower, b"", b"")]


def test_describe_shows_static_members_instance_ids():
    d = Driver()
    reply = d.join(instance="host-a")
    (group,) = d.coordinator.describe_groups(["g"], api_version=5)["groups"]
    assert group["members"][0]["group_instance_id"] == "host-a"
    assert group["members"][0]["member_id"] == reply.response["member_id"]


@pytest.mark.parametrize("version, error", [(5, ErrorCode.NONE), (6, ErrorCode.GROUP_ID_NOT_FOUND)])
def test_describe_a_group_that_does_not_exist(version, error):
    (group,) = Driver().coordinator.describe_groups(["nobody"], api_version=version)["groups"]
    assert group["error_code"] == error
    assert (group["group_id"], group["group_state"], group["members"]) == ("nobody", "Dead", [])


def test_delete_groups_removes_empty_groups_and_their_offsets():
    store = MemoryGroupStore()
    d = Driver(store=store)
    d.commit({("t", 0): 1}, group_id="old")
    d.stable_group(1)
    response = d.coordinator.delete_groups(["old", "g", "nobody"], now_ms=d.now)
    assert [(r["group_id"], r["error_code"]) for r in response["results"]] == [
        ("old", ErrorCode.NONE), ("g", ErrorCode.NON_EMPTY_GROUP), ("nobody", ErrorCode.GROUP_ID_NOT_FOUND)]
    assert "old" not in d.coordinator.groups and d.committed("old") == {}
    assert not any(b"old" in key for key, _ in store.scan(b""))
    assert [key for key, _ in store.scan(b"")] == [group_metadata_key("g")]  # only the Stable group's record


def test_a_deleted_group_can_be_used_again_from_scratch():
    d = Driver()
    (member,), generation = d.stable_group(1)
    d.leave((member, None))
    assert d.coordinator.delete_groups(["g"], now_ms=d.now)["results"][0]["error_code"] == ErrorCode.NONE
    assert d.heartbeat(member, generation) == ErrorCode.UNKNOWN_MEMBER_ID
    assert d.join_new().response["generation_id"] == 1


def offset_delete(d: Driver, group_id: str, partitions: dict[str, list[int]]) -> dict:
    topics = [{"name": name, "partitions": [{"partition_index": p} for p in parts]} for name, parts in partitions.items()]
    return d.coordinator.offset_delete(group_id=group_id, topics=topics, now_ms=d.now)


def test_offset_delete_in_an_empty_group():
    d = Driver()
    d.commit({("t", 0): 1, ("t", 1): 2, ("u", 0): 3})
    response = offset_delete(d, "g", {"t": [0, 1]})
    assert response == {"error_code": ErrorCode.NONE, "topics": [{"name": "t", "partitions": [
        {"partition_index": 0, "error_code": ErrorCode.NONE}, {"partition_index": 1, "error_code": ErrorCode.NONE}]}]}
    assert d.committed() == {("u", 0): 3}
    offset_delete(d, "g", {"u": [0]})
    assert "g" not in d.coordinator.groups  # nothing left to keep the empty group for


def test_offset_delete_refuses_topics_a_consumer_group_subscribes_to():
    d = Driver()
    (member,), generation = d.stable_group(1, protocols=[("range", subscription("read"))])
    d.commit({("read", 0): 1, ("old", 0): 2}, generation=generation, member_id=member)
    response = offset_delete(d, "g", {"read": [0], "old": [0]})
    assert response["error_code"] == ErrorCode.NONE
    assert {t["name"]: t["partitions"][0]["error_code"] for t in response["topics"]} == {
        "read": ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC, "old": ErrorCode.NONE}
    assert d.committed() == {("read", 0): 1}


def test_offset_delete_in_a_consumer_group_with_undecodable_subscriptions_treats_all_as_subscribed():
    d = Driver()
    (member,), generation = d.stable_group(1, protocols=[("range", b"\xff")])
    d.commit({("t", 0): 1}, generation=generation, member_id=member)
    response = offset_delete(d, "g", {"t": [0]})
    assert response["topics"][0]["partitions"][0]["error_code"] == ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC


def test_offset_delete_in_a_non_empty_group_of_another_protocol_type():
    d = Driver()
    d.stable_group(1, protocol_type="connect", protocols=[("sessioned", b"")])
    assert offset_delete(d, "g", {"t": [0]}) == {"error_code": ErrorCode.NON_EMPTY_GROUP, "topics": []}


def test_offset_delete_errors_for_missing_and_invalid_groups():
    d = Driver()
    assert offset_delete(d, "nobody", {"t": [0]})["error_code"] == ErrorCode.GROUP_ID_NOT_FOUND
    assert offset_delete(d, "", {"t": [0]})["error_code"] == ErrorCode.INVALID_GROUP_ID


def test_deleting_a_topic_deletes_its_committed_offsets():
    d = Driver(GroupConfig())
    d.commit({("gone", 0): 1, ("kept", 0): 2})
    d.commit({("gone", 0): 5}, group_id="only-gone")
    d.coordinator.on_topics_deleted(["gone"], now_ms=d.now)
    assert d.committed() == {("kept", 0): 2}
    assert "only-gone" not in d.coordinator.groups


def test_groups_of_another_type_in_the_shared_id_space():
    d = Driver(groups={"other": OtherGroup("other", members=2)})
    d.stable_group(1)
    assert listed(d) == {"g": ("consumer", "Stable", "classic"), "other": ("consumer", "Stable", "consumer")}
    assert set(listed(d, types=["consumer"])) == {"other"}
    (described,) = d.coordinator.describe_groups(["other"], api_version=6)["groups"]
    assert described["error_code"] == ErrorCode.GROUP_ID_NOT_FOUND
    assert described["error_message"] == "Group other is not a classic group."
    assert d.coordinator.delete_groups(["other"], now_ms=0)["results"][0]["error_code"] == ErrorCode.NON_EMPTY_GROUP
    # Its subscriptions are unknown here: every topic counts as subscribed, so nothing is deleted.
    d.coordinator.commit_offsets(group_id="other", topics=[
        {"name": "t", "partitions": [{"partition_index": 0, "committed_offset": 9, "committed_metadata": None}]}],
        now_ms=0)
    assert offset_delete(d, "other", {"t": [0]})["topics"][0]["partitions"][0]["error_code"] == (
        ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC)
    assert d.committed("other") == {("t", 0): 9}

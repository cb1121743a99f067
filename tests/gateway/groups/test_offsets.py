"""OffsetCommit and OffsetFetch: who may commit, what is kept, persistence and retention."""

import pytest

from gateway.groups import GroupConfig, GroupCoordinator, MemoryGroupStore
from tests.gateway.groups.driver import Driver, subscription
from wire.errors import ErrorCode

MINUTE = 60_000
DAY = 24 * 60 * MINUTE


def test_a_member_commits_and_fetches_offsets():
    d = Driver()
    (member,), generation = d.stable_group(1)
    errors = d.commit({("t", 0): 10, ("t", 1): 20, ("u", 0): 5}, generation=generation, member_id=member,
                      metadata="note")
    assert set(errors.values()) == {ErrorCode.NONE}
    response = d.coordinator.offset_fetch(group_id="g", topics=[{"name": "t", "partition_indexes": [1, 0, 9]}])
    assert response == {"error_code": ErrorCode.NONE, "topics": [{"name": "t", "partitions": [
        {"partition_index": 1, "committed_offset": 20, "committed_leader_epoch": 7, "metadata": "note",
         "error_code": ErrorCode.NONE},
        {"partition_index": 0, "committed_offset": 10, "committed_leader_epoch": 7, "metadata": "note",
         "error_code": ErrorCode.NONE},
        {"partition_index": 9, "committed_offset": -1, "committed_leader_epoch": -1, "metadata": "",
         "error_code": ErrorCode.NONE},
    ]}]}
    assert d.committed() == {("t", 0): 10, ("t", 1): 20, ("u", 0): 5}


def test_a_later_commit_replaces_the_earlier_one_and_null_metadata_is_empty():
    d = Driver()
    d.commit({("t", 0): 10}, metadata="first")
    d.commit({("t", 0): 11}, metadata=None)
    assert d.coordinator.offsets.get("g", "t", 0).metadata == ""
    assert d.committed() == {("t", 0): 11}


def test_fetching_a_group_that_does_not_exist_answers_no_offsets():
    d = Driver()
    assert d.committed("nobody") == {}
    response = d.coordinator.offset_fetch(group_id="nobody", topics=[{"name": "t", "partition_indexes": [0]}])
    assert response["topics"][0]["partitions"][0]["committed_offset"] == -1


def test_a_commit_from_an_older_generation_is_rejected():
    d = Driver()
    (leader, follower), old = d.stable_group(2)
    d.join(leader)
    d.join(follower)  # generation old + 1, both members rejoined
    assert d.commit({("t", 0): 1}, generation=old, member_id=follower) == {("t", 0): ErrorCode.ILLEGAL_GENERATION}
    assert d.committed() == {}


def test_a_commit_from_an_unknown_member_is_rejected():
    d = Driver()
    (member,), generation = d.stable_group(1)
    assert d.commit({("t", 0): 1}, generation=generation, member_id="ghost") == {
        ("t", 0): ErrorCode.UNKNOWN_MEMBER_ID}


def test_a_commit_while_the_rebalance_completes_gets_rebalance_in_progress():
    d = Driver()
    reply = d.join_new()
    member, generation = reply.response["member_id"], reply.response["generation_id"]
    assert d.group.state_name == "CompletingRebalance"
    assert d.commit({("t", 0): 1}, generation=generation, member_id=member) == {
        ("t", 0): ErrorCode.REBALANCE_IN_PROGRESS}


def test_members_may_still_commit_while_the_group_prepares_a_rebalance():
    d = Driver()
    (leader, follower), generation = d.stable_group(2)
    d.join(leader)
    assert d.group.state_name == "PreparingRebalance"
    assert d.commit({("t", 0): 3}, generation=generation, member_id=follower) == {("t", 0): ErrorCode.NONE}


def test_a_commit_keeps_the_committing_member_alive():
    d = Driver()
    (member,), generation = d.stable_group(1)
    for _ in range(5):
        d.advance(9_000)
        d.commit({("t", 0): d.now}, generation=generation, member_id=member)
    assert member in d.group.members


def test_simple_commits_create_an_empty_group_and_are_accepted_while_it_is_empty():
    d = Driver()
    assert d.commit({("t", 0): 42}) == {("t", 0): ErrorCode.NONE}  # generation -1, no member id
    assert d.group.state_name == "Empty" and d.group.protocol_type is None
    assert d.commit({("t", 0): 43}, member_id="manual") == {("t", 0): ErrorCode.NONE}
    assert d.committed() == {("t", 0): 43}


def test_a_simple_commit_to_a_group_with_members_is_rejected():
    d = Driver()
    d.stable_group(1)
    assert d.commit({("t", 0): 1}) == {("t", 0): ErrorCode.UNKNOWN_MEMBER_ID}


def test_a_generation_commit_to_a_group_that_does_not_exist_is_illegal_generation():
    d = Driver()
    assert d.commit({("t", 0): 1}, generation=3, member_id="m") == {("t", 0): ErrorCode.ILLEGAL_GENERATION}
    assert "g" not in d.coordinator.groups


def test_metadata_longer_than_the_limit_is_rejected_per_partition():
    d = Driver(GroupConfig(offset_metadata_max_bytes=10))
    topics = [{"name": "t", "partitions": [
        {"partition_index": 0, "committed_offset": 1, "committed_metadata": "x" * 10},
        {"partition_index": 1, "committed_offset": 1, "committed_metadata": "x" * 11}]}]
    response = d.coordinator.offset_commit(group_id="g", topics=topics, now_ms=0)
    assert [p["error_code"] for p in response["topics"][0]["partitions"]] == [
        ErrorCode.NONE, ErrorCode.OFFSET_METADATA_TOO_LARGE]
    assert d.committed() == {("t", 0): 1}


def test_a_commit_without_a_leader_epoch_stores_minus_one():
    d = Driver()
    topics = [{"name": "t", "partitions": [{"partition_index": 0, "committed_offset": 8, "committed_metadata": ""}]}]
    d.coordinator.offset_commit(group_id="g", topics=topics, now_ms=0)
    assert d.coordinator.offsets.get("g", "t", 0).committed_leader_epoch == -1


def test_committed_offsets_survive_a_restart_through_the_store():
    store = MemoryGroupStore()
    d = Driver(store=store)
    (member,), generation = d.stable_group(1)
    d.commit({("t", 0): 10, ("t", 1): 11}, generation=generation, member_id=member, metadata="m")
    d.commit({("only-offsets", 3): 7}, group_id="simple")
    restarted = GroupCoordinator(store=store, now_ms=50)
    assert restarted.offsets.get("g", "t", 1).committed_offset == 11
    assert restarted.offsets.get("g", "t", 1).metadata == "m"
    assert restarted.offsets.get("g", "t", 1).committed_leader_epoch == 7
    assert restarted.offsets.get("simple", "only-offsets", 3).committed_offset == 7
    listed = {g["group_id"]: g["group_state"] for g in restarted.list_groups()["groups"]}
    assert listed == {"g": "Stable", "simple": "Empty"}  # the group's members are persisted too


def test_offsets_of_an_empty_group_expire_after_retention_from_when_it_became_empty():
    config = GroupConfig(offsets_retention_minutes=10, offsets_retention_check_interval_ms=MINUTE)
    d = Driver(config)
    (member,), generation = d.stable_group(1, session=1_800_000)
    d.commit({("t", 0): 1}, generation=generation, member_id=member)
    d.advance(20 * MINUTE)  # committed long ago, but the group still has its member
    d.heartbeat(member, generation)
    d.leave((member, None))  # empty from now on
    empty_since = d.now
    d.advance(9 * MINUTE)
    assert d.committed() == {("t", 0): 1}
    d.advance(MINUTE)
    assert d.now - empty_since >= 10 * MINUTE
    assert d.committed() == {}
    assert "g" not in d.coordinator.groups  # an empty group without offsets is gone


def test_offsets_of_a_simple_group_expire_after_retention_from_their_commit():
    config = GroupConfig(offsets_retention_minutes=10, offsets_retention_check_interval_ms=MINUTE)
    d = Driver(config)
    d.commit({("t", 0): 1})
    d.advance(5 * MINUTE)
    d.commit({("t", 1): 2})
    d.advance(5 * MINUTE)
    assert d.committed() == {("t", 1): 2}
    d.advance(5 * MINUTE)
    assert d.committed() == {} and "g" not in d.coordinator.groups


def test_a_stable_consumer_group_loses_only_offsets_of_topics_it_no_longer_subscribes_to():
    config = GroupConfig(offsets_retention_minutes=10, offsets_retention_check_interval_ms=MINUTE)
    d = Driver(config)
    (member,), generation = d.stable_group(1, protocols=[("range", subscription("kept"))], session=1_800_000)
    d.commit({("kept", 0): 1, ("dropped", 0): 2}, generation=generation, member_id=member)
    d.advance(10 * MINUTE)
    assert d.committed() == {("kept", 0): 1}
    assert d.group.state_name == "Stable"


def test_an_explicit_retention_time_from_offset_commit_v2_to_v4_wins():
    config = GroupConfig(offsets_retention_minutes=1000, offsets_retention_check_interval_ms=MINUTE)
    d = Driver(config)
    d.commit({("t", 0): 1}, retention_time_ms=2 * MINUTE)
    d.commit({("t", 1): 1})
    d.advance(2 * MINUTE)
    assert d.committed() == {("t", 1): 1}


@pytest.mark.parametrize("partition", [-1, -2147483648])
def test_a_negative_partition_is_unknown(partition):
    d = Driver()
    assert d.commit({("t", partition): 1}) == {("t", partition): ErrorCode.UNKNOWN_TOPIC_OR_PARTITION}


def test_commit_offsets_commits_without_a_membership_check():
    d = Driver()
    d.stable_group(1)
    topics = [{"name": "t", "partitions": [{"partition_index": 2, "committed_offset": 30, "committed_metadata": "tx"}]}]
    response = d.coordinator.commit_offsets(group_id="g", topics=topics, now_ms=d.now)
    assert response == {"topics": [{"name": "t", "partitions": [{"partition_index": 2, "error_code": ErrorCode.NONE}]}]}
    assert d.committed() == {("t", 2): 30}

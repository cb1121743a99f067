"""ConsumerGroupHeartbeat: joining, converging, revoking before reassigning, leaving, expiring, fencing."""

from __future__ import annotations

import pytest

from gateway.groups.kip848.member import MemberState
from tests.gateway.groups.kip848.support import (
    GROUP, ORDERS, Consumer, assert_exclusive, converge, heartbeat_request, new_coordinator,
)
from wire.errors import ErrorCode


def test_a_single_member_joins_and_gets_every_partition():
    coordinator = new_coordinator(heartbeat_interval_ms=3000)
    response = Consumer(coordinator, "m1").join(0)
    assert response["error_code"] == ErrorCode.NONE
    assert response["member_id"] == "m1"
    assert response["member_epoch"] == 1
    assert response["heartbeat_interval_ms"] == 3000
    assert response["assignment"] == {"topic_partitions": [{"topic_id": ORDERS, "partitions": [0, 1, 2, 3, 4, 5]}]}


def test_version_0_members_get_a_member_id_from_the_coordinator():
    coordinator = new_coordinator()
    request = heartbeat_request(version=0, rebalance_timeout_ms=30000, subscribed_topic_names=["orders"],
                                topic_partitions=[])
    response = coordinator.heartbeat(request, 0, api_version=0)
    assert response["error_code"] == ErrorCode.NONE
    assert len(response["member_id"]) == 22 and not response["member_id"].startswith("-")
    assert response["member_id"] in coordinator.consumer_group(GROUP).members


def test_version_1_requires_the_consumer_to_bring_its_member_id():
    response = new_coordinator().heartbeat(
        heartbeat_request(rebalance_timeout_ms=30000, subscribed_topic_names=["orders"], topic_partitions=[]),
        0, api_version=1)
    assert (response["error_code"], response["error_message"]) == (ErrorCode.INVALID_REQUEST,
                                                                    "MemberId can't be empty.")


def test_three_members_over_six_partitions_end_with_two_each():
    coordinator = new_coordinator()
    consumers = [Consumer(coordinator, f"m{i}") for i in range(3)]
    for consumer in consumers:
        consumer.join(0)
        assert_exclusive(consumers)
    converge(consumers, 1000)
    assert sorted(len(c.partitions()) for c in consumers) == [2, 2, 2]
    assert set().union(*(c.partitions() for c in consumers)) == set(range(6))
    group = coordinator.consumer_group(GROUP)
    assert {c.epoch for c in consumers} == {group.group_epoch} == {3}
    assert str(group.state) == "Stable"


def test_a_partition_is_revoked_from_its_owner_before_the_new_member_gets_it():
    coordinator = new_coordinator()
    first, second = Consumer(coordinator, "a"), Consumer(coordinator, "b")
    first.join(0)
    assert first.partitions() == {0, 1, 2, 3, 4, 5}

    joined = second.join(100)  # epoch 2: its target is 3 partitions, all still held by the first member
    assert joined["member_epoch"] == 2
    assert second.partitions() == set()

    asked = first.heartbeat(200)  # told to give up three partitions, still in epoch 1
    assert asked["member_epoch"] == 1
    assert len(first.partitions()) == 3
    revoked = {0, 1, 2, 3, 4, 5} - first.partitions()
    assert coordinator.consumer_group(GROUP).members["a"].state is MemberState.UNREVOKED_PARTITIONS

    # The second member gets nothing while the first has not acknowledged the revocation.
    still = second.heartbeat(300)
    assert still["assignment"] is None and second.partitions() == set()
    first.heartbeat(400, owned={ORDERS: {0, 1, 2, 3, 4, 5}})  # it still reports them: no progress
    assert second.heartbeat(500)["assignment"] is None

    acknowledged = first.heartbeat(600)  # now reports only the three it kept
    assert acknowledged["member_epoch"] == 2
    assert second.heartbeat(700)["assignment"] is not None
    assert second.partitions() == revoked
    assert_exclusive([first, second])


def test_a_steady_heartbeat_carries_no_assignment():
    coordinator = new_coordinator()
    consumer = Consumer(coordinator, "m1")
    consumer.join(0)
    response = consumer.heartbeat(1000)
    assert response["member_epoch"] == 1 and response["assignment"] is None


def test_a_full_heartbeat_gets_the_assignment_again():
    coordinator = new_coordinator()
    consumer = Consumer(coordinator, "m1")
    consumer.join(0)
    response = consumer.heartbeat(1000, rebalance_timeout_ms=30000, subscribed_topic_names=["orders"])
    assert response["assignment"]["topic_partitions"][0]["partitions"] == [0, 1, 2, 3, 4, 5]


def test_a_member_leaving_hands_its_partitions_to_the_others():
    coordinator = new_coordinator()
    consumers = [Consumer(coordinator, f"m{i}") for i in range(3)]
    for consumer in consumers:
        consumer.join(0)
    converge(consumers, 1000)
    leaving = consumers.pop()
    response = leaving.leave(20000)
    assert (response["error_code"], response["member_id"], response["member_epoch"]) == (0, "m2", -1)
    assert "m2" not in coordinator.consumer_group(GROUP).members
    converge(consumers, 21000)
    assert sorted(len(c.partitions()) for c in consumers) == [3, 3]
    assert consumers[0].epoch == 4


def test_an_expired_session_moves_the_members_partitions():
    coordinator = new_coordinator(session_timeout_ms=45000)
    alive, silent = Consumer(coordinator, "alive"), Consumer(coordinator, "silent")
    alive.join(0)
    silent.join(0)
    converge([alive, silent], 1000)
    silent_deadline = coordinator.timers.deadline(("session", GROUP, "silent"))
    assert silent_deadline is not None

    now = 1000
    while now <= silent_deadline:
        alive.heartbeat(now)
        coordinator.tick(now)
        assert ("silent" in coordinator.consumer_group(GROUP).members) == (now < silent_deadline)
        now += 1000
    assert "silent" not in coordinator.consumer_group(GROUP).members
    alive.heartbeat(now)
    assert alive.partitions() == {0, 1, 2, 3, 4, 5}
    assert silent.heartbeat(now)["error_code"] == ErrorCode.UNKNOWN_MEMBER_ID


def test_next_deadline_is_the_earliest_session_expiry():
    coordinator = new_coordinator(session_timeout_ms=10000)
    assert coordinator.next_deadline() is None
    Consumer(coordinator, "a").join(1000)
    Consumer(coordinator, "b").join(4000)
    assert coordinator.next_deadline() == 11000
    coordinator.tick(10999)
    assert set(coordinator.consumer_group(GROUP).members) == {"a", "b"}
    coordinator.tick(11000)
    assert set(coordinator.consumer_group(GROUP).members) == {"b"}
    assert coordinator.next_deadline() == 14000


def test_a_member_that_does_not_revoke_within_the_rebalance_timeout_is_fenced():
    coordinator = new_coordinator()
    stubborn, newcomer = Consumer(coordinator, "stubborn", rebalance_timeout_ms=20000), Consumer(coordinator, "new")
    stubborn.join(0)
    newcomer.join(1000)
    everything = {ORDERS: {0, 1, 2, 3, 4, 5}}
    stubborn.heartbeat(2000, owned=everything)  # asked to revoke at 2000
    for now in range(5000, 22000, 5000):
        stubborn.heartbeat(now, owned=everything)  # heartbeats keep its session alive, but it never revokes
        newcomer.heartbeat(now)
        coordinator.tick(now)
    assert "stubborn" in coordinator.consumer_group(GROUP).members
    coordinator.tick(22000)
    assert "stubborn" not in coordinator.consumer_group(GROUP).members
    newcomer.heartbeat(23000)
    assert newcomer.partitions() == {0, 1, 2, 3, 4, 5}


@pytest.mark.parametrize("word", ["greater", "smaller"])
def test_an_epoch_that_is_neither_current_nor_previous_is_fenced(word):
    coordinator = new_coordinator()
    members = [Consumer(coordinator, f"m{i}") for i in range(3)]
    for member in members:
        member.join(0)
    converge(members, 1000)
    state = coordinator.consumer_group(GROUP).members["m0"]
    assert (state.member_epoch, state.previous_member_epoch) == (3, 1)  # it went 1 -> 3 after revoking in 1
    sent = 4 if word == "greater" else 2
    response = members[0].heartbeat(9000, member_epoch=sent)
    assert response["error_code"] == ErrorCode.FENCED_MEMBER_EPOCH
    assert f"has a {word} member epoch ({sent})" in response["error_message"]


def test_the_previous_epoch_is_accepted_when_owned_partitions_fit_the_assignment():
    coordinator = new_coordinator()
    first, second = Consumer(coordinator, "a"), Consumer(coordinator, "b")
    first.join(0)
    second.join(100)
    converge([first, second], 1000)
    member = coordinator.consumer_group(GROUP).members["a"]
    kept = {ORDERS: set(member.assigned_partitions[ORDERS])}
    lost_response = first.heartbeat(5000, member_epoch=member.previous_member_epoch, owned=kept)
    assert lost_response["error_code"] == ErrorCode.NONE
    assert lost_response["member_epoch"] == member.member_epoch
    everything = {ORDERS: {0, 1, 2, 3, 4, 5}}
    assert first.heartbeat(6000, member_epoch=member.previous_member_epoch,
                           owned=everything)["error_code"] == ErrorCode.FENCED_MEMBER_EPOCH


def test_heartbeats_from_strangers_are_refused():
    coordinator = new_coordinator()
    ghost = Consumer(coordinator, "ghost")
    ghost.epoch = 1
    response = ghost.heartbeat(0)  # no such group: as after a broker restart, the member must rejoin
    assert (response["error_code"], response["error_message"]) == (
        ErrorCode.UNKNOWN_MEMBER_ID, f"Member ghost is not a member of group {GROUP}.")
    assert coordinator.consumer_group(GROUP) is None
    Consumer(coordinator, "m1").join(0)
    response = ghost.heartbeat(100)
    assert (response["error_code"], response["error_message"]) == (
        ErrorCode.UNKNOWN_MEMBER_ID, f"Member ghost is not a member of group {GROUP}.")
    assert ghost.leave(200)["error_code"] == ErrorCode.UNKNOWN_MEMBER_ID


def test_an_unknown_server_assignor_is_refused():
    response = Consumer(new_coordinator(), "m1", server_assignor="sticky").join(0)
    assert (response["error_code"], response["error_message"]) == (
        ErrorCode.UNSUPPORTED_ASSIGNOR, "ServerAssignor sticky is not supported. Supported assignors: uniform, range.")


@pytest.mark.parametrize(("fields", "message"), [
    ({"subscribed_topic_names": ["orders"], "topic_partitions": []},
     "RebalanceTimeoutMs must be provided in first request."),
    ({"rebalance_timeout_ms": 30000, "subscribed_topic_names": ["orders"]},
     "TopicPartitions must be empty when (re-)joining."),
    ({"rebalance_timeout_ms": 30000, "subscribed_topic_names": ["orders"],
      "topic_partitions": [{"topic_id": ORDERS, "partitions": [0]}]},
     "TopicPartitions must be empty when (re-)joining."),
    ({"rebalance_timeout_ms": 30000, "topic_partitions": []},
     "SubscribedTopicNames or SubscribedTopicRegex must be set in first request."),
    ({"member_epoch": -3}, "MemberEpoch is invalid."),
    ({"member_epoch": -2}, "InstanceId can't be null."),
    ({"member_epoch": 1, "instance_id": " "}, "InstanceId can't be empty."),
    ({"member_epoch": 1, "rack_id": ""}, "RackId can't be empty."),
    ({"member_epoch": 1, "group_id": ""}, "GroupId can't be empty."),
])
def test_join_requests_missing_required_fields_are_invalid(fields, message):
    request = heartbeat_request(**{"member_id": "m1", **fields})
    response = new_coordinator().heartbeat(request, 0, api_version=1)
    assert (response["error_code"], response["error_message"]) == (ErrorCode.INVALID_REQUEST, message)
    assert response["member_epoch"] == 0 and response["assignment"] is None


def test_a_full_group_refuses_new_members_but_not_its_own():
    coordinator = new_coordinator(max_size=1)
    first = Consumer(coordinator, "a")
    first.join(0)
    assert Consumer(coordinator, "b").join(10)["error_code"] == ErrorCode.GROUP_MAX_SIZE_REACHED
    assert first.heartbeat(20)["error_code"] == ErrorCode.NONE


def test_a_heartbeat_after_the_session_ran_out_finds_the_member_gone():
    coordinator = new_coordinator(session_timeout_ms=45000)
    consumer = Consumer(coordinator, "m1")
    consumer.join(0)
    assert consumer.heartbeat(44999)["error_code"] == ErrorCode.NONE
    assert consumer.heartbeat(44999 + 45000)["error_code"] == ErrorCode.UNKNOWN_MEMBER_ID

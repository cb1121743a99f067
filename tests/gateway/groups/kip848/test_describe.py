"""ConsumerGroupDescribe, group states, offset-commit checks, and sharing group ids with classic groups."""

from __future__ import annotations

import pytest

from gateway.groups.coordinator import GroupCoordinator
from gateway.groups.group import ClassicGroup
from gateway.groups.kip848 import ConsumerGroupCoordinator, LogsTopics
from partitions.logs import Logs
from partitions.memory import MemoryStorage
from tests.gateway.groups.kip848.support import (
    GROUP, ORDERS, Consumer, converge, new_coordinator, roundtrip_describe,
)
from wire.errors import ErrorCode, KafkaError


def test_describe_shows_epochs_members_and_both_assignments_while_reconciling():
    coordinator = new_coordinator()
    first, second = Consumer(coordinator, "a"), Consumer(coordinator, "b")
    first.join(0)
    second.join(100)
    [group] = roundtrip_describe(coordinator.describe([GROUP]))
    assert (group.error_code, group.group_id, group.group_state) == (0, GROUP, "Reconciling")
    assert (group.group_epoch, group.assignment_epoch, group.assignor_name) == (2, 2, "uniform")
    a, b = group.members
    assert (a.member_id, a.member_epoch, a.client_id, a.client_host) == ("a", 1, "client-a", "/127.0.0.1")
    assert (a.subscribed_topic_names, a.subscribed_topic_regex, a.member_type) == (["orders"], "", 1)
    [held] = a.assignment.topic_partitions
    assert (held.topic_id, held.topic_name, held.partitions) == (ORDERS, "orders", [0, 1, 2, 3, 4, 5])
    [target] = a.target_assignment.topic_partitions
    assert len(target.partitions) == 3
    assert b.member_epoch == 2 and b.assignment.topic_partitions == []
    assert sorted(b.target_assignment.topic_partitions[0].partitions + target.partitions) == [0, 1, 2, 3, 4, 5]

    converge([first, second], 1000)
    [group] = coordinator.describe([GROUP])
    assert group["group_state"] == "Stable"
    for member in group["members"]:
        assert member["assignment"] == member["target_assignment"]


def test_group_states_from_assigning_to_empty():
    coordinator = new_coordinator()
    first, second = Consumer(coordinator, "a"), Consumer(coordinator, "b")
    first.join(0)
    second.join(0)
    converge([first, second], 1000)
    second.leave(2000)  # the group epoch moves on; the target follows at the next heartbeat
    [group] = coordinator.describe([GROUP])
    assert (group["group_state"], group["group_epoch"], group["assignment_epoch"]) == ("Assigning", 3, 2)
    first.leave(3000)
    [group] = coordinator.describe([GROUP])
    assert (group["group_state"], group["members"], group["group_epoch"]) == ("Empty", [], 4)


def test_describe_reports_the_assignor_the_members_chose():
    coordinator = new_coordinator()
    Consumer(coordinator, "a", server_assignor="range").join(0)
    assert coordinator.describe([GROUP])[0]["assignor_name"] == "range"


def test_describing_an_unknown_or_classic_group_is_group_id_not_found():
    coordinator = new_coordinator()
    coordinator.groups["old"] = ClassicGroup("old", 0)
    missing, classic = roundtrip_describe(coordinator.describe(["nope", "old"]))
    assert (missing.error_code, missing.error_message) == (ErrorCode.GROUP_ID_NOT_FOUND, "Group nope not found.")
    assert (classic.error_code, classic.error_message) == (ErrorCode.GROUP_ID_NOT_FOUND,
                                                           "Group old is not a consumer group.")


def test_a_heartbeat_cannot_take_over_a_classic_group_with_members():
    classic = GroupCoordinator()
    joined: list[dict] = []
    classic.join_group(group_id=GROUP, member_id="", group_instance_id=None, session_timeout_ms=10000,
                       rebalance_timeout_ms=10000, protocol_type="consumer", protocols=[("range", b"")],
                       client_id="c", client_host="/127.0.0.1", api_version=3, now_ms=0, respond=joined.append)
    assert not classic.classic_group(GROUP).is_empty()
    coordinator = new_coordinator(groups=classic.groups)
    response = Consumer(coordinator, "m1").join(0)
    assert (response["error_code"], response["error_message"]) == (ErrorCode.GROUP_ID_NOT_FOUND,
                                                                   f"Group {GROUP} is not a consumer group.")
    assert classic.classic_group(GROUP) is not None


def test_an_empty_classic_group_is_replaced_by_the_first_member_joining():
    groups: dict = {GROUP: ClassicGroup(GROUP, 0)}  # what committed offsets leave after a restart
    coordinator = new_coordinator(groups=groups)
    returning = Consumer(coordinator, "m1")
    returning.epoch = 3  # a member of the consumer group from before the restart
    assert returning.heartbeat(0)["error_code"] == ErrorCode.UNKNOWN_MEMBER_ID
    assert isinstance(groups[GROUP], ClassicGroup)
    assert returning.join(0)["error_code"] == ErrorCode.NONE
    assert groups[GROUP] is coordinator.consumer_group(GROUP)
    assert groups[GROUP].listed() == {"group_id": GROUP, "protocol_type": "consumer", "group_state": "Stable",
                                      "group_type": "consumer"}


def test_offset_commits_need_the_members_current_epoch():
    coordinator = new_coordinator()
    consumer = Consumer(coordinator, "a")
    consumer.join(0)
    coordinator.validate_offset_commit(GROUP, "a", 1, api_version=9)
    with pytest.raises(KafkaError) as stale:
        coordinator.validate_offset_commit(GROUP, "a", 0, api_version=9)
    assert stale.value.code == ErrorCode.STALE_MEMBER_EPOCH
    with pytest.raises(KafkaError) as old_version:
        coordinator.validate_offset_commit(GROUP, "a", 1, api_version=8)
    assert old_version.value.code == ErrorCode.UNSUPPORTED_VERSION
    with pytest.raises(KafkaError) as stranger:
        coordinator.validate_offset_commit(GROUP, "", -1, api_version=9)
    assert stranger.value.code == ErrorCode.UNKNOWN_MEMBER_ID
    coordinator.validate_offset_fetch(GROUP, None, -1)
    with pytest.raises(KafkaError) as fetch:
        coordinator.validate_offset_fetch(GROUP, "a", 7)
    assert fetch.value.code == ErrorCode.STALE_MEMBER_EPOCH

    consumer.leave(1000)
    coordinator.validate_offset_commit(GROUP, "", -1, api_version=2)  # an admin commit into an empty group


def test_only_an_empty_group_can_be_deleted():
    coordinator = new_coordinator()
    consumer = Consumer(coordinator, "a")
    consumer.join(0)
    with pytest.raises(KafkaError) as busy:
        coordinator.delete_group(GROUP)
    assert busy.value.code == ErrorCode.NON_EMPTY_GROUP
    consumer.leave(10)
    coordinator.delete_group(GROUP)
    assert coordinator.describe([GROUP])[0]["error_code"] == ErrorCode.GROUP_ID_NOT_FOUND


def test_the_broker_topic_registry_backs_the_coordinator():
    logs = Logs(MemoryStorage())
    topic = logs.create_topic("orders", 3)
    coordinator = ConsumerGroupCoordinator(LogsTopics(logs))
    consumer = Consumer(coordinator, "a")
    consumer.join(0)
    assert consumer.owned == {topic.topic_id: {0, 1, 2}}
    logs.create_topic("payments", 1)
    consumer.heartbeat(100, subscribed_topic_names=["orders", "payments"])
    assert consumer.owned[logs.get("payments").topic_id] == {0}
    logs.delete_topic("payments")
    [group] = coordinator.describe([GROUP])
    assert [tp["topic_name"] for tp in group["members"][0]["assignment"]["topic_partitions"]] == ["orders"]


def test_assignors_must_be_known_ones():
    with pytest.raises(ValueError):
        new_coordinator(assignors=("uniform", "sticky"))

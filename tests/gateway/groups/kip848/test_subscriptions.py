"""Subscriptions and topic metadata: regexes, new partitions, new and deleted topics, assignor choice."""

from __future__ import annotations

from gateway.groups.kip848 import MemoryTopics
from tests.gateway.groups.kip848.support import GROUP, ORDERS, PAYMENTS, Consumer, converge, new_coordinator
from wire.errors import ErrorCode

ORDERS_EU = bytes(range(201, 217))


def test_a_regex_subscription_picks_up_matching_topics_as_they_appear():
    topics = MemoryTopics({"orders": (ORDERS, 2), "payments": (PAYMENTS, 2)})
    coordinator = new_coordinator(topics)
    consumer = Consumer(coordinator, "m1", topics=None, regex="orders.*")
    response = consumer.join(0)
    assert response["member_epoch"] == 1
    assert consumer.owned == {ORDERS: {0, 1}}

    topics.put("orders-eu", ORDERS_EU, 3)
    response = consumer.heartbeat(1000)
    assert response["member_epoch"] == 2
    assert consumer.owned == {ORDERS: {0, 1}, ORDERS_EU: {0, 1, 2}}
    assert coordinator.consumer_group(GROUP).resolved_regexes == {"orders.*": frozenset({"orders", "orders-eu"})}


def test_a_regex_must_match_the_whole_topic_name():
    topics = MemoryTopics({"orders": (ORDERS, 1), "old-orders": (PAYMENTS, 1)})
    consumer = Consumer(new_coordinator(topics), "m1", topics=None, regex="orders")
    consumer.join(0)
    assert consumer.owned == {ORDERS: {0}}


def test_an_invalid_regex_is_refused():
    response = Consumer(new_coordinator(), "m1", topics=None, regex="orders[").join(0)
    assert response["error_code"] == ErrorCode.INVALID_REGULAR_EXPRESSION
    assert response["error_message"].startswith("SubscribedTopicRegex `orders[` is not a valid regular expression")


def test_more_partitions_bump_the_group_epoch_and_are_assigned():
    topics = MemoryTopics({"orders": (ORDERS, 2)})
    coordinator = new_coordinator(topics)
    first, second = Consumer(coordinator, "a"), Consumer(coordinator, "b")
    first.join(0)
    second.join(0)
    converge([first, second], 1000)
    assert coordinator.consumer_group(GROUP).group_epoch == 2

    topics.put("orders", ORDERS, 4)
    converge([first, second], 20000)
    assert coordinator.consumer_group(GROUP).group_epoch == 3
    assert first.epoch == second.epoch == 3
    assert sorted(map(len, (first.partitions(), second.partitions()))) == [2, 2]
    assert first.partitions() | second.partitions() == {0, 1, 2, 3}


def test_subscribing_to_a_missing_topic_assigns_it_once_it_is_created():
    topics = MemoryTopics({"orders": (ORDERS, 1)})
    coordinator = new_coordinator(topics)
    consumer = Consumer(coordinator, "m1", topics=("orders", "payments"))
    consumer.join(0)
    assert consumer.owned == {ORDERS: {0}}
    assert consumer.heartbeat(1000)["assignment"] is None
    topics.put("payments", PAYMENTS, 2)
    consumer.heartbeat(2000)
    assert consumer.owned == {ORDERS: {0}, PAYMENTS: {0, 1}}


def test_a_deleted_topic_is_taken_out_of_the_assignment():
    topics = MemoryTopics({"orders": (ORDERS, 1), "payments": (PAYMENTS, 1)})
    coordinator = new_coordinator(topics)
    consumer = Consumer(coordinator, "m1", topics=("orders", "payments"))
    consumer.join(0)
    topics.delete("payments")
    converge([consumer], 1000)
    assert consumer.owned == {ORDERS: {0}}
    assert coordinator.consumer_group(GROUP).group_epoch == 2


def test_changing_the_subscription_moves_the_member_to_the_new_topics():
    topics = MemoryTopics({"orders": (ORDERS, 2), "payments": (PAYMENTS, 2)})
    coordinator = new_coordinator(topics)
    consumer = Consumer(coordinator, "m1")
    consumer.join(0)
    response = consumer.heartbeat(1000, subscribed_topic_names=["payments"])
    assert response["member_epoch"] == 1  # orders must be revoked first
    assert consumer.owned == {}
    response = consumer.heartbeat(2000)
    assert response["member_epoch"] == 2
    assert consumer.owned == {PAYMENTS: {0, 1}}


def test_members_asking_for_range_get_co_partitioned_topics():
    topics = MemoryTopics({"orders": (ORDERS, 4), "payments": (PAYMENTS, 4)})
    coordinator = new_coordinator(topics)
    consumers = [Consumer(coordinator, name, topics=("orders", "payments"), server_assignor="range")
                 for name in ("a", "b")]
    for consumer in consumers:
        consumer.join(0)
    converge(consumers, 1000)
    for consumer in consumers:
        assert consumer.owned[ORDERS] == consumer.owned[PAYMENTS]
        assert len(consumer.owned[ORDERS]) == 2
    assert coordinator.consumer_group(GROUP).preferred_assignor() == "range"


def test_a_static_member_leaving_for_a_while_keeps_its_partitions_for_its_successor():
    coordinator = new_coordinator()
    static, other = Consumer(coordinator, "s1", instance_id="host-1"), Consumer(coordinator, "o1")
    static.join(0)
    other.join(0)
    converge([static, other], 1000)
    held = static.partitions()
    epoch = coordinator.consumer_group(GROUP).group_epoch

    assert static.leave(5000, epoch=-2)["member_epoch"] == -2
    group = coordinator.consumer_group(GROUP)
    assert group.members["s1"].assigned_partitions == {ORDERS: frozenset(held)}  # kept while away
    successor = Consumer(coordinator, "s2", instance_id="host-1")
    response = successor.join(6000)
    assert (response["error_code"], response["member_epoch"]) == (ErrorCode.NONE, epoch)
    assert successor.partitions() == held
    assert set(group.members) == {"s2", "o1"}
    assert group.group_epoch == epoch  # same subscription: no rebalance
    assert group.members["s2"].assigned_partitions == {ORDERS: frozenset(held)}


def test_a_static_instance_still_in_use_cannot_join_twice():
    coordinator = new_coordinator()
    Consumer(coordinator, "s1", instance_id="host-1").join(0)
    response = Consumer(coordinator, "s2", instance_id="host-1").join(10)
    assert response["error_code"] == ErrorCode.UNRELEASED_INSTANCE_ID
    impostor = Consumer(coordinator, "s3", instance_id="host-1")
    impostor.epoch = 1
    assert impostor.heartbeat(20)["error_code"] == ErrorCode.FENCED_INSTANCE_ID

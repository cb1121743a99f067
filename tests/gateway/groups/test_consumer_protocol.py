"""Reading subscribed topics from the consumer protocol metadata real clients send."""

import struct

import pytest
from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor
from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.coordinator.assignors.sticky.sticky_assignor import StickyPartitionAssignor
from kafka.protocol.consumer.metadata import ConsumerProtocolSubscription

from gateway.groups.consumer_protocol import subscription_topics


@pytest.mark.parametrize("metadata", [
    RangePartitionAssignor.metadata({"a", "b"}).encode(),  # v0, empty user data
    StickyPartitionAssignor().metadata({"a", "b"}).encode(),  # v0 with sticky user data
    CooperativeStickyAssignor().metadata({"a", "b"}).encode(),  # v1: owned partitions follow
    ConsumerProtocolSubscription(version=3, topics=["a", "b"], user_data=None, owned_partitions=[],
                                 generation_id=4, rack_id="r1").encode(),
])
def test_topics_of_every_subscription_version(metadata):
    assert sorted(subscription_topics(metadata)) == ["a", "b"]


def test_unicode_topic_names_and_no_topics():
    assert subscription_topics(struct.pack(">hih", 0, 1, 6) + "tø€".encode()) == ["tø€"]
    assert subscription_topics(struct.pack(">hi", 0, 0)) == []


@pytest.mark.parametrize("metadata", [
    b"", b"\x00", b"\x00\x00\x00\x00", struct.pack(">hi", -1, 0), struct.pack(">hi", 0, -1),
    struct.pack(">hih", 0, 2, 1) + b"a",  # the second topic is missing
    struct.pack(">hih", 0, 1, 5) + b"ab",  # a name shorter than its length
    struct.pack(">hih", 0, 1, -1),
    struct.pack(">hih", 0, 1, 1) + b"\xff",  # not UTF-8
    struct.pack(">hi", 0, 2**31 - 1),
])
def test_malformed_metadata_is_a_value_error(metadata):
    with pytest.raises(ValueError):
        subscription_topics(metadata)

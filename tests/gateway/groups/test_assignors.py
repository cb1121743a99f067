"""Real client assignors over the coordinator: metadata and assignments pass through untouched, so
range, roundrobin, sticky (eager) and cooperative-sticky (incremental cooperative) all work."""

from types import SimpleNamespace

import pytest
from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor
from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from kafka.coordinator.assignors.sticky.sticky_assignor import StickyPartitionAssignor
from kafka.protocol.consumer.metadata import ConsumerProtocolAssignment, ConsumerProtocolSubscription

from gateway.groups import GroupConfig
from tests.gateway.groups.driver import Driver
from wire.errors import ErrorCode

TOPICS = {"orders": 6, "payments": 3}


class Cluster:
    """The slice of kafka-python's ClusterMetadata the assignors read."""

    def topics(self):
        return set(TOPICS)

    def partitions_for_topic(self, topic):
        return set(range(TOPICS[topic]))

    def available_partitions_for_topic(self, topic):
        return self.partitions_for_topic(topic)


def rebalance(d: Driver, assignor, member_ids: list[str], metadata: dict[str, bytes]) -> tuple[int, dict[str, list]]:
    """Everyone (re)joins with its metadata; the leader runs the client assignor on the JoinGroup
    members and sends the result in SyncGroup; returns the generation and each member's partitions."""
    replies = {m: d.join(m, protocols=[(assignor.name, metadata[m])]) for m in member_ids}
    d.advance(200)
    responses = {m: r.response for m, r in replies.items()}
    generation = responses[member_ids[0]]["generation_id"]
    leader = responses[member_ids[0]]["leader"]
    assert {r["protocol_name"] for r in responses.values()} == {assignor.name}
    members = [SimpleNamespace(member_id=m["member_id"], group_instance_id=m["group_instance_id"],
                               metadata=ConsumerProtocolSubscription.decode(m["metadata"]))
               for m in responses[leader]["members"]]
    assert {m.member_id: m.metadata.encode() for m in members} == metadata  # untouched
    plan = {member: assignment.encode() for member, assignment in assignor.assign(Cluster(), members).items()}
    syncs = {m: d.sync(m, generation, plan if m == leader else None) for m in member_ids}
    return generation, {m: sorted(ConsumerProtocolAssignment.decode(s.response["assignment"]).partitions())
                        for m, s in syncs.items()}


def new_members(d: Driver, count: int, assignor) -> list[str]:
    """Member ids from MEMBER_ID_REQUIRED (the first half of a v4+ join)."""
    protocols = [(assignor.name, assignor.metadata(set(TOPICS)).encode())]
    replies = [d.join(protocols=protocols) for _ in range(count)]
    assert {r.response["error_code"] for r in replies} == {ErrorCode.MEMBER_ID_REQUIRED}
    return [r.response["member_id"] for r in replies]


@pytest.mark.parametrize("assignor", [RangePartitionAssignor, RoundRobinPartitionAssignor, StickyPartitionAssignor()],
                         ids=["range", "roundrobin", "sticky"])
def test_eager_assignors_spread_every_partition_over_the_members(assignor):
    d = Driver(GroupConfig(group_initial_rebalance_delay_ms=100))
    ids = new_members(d, 3, assignor)
    metadata = {m: assignor.metadata(set(TOPICS)).encode() for m in ids}
    generation, owned = rebalance(d, assignor, ids, metadata)
    everything = [p for parts in owned.values() for p in parts]
    assert len(everything) == sum(TOPICS.values()) == len(set(everything))
    assert all(3 <= len(parts) for parts in owned.values())
    assert d.group.state_name == "Stable" and generation == 1


def test_cooperative_sticky_revokes_then_reassigns_over_two_rebalances():
    d = Driver(GroupConfig(group_initial_rebalance_delay_ms=100))
    first = new_members(d, 2, CooperativeStickyAssignor())
    assignors = {m: CooperativeStickyAssignor() for m in first}
    metadata = {m: assignors[m].metadata(set(TOPICS)).encode() for m in first}
    _, owned = rebalance(d, assignors[first[0]], first, metadata)
    for m in first:
        assignors[m].member_assignment = owned[m]

    # A third member joins; the two owners advertise what they own (OwnedPartitions, v1+).
    (third,) = new_members(d, 1, CooperativeStickyAssignor())
    assignors[third] = CooperativeStickyAssignor()
    everyone = [*first, third]
    metadata = {m: assignors[m].metadata(set(TOPICS)).encode() for m in everyone}
    generation, round_one = rebalance(d, assignors[first[0]], everyone, metadata)
    assert round_one[third] == []  # first round: partitions moving to it are only revoked
    revoked = {m: set(owned[m]) - set(round_one[m]) for m in first}
    assert sum(len(r) for r in revoked.values()) > 0

    for m in everyone:
        assignors[m].member_assignment = round_one[m]
    metadata = {m: assignors[m].metadata(set(TOPICS)).encode() for m in everyone}
    generation_two, round_two = rebalance(d, assignors[first[0]], everyone, metadata)
    assert generation_two == generation + 1
    assert set(round_two[third]) == set().union(*revoked.values())
    everything = [p for parts in round_two.values() for p in parts]
    assert len(everything) == sum(TOPICS.values()) == len(set(everything))

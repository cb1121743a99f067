"""Share groups in a 3-broker cluster: ShareFetch and ShareAcknowledge are answered by the partition's
leader (another broker: NOT_LEADER_OR_FOLLOWER per partition, naming the real leader and its address),
ShareGroupDescribe and the share-offset admin APIs by the group's coordinator (NOT_COORDINATOR)."""

import asyncio

import structlog

from gateway.cluster import GROUP
from gateway.registry import HANDLERS, RequestContext
from tests.gateway.cluster.test_cluster import create, new_cluster
from tests.gateway.share.support import (
    ALTER_OFFSETS, DELETE_OFFSETS, DESCRIBE, DESCRIBE_OFFSETS, Member, acquired, produce, set_group_configs,
)
from wire.codec import decode, encode
from wire.errors import ErrorCode
from wire.messages import APIS

ACCEPT = 1


class NodeClient:
    """Requests to one broker of the cluster (ctx.node), as a client connected to it sends them."""

    def __init__(self, cluster, node_id: int) -> None:
        self.cluster, self.node_id = cluster, node_id

    def request(self, api_key: int, version: int, body: dict):
        api = APIS[api_key]
        request = decode(api.request, version, encode(api.request, version, body))
        ctx = RequestContext(self.cluster, api_key, version, 1, "share-test", structlog.get_logger("test"),
                             "127.0.0.1:5555", node=self.cluster.nodes[self.node_id])
        response = asyncio.run(HANDLERS[api_key].handler(ctx, request))
        return decode(api.response, version, encode(api.response, version, response))

    def topic_id(self, name: str) -> bytes:
        return self.cluster.logs.get(name).topic_id


def group_coordinated_by(cluster, node_id: int) -> str:
    return next(f"sg{i}" for i in range(500) if cluster.coordinator(GROUP, f"sg{i}").node_id == node_id)


def setup():
    c = new_cluster()
    assert create(c, "s", partitions=1).error_code == ErrorCode.NONE
    leader = c.partition_state("s", 0)["leader"]
    follower = next(n for n in (1, 2, 3) if n != leader)
    group = group_coordinated_by(c, follower)  # a coordinator that does not lead the partition
    set_group_configs(c, group, {"share.auto.offset.reset": "earliest"})
    produce(c, "s", [b"a", b"b"])
    return c, leader, follower, group


def test_share_fetch_on_a_broker_that_does_not_lead_names_the_leader():
    c, leader, follower, group = setup()
    member = Member(NodeClient(c, follower), group, ["s"])
    assert member.heartbeat().error_code == ErrorCode.NONE  # the coordinator
    for version in (1, 2):
        member.session_epoch = 0
        response = member.fetch(version=version)
        assert response.error_code == ErrorCode.NONE
        partition = response.responses[0].partitions[0]
        assert partition.error_code == ErrorCode.NOT_LEADER_OR_FOLLOWER and acquired(response) == []
        assert partition.current_leader.leader_id == leader
        assert partition.current_leader.leader_epoch == c.partition_state("s", 0)["epoch"]
        assert [(e.node_id, e.port) for e in response.node_endpoints] == [(leader, c.nodes[leader].port)]
    # the leader serves it (the share session is per broker, as in Kafka), its own id in current_leader
    on_leader = Member(NodeClient(c, leader), group, ["s"], member_id=member.member_id)
    response = on_leader.fetch()
    assert acquired(response) == [(0, 1, 1)] and response.node_endpoints == []
    assert response.responses[0].partitions[0].current_leader.leader_id == leader


def test_share_acknowledge_on_a_broker_that_does_not_lead_names_the_leader():
    c, leader, follower, group = setup()
    member = Member(NodeClient(c, leader), group, ["s"])
    coordinator = Member(NodeClient(c, follower), group, ["s"], member_id=member.member_id)
    assert coordinator.heartbeat().error_code == ErrorCode.NONE
    assert acquired(member.fetch()) == [(0, 1, 1)]
    # the same member's next request goes to the follower (share sessions are shared by this
    # process's brokers, so its session epoch carries on there)
    elsewhere = Member(NodeClient(c, follower), group, ["s"], member_id=member.member_id)
    elsewhere.session_epoch = member.session_epoch
    response = elsewhere.acknowledge({("s", 0): [(0, 1, [ACCEPT])]})
    assert response.error_code == ErrorCode.NONE
    partition = response.responses[0].partitions[0]
    assert partition.error_code == ErrorCode.NOT_LEADER_OR_FOLLOWER
    assert partition.current_leader.leader_id == leader
    assert [e.node_id for e in response.node_endpoints] == [leader]
    # nothing was acknowledged there: the records are still acquired, the leader accepts them
    member.session_epoch = elsewhere.session_epoch
    done = member.acknowledge({("s", 0): [(0, 1, [ACCEPT])]})
    assert done.error_code == ErrorCode.NONE and done.responses[0].partitions[0].error_code == ErrorCode.NONE


def test_share_group_describe_and_offset_apis_answer_not_coordinator_on_the_wrong_broker():
    c, leader, follower, group = setup()
    wrong = next(n for n in (1, 2, 3) if n != follower)
    Member(NodeClient(c, follower), group, ["s"]).heartbeat()
    right, other = NodeClient(c, follower), NodeClient(c, wrong)
    body = {"group_ids": [group], "include_authorized_operations": False}
    assert right.request(DESCRIBE, 1, body).groups[0].error_code == ErrorCode.NONE
    refused = other.request(DESCRIBE, 1, body).groups[0]
    assert refused.error_code == ErrorCode.NOT_COORDINATOR and refused.group_id == group

    mine = group_coordinated_by(c, wrong)
    assert Member(other, mine, ["s"]).heartbeat().error_code == ErrorCode.NONE  # a share group `wrong` coordinates
    offsets = {"groups": [{"group_id": group, "topics": [{"topic_name": "s", "partitions": [0]}]},
                          {"group_id": mine, "topics": None}]}
    described = other.request(DESCRIBE_OFFSETS, 1, offsets).groups
    assert [(g.group_id, g.error_code) for g in described] == [
        (group, ErrorCode.NOT_COORDINATOR), (mine, ErrorCode.NONE)]  # each group on its own, in order
    assert right.request(DESCRIBE_OFFSETS, 1, offsets).groups[0].error_code == ErrorCode.NONE

    alter = {"group_id": group, "topics": [{"topic_name": "s", "partitions": [{"partition_index": 0,
                                                                              "start_offset": 0}]}]}
    assert other.request(ALTER_OFFSETS, 0, alter).error_code == ErrorCode.NOT_COORDINATOR
    delete = {"group_id": group, "topics": [{"topic_name": "s"}]}
    assert other.request(DELETE_OFFSETS, 0, delete).error_code == ErrorCode.NOT_COORDINATOR
    assert right.request(DELETE_OFFSETS, 0, delete).error_code != ErrorCode.NOT_COORDINATOR

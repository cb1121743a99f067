"""ElectLeaders, partition reassignments, DescribeQuorum and delegation tokens, in process."""

import pytest

from tests.gateway.inprocess import call, new_broker
from wire.errors import ErrorCode

CREATE_TOKEN, RENEW_TOKEN, EXPIRE_TOKEN, DESCRIBE_TOKEN = 38, 39, 40, 41
ELECT_LEADERS, ALTER_REASSIGNMENTS, LIST_REASSIGNMENTS, DESCRIBE_QUORUM = 43, 45, 46, 55


@pytest.fixture
def broker():
    b = new_broker()
    b.logs.create_topic("t", 2)
    return b


def elect(broker, topic_partitions, election_type=0, version=2):
    response = call(broker, ELECT_LEADERS, version, {"election_type": election_type, "timeout_ms": 1000,
                                                      "topic_partitions": topic_partitions})
    return response, {(r.topic, p.partition_id): (p.error_code, p.error_message)
                      for r in response.replica_election_results for p in r.partition_result}


def test_the_preferred_leader_already_leads_every_partition(broker):
    _, results = elect(broker, [{"topic": "t", "partitions": [0, 1, 2]}, {"topic": "nope", "partitions": [0]}])
    assert results == {("t", 0): (ErrorCode.ELECTION_NOT_NEEDED, None), ("t", 1): (ErrorCode.ELECTION_NOT_NEEDED, None),
                       ("t", 2): (ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "No such partition as t-2"),
                       ("nope", 0): (ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "No such topic as nope")}
    _, unclean = elect(broker, [{"topic": "t", "partitions": [0]}], election_type=1)
    assert unclean[("t", 0)][0] == ErrorCode.ELECTION_NOT_NEEDED


def test_electing_all_partitions_leaves_out_those_needing_none(broker):
    response, results = elect(broker, None, version=0)
    assert [r.topic for r in response.replica_election_results] == ["t"] and results == {}


def test_unknown_election_type_is_an_invalid_request(broker):
    response, results = elect(broker, [{"topic": "t", "partitions": [0]}], election_type=5)
    assert response.error_code == ErrorCode.INVALID_REQUEST
    assert results[("t", 0)] == (ErrorCode.INVALID_REQUEST, "Unknown election type 5")


def test_reassignments_none_in_progress_and_other_brokers_refused(broker):
    response = call(broker, ALTER_REASSIGNMENTS, 1, {"timeout_ms": 1000, "allow_replication_factor_change": False,
                                                      "topics": [{"name": "t", "partitions": [
                                                          {"partition_index": 0, "replicas": [1]},
                                                          {"partition_index": 1, "replicas": [1, 2]},
                                                          {"partition_index": 1, "replicas": None},
                                                          {"partition_index": 9, "replicas": [1]}]}]})
    results = [(p.partition_index, p.error_code, p.error_message) for p in response.responses[0].partitions]
    assert results == [
        (0, ErrorCode.NONE, None),
        (1, ErrorCode.INVALID_REPLICATION_ASSIGNMENT,
         "The manual partition assignment includes broker 2, but no such broker is registered."),
        (1, ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, "No partition reassignment is in progress for this topic-partition."),
        (9, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Unable to find partition t:9.")]
    assert response.allow_replication_factor_change is False
    listed = call(broker, LIST_REASSIGNMENTS, 0, {"timeout_ms": 1000, "topics": None})
    assert listed.error_code == ErrorCode.NONE and listed.topics == []


@pytest.mark.parametrize("version", [0, 1, 2])
def test_describe_quorum_this_node_is_the_single_voter_and_leader(broker, version):
    response = call(broker, DESCRIBE_QUORUM, version, {"topics": [
        {"topic_name": "__cluster_metadata", "partitions": [{"partition_index": 0}]}]})
    (partition,) = response.topics[0].partitions
    assert partition.error_code == ErrorCode.NONE and partition.leader_id == broker.node_id
    assert [v.replica_id for v in partition.current_voters] == [broker.node_id] and partition.observers == []
    if version >= 2:
        assert response.nodes[0].node_id == broker.node_id and response.nodes[0].listeners[0].port == broker.port


def test_describe_quorum_of_another_partition_is_unknown(broker):
    response = call(broker, DESCRIBE_QUORUM, 2, {"topics": [{"topic_name": "t", "partitions": [{"partition_index": 0}]}]})
    assert response.topics[0].partitions[0].error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION


def test_delegation_tokens_are_refused_on_an_unauthenticated_connection(broker):
    created = call(broker, CREATE_TOKEN, 3, {"owner_principal_type": None, "owner_principal_name": None,
                                             "renewers": [], "max_lifetime_ms": -1})
    assert created.error_code == ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED
    assert (created.principal_type, created.principal_name, created.hmac) == ("User", "ANONYMOUS", b"")
    for key, body in [(RENEW_TOKEN, {"hmac": b"x", "renew_period_ms": 1}),
                      (EXPIRE_TOKEN, {"hmac": b"x", "expiry_time_period_ms": 1}),
                      (DESCRIBE_TOKEN, {"owners": None})]:
        assert call(broker, key, 2, body).error_code == ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED

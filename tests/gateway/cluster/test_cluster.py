"""A 3-broker Cluster in process: placement, leadership moves, ISR, coordinators and what each broker
answers (gateway/cluster.py, gateway/leadership.py, gateway/coordination.py)."""

import asyncio

import pytest
import structlog

from gateway import handlers  # noqa: F401
from gateway.cluster import Cluster, ClusterError
from gateway.config import Config
from gateway.placement import coordinator_partition
from gateway.registry import RequestContext, lookup
from partitions.memory import MemoryStorage
from wire.codec import decode, encode
from wire.errors import ErrorCode
from wire.records import build_batch

PRODUCE, FETCH, LIST_OFFSETS, METADATA, OFFSET_FOR_LEADER_EPOCH, FIND_COORDINATOR, HEARTBEAT = 0, 1, 2, 3, 23, 10, 12
DESCRIBE_CLUSTER, CREATE_TOPICS = 60, 19


def new_cluster(storage=None, brokers=3, **config) -> Cluster:
    return Cluster(Config(memory=True, port=9092, brokers=brokers, **config),
                   storage if storage is not None else MemoryStorage())


def call(cluster, node_id, api_key, version, body):
    registration = lookup(api_key, version)
    request = decode(registration.api.request, version, encode(registration.api.request, version, body))
    ctx = RequestContext(cluster, api_key, version, 1, "test", structlog.get_logger(), node=cluster.nodes[node_id])
    response = asyncio.run(registration.handler(ctx, request))
    return decode(registration.api.response, version, encode(registration.api.response, version, response))


def create(cluster, name, partitions=3, rf=3, configs=()):
    topic = {"name": name, "num_partitions": partitions, "replication_factor": rf, "assignments": [],
             "configs": [{"name": k, "value": v} for k, v in configs]}
    response = call(cluster, 1, CREATE_TOPICS, 7, {"topics": [topic], "timeout_ms": 1000, "validate_only": False})
    return response.topics[0]


def produce(cluster, node_id, topic, partition, acks=-1, version=10):
    body = {"transactional_id": None, "acks": acks, "timeout_ms": 1000, "topic_data": [
        {"name": topic, "partition_data": [{"index": partition, "records": build_batch([(None, b"v", [], 1000)])}]}]}
    response = call(cluster, node_id, PRODUCE, version, body)
    return response, response.responses[0].partition_responses[0]


@pytest.fixture
def cluster():
    c = new_cluster()
    assert create(c, "t").error_code == ErrorCode.NONE
    return c


def test_three_brokers_on_consecutive_ports_with_leaders_spread(cluster):
    assert sorted(cluster.nodes) == [1, 2, 3]
    assert [cluster.nodes[i].port for i in (1, 2, 3)] == [9092, 9093, 9094]
    response = call(cluster, 2, METADATA, 12, {"topics": None, "allow_auto_topic_creation": False})
    assert [(b.node_id, b.port) for b in response.brokers] == [(1, 9092), (2, 9093), (3, 9094)]
    partitions = response.topics[0].partitions
    assert sorted(p.leader_id for p in partitions) == [1, 2, 3]
    assert all(sorted(p.replica_nodes) == [1, 2, 3] == sorted(p.isr_nodes) for p in partitions)
    assert response.controller_id == 1
    described = call(cluster, 3, DESCRIBE_CLUSTER, 0, {"include_cluster_authorized_operations": False})
    assert [b.broker_id for b in described.brokers] == [1, 2, 3]


def test_replication_factor_above_the_broker_count_is_refused(cluster):
    assert create(cluster, "four", rf=4).error_code == ErrorCode.INVALID_REPLICATION_FACTOR
    assert create(cluster, "two", rf=2).error_code == ErrorCode.NONE
    assert len(cluster.partition_state("two", 0)["replicas"]) == 2


def test_only_the_leader_appends_and_a_follower_names_it(cluster):
    state = cluster.partition_state("t", 0)
    follower = next(r for r in state["replicas"] if r != state["leader"])
    response, result = produce(cluster, follower, "t", 0)
    assert result.error_code == ErrorCode.NOT_LEADER_OR_FOLLOWER
    assert (result.current_leader.leader_id, result.current_leader.leader_epoch) == (state["leader"], 0)
    assert [e.node_id for e in response.node_endpoints] == [state["leader"]]
    _, result = produce(cluster, state["leader"], "t", 0)
    assert result.error_code == ErrorCode.NONE


def test_stopping_the_leader_moves_leadership_bumps_the_epoch_and_shrinks_the_isr(cluster):
    before = cluster.partition_state("t", 0)
    produce(cluster, before["leader"], "t", 0)
    cluster.stop_node(before["leader"])
    after = cluster.partition_state("t", 0)
    assert after["leader"] not in (before["leader"], -1)
    assert after["epoch"] == before["epoch"] + 1
    assert before["leader"] not in after["isr"] and after["offline"] == [before["leader"]]
    _, result = produce(cluster, after["leader"], "t", 0)
    assert result.error_code == ErrorCode.NONE and result.base_offset == 1
    # the old epoch is fenced, a future one unknown
    fetch = {"replica_id": -1, "max_wait_ms": 0, "min_bytes": 0, "max_bytes": 1 << 20, "isolation_level": 0,
             "session_id": 0, "session_epoch": -1, "forgotten_topics_data": [], "rack_id": "",
             "topics": [{"topic": "t", "partitions": [{"partition": 0, "current_leader_epoch": 0, "fetch_offset": 0,
                                                       "last_fetched_epoch": -1, "log_start_offset": -1,
                                                       "partition_max_bytes": 1 << 20}]}]}
    fenced = call(cluster, after["leader"], FETCH, 12, fetch).responses[0].partitions[0]
    assert fenced.error_code == ErrorCode.FENCED_LEADER_EPOCH
    assert fenced.current_leader.leader_id == after["leader"]
    fetch["topics"][0]["partitions"][0]["current_leader_epoch"] = after["epoch"] + 1
    assert call(cluster, after["leader"], FETCH, 12, fetch).responses[0].partitions[0].error_code == \
        ErrorCode.UNKNOWN_LEADER_EPOCH
    # epoch 0 ended where the new leader started (offset 1); the new one ends at the log end
    epochs = call(cluster, after["leader"], OFFSET_FOR_LEADER_EPOCH, 4, {"replica_id": -1, "topics": [
        {"topic": "t", "partitions": [{"partition": 0, "current_leader_epoch": -1, "leader_epoch": 0},
                                      ]}]}).topics[0].partitions[0]
    assert (epochs.leader_epoch, epochs.end_offset) == (0, 1)
    cluster.start_node(before["leader"])
    back = cluster.partition_state("t", 0)
    assert sorted(back["isr"]) == [1, 2, 3] and back["leader"] == after["leader"] and back["offline"] == []


def test_min_insync_replicas_against_the_current_isr(cluster):
    create(cluster, "m", partitions=1, configs=[("min.insync.replicas", "2")])
    replicas = cluster.partition_state("m", 0)["replicas"]
    cluster.stop_node(replicas[1])
    leader = cluster.partition_state("m", 0)["leader"]
    assert produce(cluster, leader, "m", 0)[1].error_code == ErrorCode.NONE
    cluster.stop_node(replicas[2])
    leader = cluster.partition_state("m", 0)["leader"]
    assert produce(cluster, leader, "m", 0)[1].error_code == ErrorCode.NOT_ENOUGH_REPLICAS
    assert produce(cluster, leader, "m", 0, acks=1)[1].error_code == ErrorCode.NONE
    cluster.start_node(replicas[1])
    assert produce(cluster, leader, "m", 0)[1].error_code == ErrorCode.NONE


def test_a_partition_with_no_live_replica_is_offline_until_one_returns(cluster):
    create(cluster, "one", partitions=1, rf=1)
    owner = cluster.partition_state("one", 0)["leader"]
    cluster.stop_node(owner)
    alive = next(i for i in (1, 2, 3) if i != owner)
    entry = call(cluster, alive, METADATA, 12, {"topics": [{"name": "one", "topic_id": bytes(16)}],
                                                "allow_auto_topic_creation": False}).topics[0].partitions[0]
    assert (entry.error_code, entry.leader_id, list(entry.offline_replicas)) == \
        (ErrorCode.LEADER_NOT_AVAILABLE, -1, [owner])
    assert produce(cluster, alive, "one", 0)[1].error_code == ErrorCode.NOT_LEADER_OR_FOLLOWER
    cluster.start_node(owner)
    assert cluster.partition_state("one", 0)["leader"] == owner


def test_unclean_election_lets_an_out_of_sync_replica_lead(cluster):
    create(cluster, "u", partitions=1, configs=[("unclean.leader.election.enable", "true")])
    replicas = cluster.partition_state("u", 0)["replicas"]
    cluster.set_isr("u", 0, [replicas[0]])
    cluster.stop_node(replicas[0])
    assert cluster.partition_state("u", 0)["leader"] == replicas[1]


def test_move_leader_and_set_isr_check_their_arguments(cluster):
    state = cluster.partition_state("t", 1)
    target = next(r for r in state["replicas"] if r != state["leader"])
    cluster.move_leader("t", 1, target)
    assert cluster.partition_state("t", 1)["leader"] == target
    assert cluster.partition_state("t", 1)["epoch"] == state["epoch"] + 1
    with pytest.raises(ClusterError):
        cluster.move_leader("t", 1, 7)
    with pytest.raises(ClusterError):
        cluster.set_isr("t", 1, [9])
    cluster.set_isr("t", 1, [state["leader"]])
    assert cluster.partition_state("t", 1)["leader"] == state["leader"]  # the leader left the ISR: it gave way


def test_coordinators_follow_the_hash_and_move_with_their_partition(cluster):
    groups = [f"group-{i}" for i in range(30)]
    coordinators = {g: cluster.coordinator("group", g).node_id for g in groups}
    assert len(set(coordinators.values())) == 3
    group = groups[0]
    owner = coordinators[group]
    found = call(cluster, 1, FIND_COORDINATOR, 3, {"key": group, "key_type": 0})
    assert found.node_id == owner
    partition = coordinator_partition(group, 50)
    assert cluster.partition_state("__consumer_offsets", partition)["leader"] == owner
    other = next(i for i in (1, 2, 3) if i != owner)
    heartbeat = {"group_id": group, "generation_id": 1, "member_id": "m", "group_instance_id": None}
    assert call(cluster, other, HEARTBEAT, 4, heartbeat).error_code == ErrorCode.NOT_COORDINATOR
    assert call(cluster, owner, HEARTBEAT, 4, heartbeat).error_code != ErrorCode.NOT_COORDINATOR
    cluster.move_coordinator("group", group, other)
    assert cluster.coordinator("group", group).node_id == other
    assert call(cluster, owner, HEARTBEAT, 4, heartbeat).error_code == ErrorCode.NOT_COORDINATOR
    cluster.stop_node(other)
    assert cluster.coordinator("group", group).node_id not in (other, None)


def test_replica_states_and_epochs_survive_a_restart():
    storage = MemoryStorage()
    first = new_cluster(storage)
    create(first, "p", partitions=2)
    leader = first.partition_state("p", 0)["leader"]
    first.stop_node(leader)
    moved = first.partition_state("p", 0)
    again = new_cluster(storage)
    assert again.partition_state("p", 0)["epoch"] == moved["epoch"] >= 1
    assert again.logs.get("p").partitions[0].leader_epoch == moved["epoch"]


def test_one_broker_answers_as_before_until_a_control_operation():
    single = new_cluster(brokers=1)
    assert not single.multi and list(single.nodes) == [1]
    single.logs.create_topic("s", 1)
    assert produce(single, 1, "s", 0)[1].error_code == ErrorCode.NONE
    single.stop_node(1)
    assert single.multi and single.partition_state("s", 0)["leader"] == -1


def test_the_transaction_coordinator_epoch_in_markers_moves_with_the_coordinator(cluster):
    txid = "tx-1"
    owner = cluster.coordinator("transaction", txid).node_id
    before = cluster.markers.coordinator_epoch(txid)
    other = next(i for i in (1, 2, 3) if i != owner)
    cluster.move_coordinator("transaction", txid, other)
    partition = coordinator_partition(txid, 50)
    assert cluster.markers.coordinator_epoch(txid) == before + 1 == \
        cluster.partition_state("__transaction_state", partition)["epoch"]


def test_elect_leaders_moves_leadership_back_to_the_preferred_replica(cluster):
    preferred = cluster.partition_state("t", 0)["replicas"][0]
    cluster.stop_node(preferred)
    elect = {"election_type": 0, "timeout_ms": 1000, "topic_partitions": [{"topic": "t", "partitions": [0]}]}
    alive = next(i for i in (1, 2, 3) if i != preferred)
    result = call(cluster, alive, 43, 2, elect).replica_election_results[0].partition_result[0]
    assert result.error_code == ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE
    cluster.start_node(preferred)
    assert cluster.partition_state("t", 0)["leader"] != preferred
    result = call(cluster, alive, 43, 2, elect).replica_election_results[0].partition_result[0]
    assert result.error_code == ErrorCode.NONE and cluster.partition_state("t", 0)["leader"] == preferred
    again = call(cluster, alive, 43, 2, elect).replica_election_results[0].partition_result[0]
    assert again.error_code == ErrorCode.ELECTION_NOT_NEEDED


def test_every_listener_is_at_port_plus_index_and_metadata_advertises_the_clients_listener():
    c = Cluster(Config(memory=True, brokers=3, listener_specs=("PLAINTEXT://127.0.0.1:9092", "EXTERNAL://127.0.0.1:9192"),
                       properties=(("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,EXTERNAL:PLAINTEXT"),)),
                MemoryStorage())
    assert [[e.port for e in c.nodes[i].endpoints] for i in (1, 2, 3)] == [[9092, 9192], [9093, 9193], [9094, 9194]]
    registration = lookup(METADATA, 12)
    body = {"topics": None, "allow_auto_topic_creation": False}
    request = decode(registration.api.request, 12, encode(registration.api.request, 12, body))
    ctx = RequestContext(c, METADATA, 12, 1, "t", structlog.get_logger(), listener_name="EXTERNAL", node=c.nodes[2])
    response = asyncio.run(registration.handler(ctx, request))
    assert [b["port"] for b in response["brokers"]] == [9192, 9193, 9194]


def test_a_paused_follower_holds_acks_all_until_it_leaves_the_isr():
    c = new_cluster(properties=(("replica.lag.time.max.ms", "50"),))
    create(c, "h", partitions=1, configs=[("min.insync.replicas", "3")])
    state = c.partition_state("h", 0)
    follower = next(r for r in state["replicas"] if r != state["leader"])
    c.pause_node(follower)
    _, result = produce(c, state["leader"], "h", 0)
    assert result.error_code == ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND  # appended, then the ISR shrank
    assert follower not in c.partition_state("h", 0)["isr"]
    assert produce(c, state["leader"], "h", 0)[1].error_code == ErrorCode.NOT_ENOUGH_REPLICAS
    assert produce(c, state["leader"], "h", 0, acks=1)[1].error_code == ErrorCode.NONE
    c.resume_node(follower)
    assert sorted(c.partition_state("h", 0)["isr"]) == [1, 2, 3]
    assert produce(c, state["leader"], "h", 0)[1].error_code == ErrorCode.NONE


def test_delete_records_and_api_versions_answer_as_the_node_they_reached(cluster):
    state = cluster.partition_state("t", 0)
    follower = next(r for r in state["replicas"] if r != state["leader"])
    body = {"topics": [{"name": "t", "partitions": [{"partition_index": 0, "offset": -1}]}], "timeout_ms": 1000}
    assert call(cluster, follower, 21, 2, body).topics[0].partitions[0].error_code == ErrorCode.NOT_LEADER_OR_FOLLOWER
    assert call(cluster, state["leader"], 21, 2, body).topics[0].partitions[0].error_code == ErrorCode.NONE
    versions = {"client_software_name": "t", "client_software_version": "1", "cluster_id": None, "node_id": 2}
    assert call(cluster, 2, 18, 5, versions).error_code == ErrorCode.NONE  # KIP-1102: node 2 is node 2
    assert call(cluster, 3, 18, 5, versions).error_code == ErrorCode.REBOOTSTRAP_REQUIRED


def test_a_paused_nodes_responses_are_held_and_counted_until_it_resumes():
    from gateway.node import Endpoint, HoldingTransport, Node

    class Fake:
        def __init__(self):
            self.written = []

        def writelines(self, data):
            self.written.extend(data)

        def get_write_buffer_size(self):
            return 0

        def is_closing(self):
            return False

    node, fake, drained = Node(2, [Endpoint("PLAINTEXT", "h", 1, "h", 1)]), Fake(), []
    transport = HoldingTransport(fake, node, lambda: drained.append(1))
    transport.writelines([b"a"])
    node.paused = True
    transport.writelines([b"bc", b"d"])
    assert fake.written == [b"a"] and transport.get_write_buffer_size() == 3
    node.resume()
    assert fake.written == [b"a", b"bc", b"d"] and transport.get_write_buffer_size() == 0 and drained == [1]

"""A paused (hung) broker of a cluster is fenced after broker.session.timeout.ms (gateway/cluster.py):
it leaves every ISR, leadership and coordinators move away from it with their epochs bumped; resumed, it
registers again, rejoins the ISRs and answers as the follower it now is. Time is injected (tick(now))."""

from gateway.cluster import GROUP
from wire.errors import ErrorCode

from tests.gateway.cluster.test_cluster import FETCH, FIND_COORDINATOR, METADATA, call, create, new_cluster, produce

T0 = 1_000_000


def leaders_of(c, topic, partitions=3):
    return [c.partition_state(topic, p)["leader"] for p in range(partitions)]


def fetch(c, node_id, topic, partition, epoch):
    body = {"replica_id": -1, "max_wait_ms": 0, "min_bytes": 0, "max_bytes": 1 << 20, "isolation_level": 0,
            "session_id": 0, "session_epoch": -1, "rack_id": "", "forgotten_topics_data": [],
            "topics": [{"topic": topic, "partitions": [{"partition": partition, "current_leader_epoch": epoch,
                                                         "fetch_offset": 0, "last_fetched_epoch": -1,
                                                         "log_start_offset": -1, "partition_max_bytes": 1 << 20}]}]}
    return call(c, node_id, FETCH, 12, body).responses[0].partitions[0]


def test_a_paused_leader_is_fenced_after_the_session_timeout_and_leadership_moves():
    c = new_cluster()
    create(c, "f")
    victim = c.partition_state("f", 0)["leader"]
    before = c.partition_state("f", 0)
    c.pause_node(victim, now=T0)
    assert c.fencing.next_deadline() == T0 + 9000  # Kafka's default broker.session.timeout.ms
    assert c.tick(T0 + 8999) == T0 + 9000
    assert c.partition_state("f", 0) == before  # not yet: still the leader, still in sync
    c.tick(T0 + 9000)
    assert c.nodes[victim].fenced and c.nodes[victim].paused
    for p in range(3):
        state = c.partition_state("f", p)
        assert victim not in state["isr"] and state["leader"] != victim and state["leader"] > 0
    after = c.partition_state("f", 0)
    assert after["epoch"] == before["epoch"] + 1
    other = next(n for n in (1, 2, 3) if n != victim)
    response = call(c, other, METADATA, 12, {"topics": [{"name": "f", "topic_id": bytes(16)}],
                                             "allow_auto_topic_creation": False})
    assert sorted(b.node_id for b in response.brokers) == sorted({1, 2, 3} - {victim})  # fenced: unregistered
    assert response.controller_id != victim
    assert c.fencing.next_deadline() is None


def test_coordinators_move_off_a_fenced_broker():
    c = new_cluster()
    group = next(f"g{i}" for i in range(200) if c.coordinator(GROUP, f"g{i}").node_id == 2)
    c.pause_node(2, now=T0)
    c.tick(T0 + 9000)
    assert c.coordinator(GROUP, group).node_id != 2
    body = {"key_type": 0, "coordinator_keys": [group]}
    answer = call(c, 1, FIND_COORDINATOR, 4, body).coordinators[0]
    assert answer.error_code == ErrorCode.NONE and answer.node_id == c.coordinator(GROUP, group).node_id


def test_resumed_it_rejoins_the_isr_and_answers_as_a_follower():
    c = new_cluster()
    create(c, "r", partitions=1)
    victim = c.partition_state("r", 0)["leader"]
    old_epoch = c.partition_state("r", 0)["epoch"]
    c.pause_node(victim, now=T0)
    c.tick(T0 + 9000)
    moved = c.partition_state("r", 0)
    c.resume_node(victim)
    assert not c.nodes[victim].fenced and not c.nodes[victim].paused
    state = c.partition_state("r", 0)
    assert sorted(state["isr"]) == [1, 2, 3] and state["leader"] == moved["leader"] != victim
    response, result = produce(c, victim, "r", 0)
    assert result.error_code == ErrorCode.NOT_LEADER_OR_FOLLOWER
    assert result.current_leader.leader_id == moved["leader"]  # KIP-951: the client follows at once
    assert result.current_leader.leader_epoch == moved["epoch"]
    assert fetch(c, moved["leader"], "r", 0, old_epoch).error_code == ErrorCode.FENCED_LEADER_EPOCH
    assert produce(c, moved["leader"], "r", 0)[1].error_code == ErrorCode.NONE


def test_resuming_before_the_session_timeout_fences_nothing():
    c = new_cluster()
    create(c, "q", partitions=1)
    victim = c.partition_state("q", 0)["leader"]
    before = c.partition_state("q", 0)
    c.pause_node(victim, now=T0)
    c.resume_node(victim)
    assert c.fencing.next_deadline() is None
    c.tick(T0 + 60_000)
    assert c.partition_state("q", 0) == before and not c.nodes[victim].fenced


def test_the_session_timeout_is_a_broker_config_and_a_lone_broker_is_never_fenced():
    c = new_cluster(properties=(("broker.session.timeout.ms", "300"),))
    c.pause_node(3, now=T0)
    assert c.fencing.next_deadline() == T0 + 300
    c.tick(T0 + 300)
    assert c.nodes[3].fenced
    c.stop_node(3)  # a fenced broker that then dies stays out, and is no longer fenced, only stopped
    assert not c.nodes[3].fenced and not c.nodes[3].alive
    c.start_node(3)
    assert c.nodes[3].alive and 3 in c.alive_ids()

    lone = new_cluster(brokers=1)
    lone.pause_node(lone.node_id, now=T0)
    assert lone.fencing.next_deadline() is None
    lone.tick(T0 + 60_000)
    assert not lone.nodes[lone.node_id].fenced


def test_a_fenced_only_replica_leaves_the_partition_offline_until_it_resumes():
    c = new_cluster()
    create(c, "o", partitions=1, rf=1)
    only = c.partition_state("o", 0)["leader"]
    c.pause_node(only, now=T0)
    c.tick(T0 + 9000)
    state = c.partition_state("o", 0)
    assert state["leader"] == -1 and state["offline"] == [only]
    c.resume_node(only)
    assert c.partition_state("o", 0)["leader"] == only and c.partition_state("o", 0)["epoch"] == state["epoch"] + 1


def test_acks_all_waiting_on_a_hung_follower_is_answered_when_it_is_fenced():
    import asyncio

    import structlog

    from gateway.registry import RequestContext, lookup
    from tests.gateway.cluster.test_cluster import PRODUCE
    from wire.codec import decode, encode
    from wire.records import build_batch

    c = new_cluster(properties=(("replica.lag.time.max.ms", "600000"),))
    create(c, "w", partitions=1, configs=[("min.insync.replicas", "3")])
    create(c, "v", partitions=1, configs=[("min.insync.replicas", "2")])
    leader = c.partition_state("w", 0)["leader"]
    follower = next(r for r in c.partition_state("w", 0)["replicas"] if r != leader)
    c.move_leader("v", 0, leader)  # both led by one broker, the hung follower in both ISRs

    async def produce_to(topic):
        state = c.partition_state(topic, 0)
        registration = lookup(PRODUCE, 10)
        body = {"transactional_id": None, "acks": -1, "timeout_ms": 600000, "topic_data": [
            {"name": topic, "partition_data": [{"index": 0, "records": build_batch([(None, b"v", [], 1000)])}]}]}
        request = decode(registration.api.request, 10, encode(registration.api.request, 10, body))
        ctx = RequestContext(c, PRODUCE, 10, 1, "test", structlog.get_logger(), node=c.nodes[state["leader"]])
        response = await registration.handler(ctx, request)
        return response["responses"][0]["partition_responses"][0]["error_code"]

    async def scenario():
        c.pause_node(follower, now=T0)
        waiting = [asyncio.ensure_future(produce_to(t)) for t in ("w", "v")]
        for _ in range(20):
            await asyncio.sleep(0)
        assert not any(task.done() for task in waiting)  # held by the hung follower in both ISRs
        c.tick(T0 + 9000)
        return await asyncio.wait_for(asyncio.gather(*waiting), 10)

    assert follower in c.partition_state("v", 0)["isr"]
    w, v = asyncio.run(scenario())
    assert w == ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND  # the ISR fell to 2 < min.insync.replicas=3
    assert v == ErrorCode.NONE  # 2 >= 2: acknowledged once the fenced follower left the ISR

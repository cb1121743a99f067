"""Kept-encoded partition arrays (gateway/encoded_partitions.py): Metadata v0-13, DescribeTopicPartitions
and ApiVersions answer byte for byte what the generic codec makes of freshly built dicts, on the
first request (a miss) and the next (a hit), and after every change of what a partition shows:
leaders moved, ISRs changed, brokers stopped, fenced and back, partitions added, topics deleted and
created again; unknown topics, duplicates, topic ids, listeners and authorized operations too."""

from __future__ import annotations

import asyncio

import pytest
import structlog

from gateway import encoded_partitions
from gateway.cluster import Cluster
from gateway.config import Config
from gateway.handlers import api_versions, describe_topic_partitions as dtp, metadata
from gateway.registry import RequestContext, lookup
from gateway.security.acls import Operation as Op, PatternType as P, Permission as Perm, ResourceType as R
from partitions.memory import MemoryStorage
from tests.gateway.inprocess import call, new_broker
from wire.codec import Encoded, decode, encode
from wire.errors import ErrorCode
from wire.schema import ZERO_UUID

METADATA, API_VERSIONS, DESCRIBE_TOPIC_PARTITIONS, CREATE_ACLS = 3, 18, 75, 30
ADMIN, ALICE, BOB = "User:admin", "User:alice", "User:bob"
BIG = metadata.PARTITIONS_PER_SLICE * 2 + 7  # encoded in three slices


def _ctx(broker, api_key, version, principal="User:ANONYMOUS", node=None, listener="PLAINTEXT"):
    return RequestContext(broker, api_key, version, 1, "t", structlog.get_logger(), principal=principal,
                          node=node, listener_name=listener)


def _handle(broker, api_key, version, body, **ctx):
    registration = lookup(api_key, version)
    request = decode(registration.api.request, version, encode(registration.api.request, version, body))
    return asyncio.run(registration.handler(_ctx(broker, api_key, version, **ctx), request))


def _wanted_names(broker, version, body, principal):
    if body["topics"] is None or (version == 0 and not body["topics"]):
        names = list(broker.logs.topics)
        if broker.authorizer is not None:
            names = [n for n in names if _ctx(broker, METADATA, version, principal).authorize(
                Op.DESCRIBE, R.TOPIC, n, log=False)]
        return names
    seen, names = set(), []
    for t in body["topics"]:
        key = (t.get("name"), t.get("topic_id") or ZERO_UUID)
        if key not in seen:
            seen.add(key)
            names.append(t.get("name") if t.get("name") is not None else broker.logs.get_by_id(key[1]).name)
    return names


def metadata_bytes(broker, version, body, principal="User:ANONYMOUS", **ctx) -> bytes:
    """The handler's answer as sent, checked against the generic codec's encoding of fresh dicts."""
    api = lookup(METADATA, version).api
    response = _handle(broker, METADATA, version, body, principal=principal, **ctx)
    sent = encode(api.response, version, response)
    fresh = dict(response)
    fresh["topics"] = []
    cluster = broker if broker.multi else None
    ops_requested = body.get("include_topic_authorized_operations", False)
    for name, entry in zip(_wanted_names(broker, version, body, principal), response["topics"], strict=True):
        if entry.__class__ is dict:  # an error entry: built per request, never cached
            assert entry["error_code"] != ErrorCode.NONE
            fresh["topics"].append(entry)
            continue
        assert entry.__class__ is Encoded
        topic = broker.logs.get(name)
        entry = metadata.topic_entry(topic, broker.node_id, cluster=cluster)
        entry["topic_authorized_operations"] = (
            _ctx(broker, METADATA, version, principal).authorized_operations(R.TOPIC, name, True)
            if ops_requested else -2147483648)
        fresh["topics"].append(entry)
    assert sent == encode(api.response, version, fresh)
    return sent


def decoded(version, data):
    return decode(lookup(METADATA, version).api.response, version, data)


def _body(version, names=None, ops=True, auto=False):
    topics = None if names is None else [{"name": n, "topic_id": ZERO_UUID} for n in names]
    if topics is None and version == 0:
        topics = []
    return {"topics": topics, "allow_auto_topic_creation": auto,
            "include_topic_authorized_operations": ops and version >= 8,
            "include_cluster_authorized_operations": False}


@pytest.fixture(autouse=True)
def _fresh_cache():
    encoded_partitions.clear()
    yield
    encoded_partitions.clear()


@pytest.mark.parametrize("version", range(0, 14))
def test_single_broker_every_version_miss_hit_and_changes(version):
    broker = new_broker()
    broker.logs.create_topic("a", 3)
    broker.logs.create_topic("b", 1)
    broker.logs.create_topic("big", BIG)
    for ops in (False, True):
        everything = _body(version, ops=ops)
        first = metadata_bytes(broker, version, everything)
        assert metadata_bytes(broker, version, everything) == first
        assert sum(len(t.partitions) for t in decoded(version, first).topics) == 4 + BIG
    named = _body(version, ["b", "nope", "a", "b", "big"])
    answer = decoded(version, metadata_bytes(broker, version, named))
    created = version < 4  # before v4 a request cannot refuse auto-creation
    assert [(t.name, t.error_code) for t in answer.topics] == [
        ("b", 0), ("nope", 0 if created else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION), ("a", 0), ("big", 0)]
    broker.logs.add_partitions("a", 5)
    broker.logs.add_partitions("big", BIG + 3)
    answer = decoded(version, metadata_bytes(broker, version, named))
    assert [len(t.partitions) for t in answer.topics] == [1, 1 if created else 0, 5, BIG + 3]
    old_id = broker.logs.get("b").topic_id
    broker.logs.delete_topic("b")
    answer = decoded(version, metadata_bytes(broker, version, _body(version)))
    assert "b" not in [t.name for t in answer.topics]
    broker.logs.create_topic("b", 2)  # the same name again: a new topic, nothing of the old one served
    answer = decoded(version, metadata_bytes(broker, version, named))
    b = answer.topics[0]
    assert len(b.partitions) == 2
    if version >= 10:
        assert b.topic_id == broker.logs.get("b").topic_id != old_id


def test_topics_by_id_and_auto_created_ones():
    broker = new_broker()
    broker.logs.create_topic("a", 4)
    by_id = {"topics": [{"name": None, "topic_id": broker.logs.get("a").topic_id},
                        {"name": None, "topic_id": b"\x01" * 16}], "allow_auto_topic_creation": False,
             "include_topic_authorized_operations": True}
    for version in (12, 13):
        answer = decoded(version, metadata_bytes(broker, version, {**by_id, "topics": by_id["topics"][:1]}))
        assert answer.topics[0].name == "a" and len(answer.topics[0].partitions) == 4
        response = _handle(broker, METADATA, version, by_id)
        assert response["topics"][1]["error_code"] == ErrorCode.UNKNOWN_TOPIC_ID
    answer = decoded(12, metadata_bytes(broker, 12, _body(12, ["a", "fresh"], auto=True)))
    assert [(t.name, t.error_code, len(t.partitions)) for t in answer.topics] == [
        ("a", 0, 4), ("fresh", ErrorCode.NONE, broker.logs.get("fresh") and len(broker.logs.get("fresh").partitions))]


def _cluster(**config) -> Cluster:
    cluster = Cluster(Config(memory=True, port=9092, brokers=3, **config), MemoryStorage())
    for name, count, replication in (("t", 3, 3), ("big", BIG, 2)):
        cluster.replication_for(cluster.logs.create_topic(name, count).topic_id, replication)
    return cluster


def _leaders(version, data):
    return {(t.name, p.partition_index): (p.error_code, p.leader_id, p.get("leader_epoch"), list(p.replica_nodes),
                                          list(p.isr_nodes), list(p.get("offline_replicas") or []))
            for t in decoded(version, data).topics for p in t.partitions}


def _expected(cluster, version, name, index):
    state = cluster.partition_state(name, index)
    return (ErrorCode.LEADER_NOT_AVAILABLE if state["leader"] < 0 else 0, state["leader"],
            state["epoch"] if version >= 7 else None, state["replicas"], state["isr"],
            state["offline"] if version >= 5 else [])


@pytest.mark.parametrize("version", [0, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13])
def test_cluster_leaders_isr_and_liveness_are_never_stale(version):
    cluster = _cluster()
    body = _body(version)
    node = cluster.nodes[1]

    def check():
        data = metadata_bytes(cluster, version, body, node=node)
        assert metadata_bytes(cluster, version, body, node=node) == data  # the hit
        seen = _leaders(version, data)
        for (name, index), shown in seen.items():
            assert shown == _expected(cluster, version, name, index), (name, index)
        return seen

    before = check()
    state = cluster.partition_state("t", 0)
    other = next(r for r in state["isr"] if r != state["leader"])
    cluster.move_leader("t", 0, other)
    after = check()
    assert after["t", 0][1] == other != before["t", 0][1]
    cluster.set_isr("t", 1, [cluster.partition_state("t", 1)["replicas"][-1]])
    assert check()["t", 1][4] == [cluster.partition_state("t", 1)["replicas"][-1]]
    cluster.set_isr("big", BIG - 1, cluster.partition_state("big", BIG - 1)["replicas"][:1])
    check()
    cluster.stop_node(3)
    stopped = check()
    assert all(shown[1] != 3 for shown in stopped.values())
    cluster.start_node(3)
    check()
    cluster.pause_node(2)
    cluster._fence(2)
    fenced = check()
    assert all(shown[1] != 2 for shown in fenced.values())
    cluster.resume_node(2)
    check()
    for node_id in (1, 2, 3):  # every broker gone: offline partitions, leader -1
        if node_id != 1:
            cluster.stop_node(node_id)
    node = cluster.nodes[1]
    check()
    cluster.logs.add_partitions("t", 5)
    assert len([k for k in check() if k[0] == "t"]) == 5
    cluster.topic_deleted(cluster.logs.get("t"))
    cluster.logs.delete_topic("t")
    cluster.replication_for(cluster.logs.create_topic("t", 2).topic_id, 3)
    assert len([k for k in check() if k[0] == "t"]) == 2


@pytest.mark.parametrize("version", [5, 9, 12])
def test_a_replica_outside_the_isr_that_leads_nothing_stops_and_starts(version):
    cluster = Cluster(Config(memory=True, port=9092, brokers=3), MemoryStorage())
    cluster.replication_for(cluster.logs.create_topic("solo", 1).topic_id, 3)
    leader = cluster.partition_state("solo", 0)["leader"]
    cluster.set_isr("solo", 0, [leader])
    outside = next(r for r in (1, 2, 3) if r != leader)
    body = _body(version)
    metadata_bytes(cluster, version, body, node=cluster.nodes[leader])
    cluster.stop_node(outside)  # no replica state moves: only the offline mark does
    assert _leaders(version, metadata_bytes(cluster, version, body, node=cluster.nodes[leader]))["solo", 0][5] == \
        [outside]
    cluster.start_node(outside)
    shown = _leaders(version, metadata_bytes(cluster, version, body, node=cluster.nodes[leader]))["solo", 0]
    assert shown == _expected(cluster, version, "solo", 0)
    assert shown[5] == []


def test_a_single_broker_activated_by_the_fault_api_shows_the_cluster_view():
    broker = Cluster(Config(memory=True, port=9092), MemoryStorage())
    broker.logs.create_topic("t", 2)
    for version in (5, 9, 12):
        metadata_bytes(broker, version, _body(version))
    broker.set_isr("t", 0, [broker.node_id])  # turns replica states on (multi)
    broker.stop_node(broker.node_id)
    for version in (5, 9, 12):
        shown = _leaders(version, metadata_bytes(broker, version, _body(version)))
        assert shown["t", 0][:2] == (ErrorCode.LEADER_NOT_AVAILABLE, -1)


def test_listeners_change_the_brokers_not_the_partitions():
    cluster = _cluster(listener_specs=("PLAINTEXT://127.0.0.1:9092", "SASL_PLAINTEXT://127.0.0.1:9192"))
    plain = metadata_bytes(cluster, 12, _body(12), node=cluster.nodes[1], listener="PLAINTEXT")
    sasl = metadata_bytes(cluster, 12, _body(12), node=cluster.nodes[1], listener="SASL_PLAINTEXT")
    assert [b.port for b in decoded(12, plain).brokers] != [b.port for b in decoded(12, sasl).brokers]
    assert _leaders(12, plain) == _leaders(12, sasl)


def test_authorized_operations_are_the_principals():
    broker = new_broker(authorizer=True, super_users=(ADMIN,))
    broker.logs.create_topic("orders", 3)
    broker.logs.create_topic("big", BIG)
    creations = [{"resource_type": R.TOPIC, "resource_name": name, "resource_pattern_type": P.LITERAL,
                  "principal": who, "host": "*", "operation": op, "permission_type": Perm.ALLOW}
                 for name, who, op in (("orders", ALICE, Op.DESCRIBE), ("big", ALICE, Op.ALL),
                                       ("orders", BOB, Op.ALL))]
    assert [r.error_code for r in call(broker, CREATE_ACLS, 3, {"creations": creations}, principal=ADMIN).results] \
        == [0, 0, 0]
    for version in (8, 10, 12, 13):
        for who in (ALICE, BOB, ADMIN, ALICE):
            for names in (None, ["orders", "big", "secret"]):
                data = metadata_bytes(broker, version, _body(version, names), principal=who)
                ops = {t.name: t.topic_authorized_operations for t in decoded(version, data).topics}
                if who == BOB and names is None:
                    assert set(ops) == {"orders"}
        alice = {t.name: t.topic_authorized_operations
                 for t in decoded(version, metadata_bytes(broker, version, _body(version), principal=ALICE)).topics}
        bob = {t.name: t.topic_authorized_operations
               for t in decoded(version, metadata_bytes(broker, version, _body(version), principal=BOB)).topics}
        assert alice["orders"] != bob["orders"]


def _dtp_bytes(broker, body, principal="User:ANONYMOUS", node=None) -> bytes:
    api = lookup(DESCRIBE_TOPIC_PARTITIONS, 0).api
    response = _handle(broker, DESCRIBE_TOPIC_PARTITIONS, 0, body, principal=principal, node=node)
    sent = encode(api.response, 0, response)
    answer = decode(api.response, 0, sent)
    cluster = broker if broker.multi else None
    cursor = body.get("cursor")
    fresh = dict(response)
    fresh["topics"] = []
    for shown in answer.topics:
        topic = broker.logs.get(shown.name)
        if shown.error_code or topic is None:
            fresh["topics"].append(dict(shown))
            continue
        start = cursor["partition_index"] if cursor and cursor["topic_name"] == shown.name else 0
        entry = dtp._entry(topic, broker.node_id, start, start + len(shown.partitions), cluster)
        entry["topic_authorized_operations"] = shown.topic_authorized_operations
        assert shown.topic_authorized_operations == _ctx(broker, 75, 0, principal).authorized_operations(
            R.TOPIC, shown.name, True)
        fresh["topics"].append(entry)
    assert sent == encode(api.response, 0, fresh)
    return sent


def test_describe_topic_partitions_pages_hits_and_changes():
    cluster = _cluster()
    node = cluster.nodes[1]
    every = {"topics": [], "response_partition_limit": 2000, "cursor": None}
    for _ in range(2):
        first = _dtp_bytes(cluster, every, node=node)
        assert _dtp_bytes(cluster, every, node=node) == first
    paged = {"topics": [{"name": "big"}, {"name": "t"}, {"name": "nope"}], "response_partition_limit": 400,
             "cursor": {"topic_name": "big", "partition_index": 300}}
    _dtp_bytes(cluster, paged, node=node)
    state = cluster.partition_state("big", 301)
    cluster.move_leader("big", 301, next(r for r in state["isr"] if r != state["leader"]))
    answer = decode(lookup(75, 0).api.response, 0, _dtp_bytes(cluster, paged, node=node))
    assert answer.topics[0].partitions[1].leader_id == cluster.partition_state("big", 301)["leader"]
    cluster.stop_node(2)
    _dtp_bytes(cluster, every, node=node)
    _dtp_bytes(cluster, paged, node=node)
    cluster.logs.add_partitions("t", 4)
    assert len(decode(lookup(75, 0).api.response, 0, _dtp_bytes(cluster, every, node=node)).topics[1].partitions) == 4


def test_describe_topic_partitions_with_an_authorizer():
    broker = new_broker(authorizer=True, super_users=(ADMIN,))
    broker.logs.create_topic("orders", 3)
    creations = [{"resource_type": R.TOPIC, "resource_name": "orders", "resource_pattern_type": P.LITERAL,
                  "principal": who, "host": "*", "operation": op, "permission_type": Perm.ALLOW}
                 for who, op in ((ALICE, Op.DESCRIBE), (BOB, Op.ALL))]
    call(broker, CREATE_ACLS, 3, {"creations": creations}, principal=ADMIN)
    body = {"topics": [{"name": "orders"}], "response_partition_limit": 2000, "cursor": None}
    shown = {who: decode(lookup(75, 0).api.response, 0, _dtp_bytes(broker, body, principal=who)).topics[0]
             for who in (ALICE, BOB, ALICE)}
    assert shown[ALICE].topic_authorized_operations != shown[BOB].topic_authorized_operations


@pytest.mark.parametrize("version", range(0, 6))
def test_api_versions_body_is_the_generic_encoding(version):
    broker = new_broker()
    body = {"client_software_name": "x", "client_software_version": "1"}
    api = lookup(API_VERSIONS, version).api
    for _ in range(2):
        answer = _handle(broker, API_VERSIONS, version, body)
        assert answer.__class__ is Encoded
        assert encode(api.response, version, answer) == encode(api.response, version,
                                                               api_versions._body(broker.features, version))
    decoded_answer = decode(api.response, version, answer)
    assert decoded_answer.error_code == 0 and len(decoded_answer.api_keys) > 50
    if version >= 3:
        epoch = broker.features.epoch
        broker.features.update([("group.version", 0, 2)])  # a finalized feature changes: so does the body
        changed = decode(api.response, version, _handle(broker, API_VERSIONS, version, body))
        assert changed.finalized_features_epoch == epoch + 1
        assert encode(api.response, version, _handle(broker, API_VERSIONS, version, body)) == encode(
            api.response, version, api_versions._body(broker.features, version))
    wrong = {**body, "cluster_id": "another"} if version >= 5 else None
    if wrong:
        assert _handle(broker, API_VERSIONS, version, wrong)["error_code"] == ErrorCode.REBOOTSTRAP_REQUIRED


def _generic_items(message, version, path, items) -> bytes:
    import io

    from wire.codec import _array_at
    from construct import Container

    stream, element = io.BytesIO(), _array_at(message, version, path).element
    for item in items:
        element._build(item, stream, Container(), "(test)")
    return stream.getvalue()


@pytest.mark.parametrize("version", range(0, 14))
def test_the_row_encoder_writes_what_the_generic_codec_writes(version):
    from wire.codec import ProtocolError, array_items

    message, path = lookup(METADATA, version).api.response, ("topics", "partitions")
    rows = [{"error_code": i % 3, "partition_index": i, "leader_id": i % 7 - 1, "leader_epoch": i * 3,
             "replica_nodes": list(range(i % 5)), "isr_nodes": [i % 11, 2**31 - 1], "offline_replicas": [-i]}
            for i in range(6000)]  # more distinct replica lists than the encoder keeps
    assert array_items(message, version, path, rows) == _generic_items(message, version, path, rows)
    missing = [{k: v for k, v in row.items() if k != "leader_epoch"} for row in rows[:50]]  # defaults apply
    assert array_items(message, version, path, missing) == _generic_items(message, version, path, missing)
    with pytest.raises(ProtocolError):
        array_items(message, version, path, [{**rows[0], "replica_nodes": None}])
    with pytest.raises(ProtocolError):
        array_items(message, version, path, [{**rows[0], "leader_id": 2**31}])
    dtp_message = lookup(DESCRIBE_TOPIC_PARTITIONS, 0).api.response
    dtp_rows = [{**row, "eligible_leader_replicas": None if i % 2 else [i], "last_known_elr": []}
                for i, row in enumerate(rows[:100])]
    assert array_items(dtp_message, 0, path, dtp_rows) == _generic_items(dtp_message, 0, path, dtp_rows)


def test_partitions_added_while_an_encode_yields_do_not_break_the_answer(monkeypatch):
    from gateway import offload

    monkeypatch.setattr(offload, "SLICE_S", -1.0)  # every checkpoint yields the loop
    broker = new_broker()
    broker.logs.create_topic("big", BIG)
    version = 12
    registration = lookup(METADATA, version)
    body = _body(version, ["big"], ops=False)
    request = decode(registration.api.request, version, encode(registration.api.request, version, body))

    async def scenario():
        task = asyncio.ensure_future(registration.handler(_ctx(broker, METADATA, version), request))
        while not task.done():
            await asyncio.sleep(0)
            if len(broker.logs.get("big").partitions) == BIG:
                broker.logs.add_partitions("big", BIG + 10)  # while the handler is between two slices
        return task.result()

    response = asyncio.run(scenario())
    sent = encode(registration.api.response, version, response)
    topic = broker.logs.get("big")
    fresh = {**response, "topics": [metadata.topic_entry(topic, broker.node_id,
                                                         metadata.partition_entries(topic.partitions[:BIG], 1))]}
    assert sent == encode(registration.api.response, version, fresh)  # the partitions there when it began
    after = decoded(version, metadata_bytes(broker, version, body))  # the stamp taken before: a miss now
    assert [p.partition_index for p in after.topics[0].partitions] == list(range(BIG + 10))


def test_encodings_per_topic_are_bounded_and_the_used_ones_stay():
    broker = new_broker()
    topic = broker.logs.create_topic("t", 2)
    now = encoded_partitions.stamp(broker, topic)
    encoded_partitions.store(topic, "kept", now, b"k")
    for i in range(encoded_partitions.MAX_KEYS_PER_TOPIC * 3):
        encoded_partitions.store(topic, ("other", i), now, b"o")
        assert encoded_partitions.lookup(topic, "kept", now) == b"k"  # in use: never the one dropped
        assert len(encoded_partitions._CACHE[topic]) <= encoded_partitions.MAX_KEYS_PER_TOPIC
    assert encoded_partitions.lookup(topic, ("other", 0), now) is None  # the oldest unused went
    broker.logs.add_partitions("t", 3)
    assert encoded_partitions.lookup(topic, "kept", encoded_partitions.stamp(broker, topic)) is None


def test_a_change_in_one_topic_leaves_the_others_encodings_in_place():
    cluster = _cluster()
    metadata_bytes(cluster, 12, _body(12), node=cluster.nodes[1])
    key = metadata.partitions_family(12)
    big, t = cluster.logs.get("big"), cluster.logs.get("t")
    kept = encoded_partitions.lookup(big, key, encoded_partitions.stamp(cluster, big))
    assert kept is not None
    state = cluster.partition_state("t", 0)
    cluster.move_leader("t", 0, next(r for r in state["isr"] if r != state["leader"]))
    assert encoded_partitions.lookup(big, key, encoded_partitions.stamp(cluster, big)) is kept
    assert encoded_partitions.lookup(t, key, encoded_partitions.stamp(cluster, t)) is None
    metadata_bytes(cluster, 12, _body(12), node=cluster.nodes[1])
    cluster.stop_node(3)  # a broker's liveness: every topic's offline replicas may move
    assert encoded_partitions.lookup(big, key, encoded_partitions.stamp(cluster, big)) is None

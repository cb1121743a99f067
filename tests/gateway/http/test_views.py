"""gateway.views in-process: what the pages and the JSON endpoints show, after changes made through
the Kafka handlers (gateway.http.actions)."""

import json

import pytest

from gateway.http import actions
from gateway.views import as_json, cluster, groups, messages, shares, throughput, topics, transactions
from tests.gateway.http.support import new_broker, run
from wire.records import build_batch


def _seeded():
    broker = new_broker()

    async def seed():
        await actions.create_topic(broker, "orders", 2, {"retention.ms": "86400000"})
        for i in range(6):
            await actions.produce(broker, "orders", json.dumps({"n": i, "kind": "even" if i % 2 == 0 else "odd"})
                                  .encode(), key=b"k%d" % i, headers=[("source", b"test")], partition=i % 2)
    run(seed())
    return broker


def test_topics_show_watermarks_counts_sizes_and_modified_configs():
    broker = _seeded()
    [summary] = topics.list_topics(broker, internal=False)
    assert (summary.name, summary.partitions, summary.messages, summary.modified_configs) == ("orders", 2, 6, 1)
    view = topics.topic(broker, "orders")
    assert [(p.partition, p.log_start_offset, p.high_watermark, p.messages) for p in view.partitions] == [
        (0, 0, 3, 3), (1, 0, 3, 3)]
    assert all(p.size_bytes > 0 for p in view.partitions) and view.size_bytes == summary.size_bytes
    modified = [c for c in view.configs if c.modified]
    assert [(c.name, c.value, c.source) for c in modified] == [("retention.ms", "86400000", "DYNAMIC_TOPIC_CONFIG")]
    assert topics.topic(broker, "absent") is None


def test_browse_from_each_start_with_filters_and_pretty_json():
    broker = _seeded()
    oldest = messages.browse(broker, "orders", 0, start="oldest")
    assert [m.offset for m in oldest.messages] == [0, 1, 2]
    first = oldest.messages[0]
    assert json.loads(first.value.text) == {"n": 0, "kind": "even"} and first.value.json.startswith("{\n")
    assert first.key.text == "k0" and first.key.hex == b"k0".hex(" ")
    assert first.headers[0][0] == "source" and first.headers[0][1].text == "test"
    newest = messages.browse(broker, "orders", 1, start="newest", limit=2)
    assert [m.offset for m in newest.messages] == [1, 2]
    by_offset = messages.browse(broker, "orders", 1, start="offset", offset=2)
    assert [json.loads(m.value.text)["n"] for m in by_offset.messages] == [5]
    assert by_offset.next_offsets == {1: 3}
    every = messages.browse(broker, "orders", None, start="oldest")
    assert sorted(json.loads(m.value.text)["n"] for m in every.messages) == list(range(6))
    odd = messages.browse(broker, "orders", None, start="oldest", json_path='$.kind == "odd"')
    assert sorted(json.loads(m.value.text)["n"] for m in odd.messages) == [1, 3, 5]
    text = messages.browse(broker, "orders", None, start="oldest", text='"n": 4')
    assert [json.loads(m.value.text)["n"] for m in text.messages] == [4]
    future = messages.browse(broker, "orders", 0, start="timestamp", timestamp_ms=2**62)
    assert future.messages == []
    assert messages.browse(broker, "orders", 0, json_path="nonsense").error
    assert messages.browse(broker, "orders", 7).error
    assert messages.browse(broker, "absent") is None


def test_browse_never_shows_control_batches_as_records():
    broker = new_broker()
    broker.logs.create_topic("t", 1)
    log = broker.logs.partition("t", 0)
    log.append(build_batch([(b"k", b"in-txn", [], 1)], producer_id=7, producer_epoch=0, base_sequence=0,
                           transactional=True), 1)
    log.append_control(7, 0, commit=True, coordinator_epoch=0, now_ms=2)
    log.append(build_batch([(None, b"after", [], 3)]), 3)
    shown = messages.browse(broker, "t", 0, start="oldest")
    assert [(m.offset, m.value.text) for m in shown.messages] == [(0, "in-txn"), (2, "after")]


def test_json_path_forms():
    path = messages.parse_json_path
    assert path("$.a.b[1]")({"a": {"b": [0, 5]}}) and not path("$.a.c")({"a": {}})
    assert path("$.a == 3")({"a": 3}) and not path("$.a == 3")({"a": "3"})
    assert path('$["odd key"] != "x"')({"odd key": "y"})
    with pytest.raises(ValueError):
        path("a.b")


def test_groups_lag_members_and_actions_through_handlers():
    broker = _seeded()
    run(actions.commit_offsets(broker, "billing", {("orders", 0): 1, ("orders", 1): 3}))
    [summary] = groups.list_groups(broker)
    assert (summary.group_id, summary.state, summary.members, summary.lag) == ("billing", "Empty", 0, 2)
    view = groups.group(broker, "billing")
    assert [(o.partition, o.committed, o.log_end, o.lag) for o in view.offsets] == [(0, 1, 3, 2), (1, 3, 3, 0)]
    run(actions.commit_offsets(broker, "billing", actions.reset_targets(broker, "billing", "orders", "earliest")))
    assert groups.group(broker, "billing").lag == 6
    run(actions.commit_offsets(broker, "billing", actions.reset_targets(broker, "billing", "orders", "shift-by", 2)))
    assert [o.committed for o in groups.group(broker, "billing").offsets] == [2, 2]
    run(actions.delete_offsets(broker, "billing", "orders", [0]))
    assert [o.partition for o in groups.group(broker, "billing").offsets] == [1]
    run(actions.delete_group(broker, "billing"))
    assert groups.group(broker, "billing") is None


def test_classic_assignment_is_decoded():
    data = (b"\x00\x00" + b"\x00\x00\x00\x01" + b"\x00\x06orders" + b"\x00\x00\x00\x02" + b"\x00\x00\x00\x01"
            + b"\x00\x00\x00\x00" + b"\xff\xff\xff\xff")
    assert groups.classic_assignment(data) == {"orders": [0, 1]}
    assert groups.classic_assignment(b"\x01") == {}


def test_topic_actions_create_configure_empty_delete_and_errors_by_name():
    broker = _seeded()
    run(actions.alter_topic_configs(broker, "orders", {"segment.ms": "600000"}, ["retention.ms"]))
    assert [c.name for c in topics.topic(broker, "orders").configs if c.modified] == ["segment.ms"]
    assert run(actions.empty_topic(broker, "orders")) == {0: 3, 1: 3}
    assert topics.topic(broker, "orders").messages == 0
    with pytest.raises(actions.ActionError, match="TOPIC_ALREADY_EXISTS"):
        run(actions.create_topic(broker, "orders"))
    with pytest.raises(actions.ActionError, match="INVALID_CONFIG"):
        run(actions.alter_topic_configs(broker, "orders", {"retention.ms": "soon"}))
    run(actions.delete_topic(broker, "orders"))
    assert topics.list_topics(broker) == []
    with pytest.raises(actions.ActionError, match="UNKNOWN_TOPIC_OR_PARTITION"):
        run(actions.delete_topic(broker, "orders"))


def test_produce_picks_the_java_partitioner_partition_for_a_key():
    # Kafka's Utils.murmur2 test vectors (UtilsTest.testMurmur2)
    assert actions.murmur2(b"21") == (-973932308) & 0xFFFFFFFF
    assert actions.murmur2(b"foobar") == (-790332482) & 0xFFFFFFFF
    assert actions.murmur2(b"a-little-bit-long-string") == (-985981536) & 0xFFFFFFFF
    assert actions.murmur2(b"a-little-bit-longer-string") == (-1486304829) & 0xFFFFFFFF
    assert actions.murmur2(b"abc") == 479470107
    assert actions.choose_partition(3, b"foobar") == ((-790332482) & 0x7FFFFFFF) % 3


def test_cluster_shares_transactions_and_throughput():
    broker = _seeded()
    view = cluster.cluster(broker)
    assert (view.topics, view.partitions, view.messages, [n.node_id for n in view.nodes]) == (1, 2, 6, [1])
    assert shares.list_share_groups(broker) == [] and transactions.list_transactions(broker) == []
    sample = throughput.sample(broker)
    assert sample.messages_in == 6 and sample.bytes_in == sum(p.size_bytes for p in topics.topic(broker, "orders")
                                                              .partitions)
    assert json.dumps(as_json(view))


def test_cluster_view_shows_every_node_and_the_leaders_the_cluster_chose():
    from gateway.cluster import Cluster
    from gateway.config import Config
    from partitions.memory import MemoryStorage

    c = Cluster(Config(memory=True, port=9092, brokers=3), MemoryStorage())
    c.logs.create_topic("spread", 3)
    c.pause_node(2)
    view = cluster.cluster(c)
    assert [(n.node_id, n.alive, n.paused) for n in view.nodes] == [(1, True, False), (2, True, True), (3, True, False)]
    leaders = [p.leader for p in topics.topic(c, "spread").partitions]
    assert leaders == [c.partition_state("spread", i)["leader"] for i in range(3)] and set(leaders) <= {1, 2, 3}

"""Dead-letter topics (KIP-1191), their replay, and share state across a restart (a new broker over the
same storage: everything in memory is rebuilt from what was persisted)."""

from gateway.share.dlq import GROUP_ENABLE
from gateway.share.replay import replay_dead_letters
from tests.gateway.share.support import Member, acquired, new_broker, produce, set_group_configs
from wire.errors import ErrorCode
from wire.records import build_batch

from gateway.share.dlq import iter_records_in

ACCEPT, RELEASE, REJECT = 1, 2, 3
DLQ = "dlq.orders"


def _broker(storage=None, **configs):
    broker = new_broker(storage)
    if broker.logs.get("orders") is None:
        broker.logs.create_topic("orders", 2)
    set_group_configs(broker, "g", {"share.auto.offset.reset": "earliest", "share.delivery.count.limit": "2",
                                    "errors.deadletterqueue.topic.name": DLQ, **configs})
    return broker


def _dead_letters(broker, topic=DLQ):
    found = []
    for log in broker.logs.get(topic).partitions:
        if log.high_watermark:
            found += [(log.index, r) for r in iter_records_in(log.read(0, 1 << 20))]
    return found


def _member(broker):
    member = Member(broker, "g", ["orders"])
    assert member.heartbeat().error_code == 0
    return member


def test_rejected_and_over_delivered_records_go_to_the_dlq_with_kafkas_headers():
    broker = _broker()
    broker.logs.create_topic(DLQ, 1, {GROUP_ENABLE: "true"})
    broker.logs.partition("orders", 1).append(build_batch([(b"k1", b"a", [("h", b"1")], 5), (b"k2", b"b", [], 5)]), 5)
    m = _member(broker)
    assert acquired(m.fetch(partitions=[("orders", 1)])) == [(0, 1, 1)]
    m.acknowledge({("orders", 1): [(0, 1, [REJECT, RELEASE])]})
    assert acquired(m.fetch(partitions=[("orders", 1)])) == [(1, 1, 2)]
    m.acknowledge({("orders", 1): [(1, 1, [RELEASE])]})  # its second delivery: the limit
    letters = _dead_letters(broker)
    assert [(p, r.key, r.value) for p, r in letters] == [(0, None, None), (0, None, None)]  # 1 % 1 partition
    headers = [dict(r.headers) for _, r in letters]
    assert headers[0] == {"__dlq.errors.topic": b"orders", "__dlq.errors.partition": b"1",
                          "__dlq.errors.offset": b"0", "__dlq.errors.group": b"g",
                          "__dlq.errors.delivery.count": b"1", "__dlq.errors.message": b"Offset rejected by client."}
    assert headers[1]["__dlq.errors.message"] == b"Offset delivery count exceeded the threshold."
    assert headers[1]["__dlq.errors.delivery.count"] == b"2"
    sp = broker.shares.partitions["g", broker.logs.get("orders").topic_id, 1]
    assert sp.start == 2 and not sp.dead_letters


def test_copy_record_and_partition_mod_dlq_partitions_and_replay_back():
    broker = _broker(**{"errors.deadletterqueue.copy.record.enable": "true"})
    broker.logs.create_topic(DLQ, 2, {GROUP_ENABLE: "true"})
    produce(broker, "orders", [b"x", b"y"], partition=1)
    m = _member(broker)
    m.fetch(partitions=[("orders", 1)])
    m.acknowledge({("orders", 1): [(0, 1, [REJECT])]})
    letters = _dead_letters(broker)
    assert [(p, r.value) for p, r in letters] == [(1, b"x"), (1, b"y")]  # DLQ partition 1 % 2
    result = replay_dead_letters(broker.logs, broker.storage.state(), DLQ, now_ms=10)
    assert (result.replayed, result.missing, result.by_source) == (2, 0, {"orders-1": 2})
    assert replay_dead_letters(broker.logs, broker.storage.state(), DLQ, now_ms=11).replayed == 0  # moved once
    assert acquired(m.fetch(partitions=[("orders", 1)])) == [(2, 3, 1)]  # the group gets them again


def test_replay_of_pointer_records_reads_the_original_and_respects_max():
    broker = _broker()
    broker.logs.create_topic(DLQ, 1, {GROUP_ENABLE: "true"})
    produce(broker, "orders", [b"a", b"b", b"c"])
    m = _member(broker)
    m.fetch(partitions=[("orders", 0)])
    m.acknowledge({("orders", 0): [(0, 2, [REJECT])]})
    first = replay_dead_letters(broker.logs, broker.storage.state(), DLQ, now_ms=10, max_records=2)
    assert (first.replayed, first.remaining) == (2, 1)
    second = replay_dead_letters(broker.logs, broker.storage.state(), DLQ, now_ms=10)
    assert (second.replayed, second.remaining) == (1, 0)
    values = [r.value for r in iter_records_in(broker.logs.partition("orders", 0).read(3, 1 << 20))]
    assert values == [b"a", b"b", b"c"]


def test_no_dlq_write_without_the_topic_opt_in_or_the_prefix():
    broker = _broker(**{"errors.deadletterqueue.topic.name": "orders-dead"})
    broker.logs.create_topic("orders-dead", 1, {GROUP_ENABLE: "true"})  # no "dlq." prefix
    produce(broker, "orders", [b"a"])
    m = _member(broker)
    m.fetch(partitions=[("orders", 0)])
    m.acknowledge({("orders", 0): [(0, 0, [REJECT])]})
    assert broker.logs.partition("orders-dead", 0).high_watermark == 0
    assert broker.shares.partitions["g", broker.logs.get("orders").topic_id, 0].start == 1  # archived anyway


def test_auto_created_dlq_topic_when_the_broker_allows_it():
    broker = _broker()
    broker.share_configs.dlq_auto_create_topics = True
    produce(broker, "orders", [b"a"])
    m = _member(broker)
    m.fetch(partitions=[("orders", 0)])
    m.acknowledge({("orders", 0): [(0, 0, [REJECT])]})
    assert broker.logs.get(DLQ).config(GROUP_ENABLE) is True
    assert len(_dead_letters(broker)) == 1


def test_restart_keeps_acknowledged_state_and_delivery_counts_and_frees_locks():
    broker = _broker()
    produce(broker, "orders", [b"%d" % i for i in range(6)])
    m = _member(broker)
    assert acquired(m.fetch(partitions=[("orders", 0)], max_records=6)) == [(0, 5, 1)]
    m.acknowledge({("orders", 0): [(0, 1, [ACCEPT]), (2, 2, [RELEASE]), (4, 4, [ACCEPT])]})
    restarted = _broker(broker.storage)  # nothing of the old broker's memory is used
    m2 = _member(restarted)
    got = acquired(m2.fetch(partitions=[("orders", 0)], max_records=10))
    assert got == [(2, 3, 2), (5, 5, 2)]  # 0, 1, 4 never again; 2 released once; 3 and 5 were acquired
    assert restarted.groups.groups["g"].group_type == "share"


def test_restart_resends_dead_letters_still_archiving():
    broker = _broker()
    produce(broker, "orders", [b"a"])
    m = _member(broker)
    m.fetch(partitions=[("orders", 0)])
    m.acknowledge({("orders", 0): [(0, 0, [REJECT])]})  # no DLQ topic yet: archived anyway
    sp = broker.shares.partitions["g", broker.logs.get("orders").topic_id, 0]
    assert sp.start == 1
    # a snapshot taken while a record was Archiving (the DLQ write not yet durable) comes back Archiving
    from gateway.share.partition import SharePartition, Limits
    pending = SharePartition(0)
    pending.acquire("m", [(0, 0)], max_records=1, now_ms=0, limits=Limits(dead_letter_topic=True))
    pending.acknowledge("m", [(0, 0, [REJECT])], now_ms=0, limits=Limits(dead_letter_topic=True))
    from partitions import keys
    broker.storage.state().put(keys.share_partition_key("g", broker.logs.get("orders").topic_id, 0),
                               pending.snapshot())
    broker.logs.create_topic(DLQ, 1, {GROUP_ENABLE: "true"})
    restarted = _broker(broker.storage)
    restarted.shares.flush()
    assert len(_dead_letters(restarted)) == 1
    assert restarted.shares.partitions["g", broker.logs.get("orders").topic_id, 0].start == 1


def test_dead_letters_too_big_for_one_batch_go_one_by_one():
    broker = _broker(**{"errors.deadletterqueue.copy.record.enable": "true"})
    broker.logs.create_topic(DLQ, 1, {GROUP_ENABLE: "true", "max.message.bytes": "3000"})
    produce(broker, "orders", [b"x" * 1000, b"y" * 1000, b"z" * 1000])
    m = _member(broker)
    m.fetch(partitions=[("orders", 0)])
    m.acknowledge({("orders", 0): [(0, 2, [REJECT])]})
    assert [r.value[:1] for _, r in _dead_letters(broker)] == [b"x", b"y", b"z"]

"""OffsetCommit (key 8) and OffsetFetch (9) through the handlers, in-process: every partition of a request
answered in request order with its own code, what is acknowledged stored (and read back after a restart
on RocksDB), and the stored record layout pinned to its bytes."""

import pytest

from gateway.groups.offsets import CommittedOffset, OffsetManager
from gateway.groups.store import MemoryGroupStore
from partitions.rocks import RocksStorage
from tests.gateway.inprocess import call, new_broker
from wire.errors import ErrorCode

OFFSET_COMMIT, OFFSET_FETCH, CREATE_TOPICS, CONSUMER_GROUP_HEARTBEAT = 8, 9, 19, 68
NONE = ErrorCode.NONE


def create(broker, name: str, partitions: int) -> bytes:
    answer = call(broker, CREATE_TOPICS, 7, {"topics": [{"name": name, "num_partitions": partitions,
                                                         "replication_factor": 1}], "timeout_ms": 1000})
    assert answer.topics[0].error_code == NONE
    return broker.logs.get(name).topic_id


def commit(broker, version: int, topics: list[dict], group_id: str = "g", epoch: int = -1, member_id: str = ""):
    body = {"group_id": group_id, "generation_id_or_member_epoch": epoch, "member_id": member_id, "topics": topics}
    return call(broker, OFFSET_COMMIT, version, body)


def codes(answer) -> list[tuple[str, int, int]]:
    return [(t.name, p.partition_index, p.error_code) for t in answer.topics for p in t.partitions]


def fetched(broker, topic: str, partitions: list[int], group_id: str = "g", version: int = 7) -> dict:
    answer = call(broker, OFFSET_FETCH, version, {"group_id": group_id, "topics": [
        {"name": topic, "partition_indexes": partitions}]})
    return {p.partition_index: (p.committed_offset, p.committed_leader_epoch, p.metadata, p.error_code)
            for t in answer.topics for p in t.partitions}


def part(index: int, offset: int, metadata: str | None = "", epoch: int = -1) -> dict:
    return {"partition_index": index, "committed_offset": offset, "committed_leader_epoch": epoch,
            "committed_metadata": metadata}


@pytest.mark.parametrize("version", [2, 5, 8, 9])
def test_every_partition_is_answered_in_request_order_with_its_own_code(version):
    broker = new_broker()
    create(broker, "t", 3)
    answer = commit(broker, version, [
        {"name": "t", "partitions": [part(2, 20), part(7, 70), part(-1, 1), part(0, 10, "x" * 5000), part(1, 11)]},
        {"name": "missing", "partitions": [part(0, 1)]},
        {"name": "t", "partitions": [part(0, 12, "m")]},
    ])
    assert codes(answer) == [
        ("t", 2, NONE), ("t", 7, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION), ("t", -1, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
        ("t", 0, ErrorCode.OFFSET_METADATA_TOO_LARGE), ("t", 1, NONE),
        ("missing", 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
        ("t", 0, NONE),
    ]
    got = fetched(broker, "t", [0, 1, 2])
    assert {i: v[0] for i, v in got.items()} == {0: 12, 1: 11, 2: 20}
    assert got[0][2] == "m"


def test_a_partition_named_twice_answers_twice_and_the_last_one_is_kept():
    broker = new_broker()
    create(broker, "t", 1)
    answer = commit(broker, 9, [{"name": "t", "partitions": [part(0, 5, "first"), part(0, 6, "second")]}])
    assert codes(answer) == [("t", 0, NONE), ("t", 0, NONE)]
    assert fetched(broker, "t", [0])[0][:3] == (6, -1, "second")


def test_leader_epoch_metadata_and_long_metadata_come_back():
    broker = new_broker()
    create(broker, "t", 3)
    long = "ü" * 300  # 600 bytes: kept only in the store, read back on fetch
    commit(broker, 9, [{"name": "t", "partitions": [part(0, 1, "short", epoch=4), part(1, 2, long, epoch=5),
                                                     part(2, 3, None)]}])
    assert fetched(broker, "t", [0, 1, 2]) == {0: (1, 4, "short", NONE), 1: (2, 5, long, NONE), 2: (3, -1, "", NONE)}
    commit(broker, 9, [{"name": "t", "partitions": [part(1, 9, "now short")]}])  # the stored long metadata goes
    assert fetched(broker, "t", [1])[1] == (9, -1, "now short", NONE)
    assert broker.groups.offsets.get("g", "t", 1).metadata == "now short"


def test_v10_names_topics_by_id_and_an_unknown_id_is_unknown_topic_id():
    broker = new_broker()
    topic_id = create(broker, "t", 2)
    unknown = bytes(range(16))
    answer = commit(broker, 10, [{"topic_id": unknown, "partitions": [part(0, 1)]},
                                 {"topic_id": topic_id, "partitions": [part(1, 8), part(5, 1)]}])
    assert [(t.topic_id, [(p.partition_index, p.error_code) for p in t.partitions]) for t in answer.topics] == [
        (unknown, [(0, ErrorCode.UNKNOWN_TOPIC_ID)]),
        (topic_id, [(1, NONE), (5, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)])]
    assert fetched(broker, "t", [1])[1][0] == 8


def test_a_classic_generation_check_refuses_every_known_partition_and_stores_nothing():
    broker = new_broker()
    create(broker, "t", 2)
    answer = commit(broker, 8, [{"name": "t", "partitions": [part(0, 1), part(9, 1)]}], epoch=3, member_id="ghost")
    assert codes(answer) == [("t", 0, ErrorCode.ILLEGAL_GENERATION), ("t", 9, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)]
    assert fetched(broker, "t", [0])[0][0] == -1


def test_a_consumer_groups_stale_member_epoch_refuses_the_commit():
    broker = new_broker()
    create(broker, "t", 2)
    joined = call(broker, CONSUMER_GROUP_HEARTBEAT, 0, {
        "group_id": "g", "member_id": "m", "member_epoch": 0, "rebalance_timeout_ms": 30000,
        "subscribed_topic_names": ["t"], "topic_partitions": []})
    assert joined.error_code == NONE and joined.member_epoch >= 1
    stale = commit(broker, 9, [{"name": "t", "partitions": [part(0, 1), part(4, 1)]}],
                   epoch=joined.member_epoch + 1, member_id="m")
    assert codes(stale) == [("t", 0, ErrorCode.STALE_MEMBER_EPOCH), ("t", 4, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)]
    assert fetched(broker, "t", [0])[0][0] == -1
    current = commit(broker, 9, [{"name": "t", "partitions": [part(0, 7)]}], epoch=joined.member_epoch, member_id="m")
    assert codes(current) == [("t", 0, NONE)]
    assert fetched(broker, "t", [0])[0][0] == 7


def test_commits_are_read_back_after_a_restart_on_rocksdb(tmp_path):
    storage = RocksStorage(str(tmp_path / "db"))
    broker = new_broker(storage, memory=False, data_dir=str(tmp_path))
    create(broker, "t", 100)
    for offset in range(1, 4):
        answer = commit(broker, 9, [{"name": "t", "partitions": [part(p, offset * 1000 + p, "", 2) for p in range(100)]}])
        assert {c for _, _, c in codes(answer)} == {NONE}
    commit(broker, 2, [{"name": "t", "partitions": [part(0, 5, "long " * 40)]}], group_id="retained")
    storage.close()  # (kill -9 with acknowledged offsets: tests/gateway/test_lifecycle.py)
    reopened = RocksStorage(str(tmp_path / "db"))
    restarted = new_broker(reopened, memory=False, data_dir=str(tmp_path))
    got = fetched(restarted, "t", list(range(100)))
    assert got == {p: (3000 + p, 2, "", NONE) for p in range(100)}
    assert fetched(restarted, "t", [0], group_id="retained")[0][:3] == (5, -1, "long " * 40)
    reopened.close()


def test_the_stored_record_layout_is_unchanged():
    """Offsets stored by earlier versions of the broker are read as they were written, and new commits
    write the same bytes (the layout is gateway.groups.offsets' docstring)."""
    store = MemoryGroupStore()
    OffsetManager(store).commit_topics("g", [("t", [(3, 42, 7, "meta"), (4, 43, -1, "")])], 1000, -1)
    key = b"O\x00\x01g\x00\x01t"
    value = b"\x00" + (42).to_bytes(8, "big") + (7).to_bytes(4, "big") + (1000).to_bytes(8, "big") + b"\xff" * 8
    assert list(store.scan(b"O")) == [
        (key + b"\x00\x00\x00\x03", value + b"meta"),
        (key + b"\x00\x00\x00\x04", b"\x00" + (43).to_bytes(8, "big") + b"\xff" * 4 + (1000).to_bytes(8, "big")
         + b"\xff" * 8),
    ]
    old = MemoryGroupStore()  # a version 1 record (metadata under the M key), written by hand
    old.put(key + b"\x00\x00\x00\x09", b"\x01" + value[1:])
    old.put(b"M\x00\x01g\x00\x01t\x00\x00\x00\x09", "x".encode() * 100)
    assert OffsetManager(old).get("g", "t", 9) == CommittedOffset(42, 7, "x" * 100, 1000, -1)


def test_answers_past_the_encoded_entry_bound_are_the_same(monkeypatch):
    from gateway.handlers import group_offsets

    broker = new_broker()
    create(broker, "t", 4)
    topics = [{"name": "t", "partitions": [part(i, 1) for i in (3, 0, 9)]}]
    cached = codes(commit(broker, 9, topics))
    monkeypatch.setattr(group_offsets, "_ENCODED_ANSWERS", {})
    monkeypatch.setattr(group_offsets, "ANSWER_CACHE_ENTRIES", 0)
    assert codes(commit(broker, 9, topics)) == cached == [
        ("t", 3, NONE), ("t", 0, NONE), ("t", 9, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)]
    assert group_offsets._ENCODED_ANSWERS == {}

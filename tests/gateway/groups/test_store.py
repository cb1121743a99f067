"""GroupStore implementations (in memory, the storage engine's state keys) and the offset records in them."""

from gateway.groups import GroupCoordinator
from gateway.groups.offsets import CommittedOffset, OffsetManager
from gateway.groups.store import MemoryGroupStore
from partitions.rocks import RocksStorage


def test_scan_returns_a_prefix_in_key_order():
    store = MemoryGroupStore()
    for key in (b"b2", b"a", b"b10", b"b1", b"c"):
        store.put(key, key.upper())
    assert list(store.scan(b"b")) == [(b"b1", b"B1"), (b"b10", b"B10"), (b"b2", b"B2")]
    assert [k for k, _ in store.scan(b"")] == [b"a", b"b1", b"b10", b"b2", b"c"]


def test_put_replaces_and_delete_removes():
    store = MemoryGroupStore()
    store.put(b"k", b"1")
    store.put(b"k", b"2")
    store.delete(b"k")
    store.delete(b"never")
    assert list(store.scan(b"")) == [] and len(store) == 0


def test_a_scan_is_a_snapshot_that_tolerates_writes_while_iterating():
    store = MemoryGroupStore()
    for key in (b"a", b"b", b"c"):
        store.put(key, b"")
    seen = []
    for key, _ in store.scan(b""):
        store.delete(key)
        seen.append(key)
    assert seen == [b"a", b"b", b"c"] and len(store) == 0


def test_offset_records_round_trip_through_the_store():
    store = MemoryGroupStore()
    offsets = OffsetManager(store)
    records = {
        ("grüppe", "tøpic", 0): CommittedOffset(5, 3, "méta", 1_700_000_000_000, -1),
        ("grüppe", "tøpic", 4_000_000_000 // 2): CommittedOffset(2**62, -1, "", 1, 99),
        ("g", "t", 7): CommittedOffset(0),
    }
    for (group, topic, partition), offset in records.items():
        offsets.commit(group, topic, partition, offset)
    reloaded = OffsetManager(store)
    assert {(g, t, p): reloaded.get(g, t, p) for g, t, p in records} == records
    assert sorted(reloaded.group_ids()) == ["g", "grüppe"]


def test_one_groups_records_never_mix_with_another_whose_id_is_a_prefix():
    store = MemoryGroupStore()
    offsets = OffsetManager(store)
    offsets.commit("g", "t", 0, CommittedOffset(1))
    offsets.commit("g2", "t", 0, CommittedOffset(2))
    offsets.delete_group("g")
    reloaded = OffsetManager(store)
    assert reloaded.group_ids() == ["g2"] and reloaded.get("g2", "t", 0).committed_offset == 2


def test_the_storage_engines_state_keys_serve_as_a_group_store(tmp_path):
    storage = RocksStorage(str(tmp_path / "rocksdb"))
    coordinator = GroupCoordinator(store=storage.state())
    topics = [{"name": "t", "partitions": [{"partition_index": 1, "committed_offset": 42, "committed_metadata": "m"}]}]
    coordinator.offset_commit(group_id="g", topics=topics, now_ms=5)
    storage.close()
    reopened = RocksStorage(str(tmp_path / "rocksdb"))
    restarted = GroupCoordinator(store=reopened.state())
    assert restarted.offsets.get("g", "t", 1) == CommittedOffset(42, -1, "m", 5)
    reopened.close()

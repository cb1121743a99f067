"""Coordinator state keys (committed offsets live here): put, delete, prefix scans, and reopen."""

from partitions.memory import MemoryStorage
from partitions.rocks import RocksStorage


def _engines(tmp_path):
    memory = MemoryStorage()
    yield "memory", lambda: memory
    path = str(tmp_path / "rocksdb")
    yield "rocks", lambda: RocksStorage(path)


def test_state_put_scan_delete_and_reopen(tmp_path):
    for kind, open_storage in _engines(tmp_path):
        storage = open_storage()
        view = storage.state()
        view.put(b"o/g1/t/0", b"a")
        view.put(b"o/g1/t/1", b"b")
        view.put(b"o/g2/t/0", b"c")
        view.put_many([(b"o/g1\xff", b"d"), (b"o/g3/t/0", b"e")])
        view.delete(b"o/g3/t/0")
        assert list(view.scan(b"o/g1/")) == [(b"o/g1/t/0", b"a"), (b"o/g1/t/1", b"b")], kind
        view.delete(b"o/g1/t/0")
        view.delete(b"never-there")
        storage.close()
        reopened = open_storage().state()
        assert list(reopened.scan(b"o/")) == [(b"o/g1/t/1", b"b"), (b"o/g1\xff", b"d"), (b"o/g2/t/0", b"c")], kind
        assert list(reopened.scan(b"")) == list(reopened.scan(b"o")), kind

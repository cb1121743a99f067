"""Ottla's journal (partitions/journal.py) under RocksStorage: a crash at every op boundary and inside a
record, with the database flushed to any point at or before it, reopens to exactly the state the
acknowledged ops made; deletes and range deletes are not undone by replay; a data dir written with
RocksDB's own WAL (before the journal) keeps its data.

A crash is simulated in-process: the journal files as they were after op k (read while the storage was
open, so the flush worker's rotations and removals are in them) are put beside a database that holds
ops 0..j (j anywhere from the first op still journalled to k: what a flush may or may not have
persisted when the process died), and RocksStorage opens that.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from partitions import journal
from partitions.rocks import RocksStorage
from partitions.storage import BatchEntry, SegmentRecord, StorageError, TopicRecord

REPO = Path(__file__).resolve().parents[2]
TOPIC = TopicRecord("t", bytes(range(16)), 2, {"retention.ms": "1000"})
OTHER = TopicRecord("u", bytes(range(1, 17)), 1, {})
T0 = 1_700_000_000_000


def _append(topic, partition, base, value):
    return lambda s: s.append(topic.topic_id, partition, [(BatchEntry(base, 0, T0 + base, len(value)), value)],
                              {7: b"producer-%d" % base}, segments=[SegmentRecord(0, base + 1, 1, 1, T0, T0, T0)])


OPS = [  # each is one storage write: one journal record
    lambda s: s.save_topic(TOPIC),
    lambda s: s.save_topic(OTHER),
    _append(TOPIC, 0, 0, b"a" * 300),
    _append(TOPIC, 1, 0, b"b" * 50),
    lambda s: s.put_state(b"group/g1", b"offsets-1"),
    _append(TOPIC, 0, 1, os.urandom(200)),
    _append(OTHER, 0, 0, b"c" * 120),
    lambda s: s.put_states([(b"group/g1", b"offsets-2"), (b"group/g2", b"x")]),
    lambda s: s.delete_state(b"group/g2"),  # a delete after a put
    lambda s: s.rewrite(TOPIC.topic_id, 0, delete=[(0, 1)], log_start_offset=1, first_dirty_offset=1),
    lambda s: s.next_producer_id(),
    lambda s: s.delete_topic(OTHER),  # a range delete after puts
    _append(TOPIC, 0, 2, b"d" * 80),
    lambda s: s.save_topic(TOPIC._replace(num_partitions=3)),
]
LIMIT = 600  # bytes a journal file takes before it rotates: several rotations over OPS


def _dump(storage: RocksStorage) -> list[tuple[bytes, bytes]]:
    return list(storage._db.items())


def _files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def _run(path: Path, flush_works: bool):
    """Run OPS on a fresh storage: the state and the journal files after each op (index k: after k ops)."""
    storage = RocksStorage(str(path), journal_limit=LIMIT)
    if not flush_works:  # every flush dies before it persists anything: no file is ever removed
        storage._journal._flush_db = lambda: (_ for _ in ()).throw(OSError("flush killed"))
    states, snapshots = [_dump(storage)], [_files(path / "journal")]
    for op in OPS:
        op(storage)
        storage._journal.wait()
        states.append(_dump(storage))
        snapshots.append(_files(path / "journal"))
    storage.close()
    return states, snapshots


@pytest.fixture(scope="module")
def prefixes(tmp_path_factory):
    """Databases holding the first j ops, flushed and closed (no journal left): index j."""
    root = tmp_path_factory.mktemp("prefixes")
    out = []
    for j in range(len(OPS) + 1):
        storage = RocksStorage(str(root / f"p{j}"))
        for op in OPS[:j]:
            op(storage)
        storage.close()
        assert not list((root / f"p{j}" / "journal").iterdir())  # close() removes the journal
        out.append(root / f"p{j}")
    return out


def _records(snapshot: dict[str, bytes]) -> int:
    total = 0
    for data in snapshot.values():
        pos = 0
        while pos + journal.HEADER.size <= len(data):
            length = journal.HEADER.unpack_from(data, pos)[0]
            if pos + journal.HEADER.size + length > len(data):
                break
            pos += journal.HEADER.size + length
            total += 1
    return total


def _reopen(tmp_path: Path, prefix: Path, snapshot: dict[str, bytes], name: str):
    path = tmp_path / name
    shutil.copytree(prefix, path)
    for file, data in snapshot.items():
        (path / "journal" / file).write_bytes(data)
    storage = RocksStorage(str(path), journal_limit=LIMIT)
    try:  # the replayed ops are in SSTs before the files go: a crash right after open loses nothing
        assert storage._db.property_int_value("rocksdb.num-entries-active-mem-table") == 0
        return _dump(storage), sorted(os.listdir(path / "journal"))
    finally:
        storage.close()


@pytest.mark.parametrize("flush_works", [True, False], ids=["flushes", "flush-killed"])
def test_a_crash_at_every_op_boundary_reopens_to_the_acknowledged_state(tmp_path, prefixes, flush_works):
    states, snapshots = _run(tmp_path / "run", flush_works)
    assert [len(s) for s in states[:3]] == [0, 1, 2] and states[9] != states[8] and states[12] != states[11]
    assert flush_works or len(snapshots[-1]) >= 3  # rotated, and no file removed
    for k, snapshot in enumerate(snapshots):
        journalled = _records(snapshot)
        first = k - journalled  # ops before it were removed from the journal: a flush persisted them
        assert first >= 0 and (flush_works or first == 0)
        for j in range(first, k + 1):
            state, left = _reopen(tmp_path, prefixes[j], snapshot, f"k{k}-j{j}")
            assert state == states[k], (k, j)
            assert len(left) == 1  # the replayed files were removed once flushed; one new, empty file
    assert not flush_works or any(_records(s) < k for k, s in enumerate(snapshots))  # files were trimmed


def test_a_record_torn_anywhere_is_cut_and_the_ones_before_it_kept(tmp_path, prefixes):
    states, snapshots = _run(tmp_path / "run", flush_works=False)
    for k in (1, 3, 6, 10, 12, 14):  # op k's record is the last one in snapshot k
        snapshot = dict(snapshots[k])
        last = next(name for name, data in snapshot.items() if len(data) > len(snapshots[k - 1].get(name, b"")))
        previous = snapshots[k - 1].get(last, b"")
        data = snapshot[last]
        assert data.startswith(previous) and len(data) > len(previous)
        cuts = sorted({len(previous) + n for n in (1, 4, 7, 8, 9, 15)} | {len(data) - 1, (len(previous) + len(data)) // 2})
        for cut in cuts:
            state, _ = _reopen(tmp_path, prefixes[k - 1], {**snapshot, last: data[:cut]}, f"k{k}-cut{cut}")
            assert state == states[k - 1], (k, cut)


def test_a_corrupt_record_stops_the_replay_there_and_later_files_are_not_applied(tmp_path, prefixes):
    states, snapshots = _run(tmp_path / "run", flush_works=False)
    snapshot = snapshots[-1]
    names = sorted(snapshot)
    assert len(names) >= 3
    data = bytearray(snapshot[names[1]])
    data[journal.HEADER.size + 2] ^= 0xFF  # the first record of the second file
    ops_before = _records({names[0]: snapshot[names[0]]})
    state, _ = _reopen(tmp_path, prefixes[0], {**snapshot, names[1]: bytes(data)}, "corrupt")
    assert state == states[ops_before]


def test_a_failed_journal_write_is_cut_back_and_stores_nothing(tmp_path, monkeypatch):
    path = tmp_path / "db"
    storage = RocksStorage(str(path))
    storage.put_state(b"a", b"1")
    file = next((path / "journal").iterdir())
    size = file.stat().st_size
    real = os.writev

    def short_then_full_disk(fd, parts):
        os.write(fd, bytes(parts[0])[:5])  # part of the header reaches the file, then the disk is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(journal.os, "writev", short_then_full_disk)
    with pytest.raises(StorageError):
        storage.put_state(b"b", b"2")
    assert file.stat().st_size == size and storage.scan_state(b"") == [(b"a", b"1")]
    monkeypatch.setattr(journal.os, "writev", real)
    storage.put_state(b"c", b"3")
    snapshot = _files(path / "journal")
    storage.close()
    fresh = tmp_path / "fresh"
    RocksStorage(str(fresh)).close()
    state, _ = _reopen(tmp_path, fresh, snapshot, "after")
    assert [(k[-1:], v) for k, v in state] == [(b"a", b"1"), (b"c", b"3")]


def test_rotation_flushes_in_the_worker_and_removes_the_files_before_it(tmp_path):
    path = tmp_path / "db"
    storage = RocksStorage(str(path), journal_limit=10_000)
    for i in range(40):
        storage.put_state(b"k%d" % i, bytes(1000))
        storage._journal.wait()
    stats = storage.journal_stats()
    assert stats["flushes"] >= 3 and stats["bytes"] > 40_000
    assert sum(f.stat().st_size for f in (path / "journal").iterdir()) < 12_000
    storage.close()
    assert list((path / "journal").iterdir()) == []


OLD_FORMAT_CHILD = textwrap.dedent("""
    import os, signal, sys
    from partitions import Logs
    from partitions.rocks import RocksStorage
    from wire.records import build_batch

    def write_with_rocksdb_wal(self, write):  # what RocksStorage did before the journal: RocksDB's WAL on
        self._db.write(write.batch)

    RocksStorage._write = write_with_rocksdb_wal
    logs = Logs(RocksStorage(sys.argv[1]))
    log = logs.create_topic("old", 1).partitions[0]
    for i in range(50):
        log.append(build_batch([(None, b"v%d" % i, [], 1000 + i)]), 0)
    logs.storage.put_state(b"gone", b"x")
    logs.storage.delete_state(b"gone")
    os.kill(os.getpid(), signal.SIGKILL)  # no close: everything is in RocksDB's WAL only
""")


def test_a_data_dir_written_with_rocksdbs_wal_reopens_with_its_data(tmp_path):
    from partitions import Logs
    from wire.records import build_batch, iter_batches, iter_records

    path = tmp_path / "rocksdb"
    done = subprocess.run([sys.executable, "-c", OLD_FORMAT_CHILD, str(path)], cwd=REPO, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == -signal.SIGKILL
    assert any(p.stat().st_size > 0 for p in path.glob("*.log"))  # the data is in RocksDB's WAL
    for _ in range(2):  # reopened, then reopened again after writing through the journal
        logs = Logs(RocksStorage(str(path)))
        log = logs.get("old").partitions[0]
        values = [r.value for _, b in iter_batches(log.read(0, 1 << 30)) for r in iter_records(b)]
        assert values[:50] == [b"v%d" % i for i in range(50)]
        assert logs.storage.scan_state(b"gone") == []
        log.append(build_batch([(None, b"new", [], 2000)]), 0)
        logs.close()
    assert values[50:] == [b"new"]

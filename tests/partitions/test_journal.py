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


def _run(path: Path, flush_works):
    """Run OPS on a fresh storage: the state and the journal files after each op (index k: after k ops).
    flush_works False: every flush dies before it persists anything (no file is ever removed); "later":
    the first two flushes work (a flushed file is reused), then they die (reused files stay)."""
    storage = RocksStorage(str(path), journal_limit=LIMIT)
    flushes = [0]

    def flush():
        flushes[0] += 1
        if not flush_works or (flush_works == "later" and flushes[0] > 2):
            raise OSError("flush killed")
        storage._db.flush()

    storage._journal._flush_db = flush
    states, snapshots = [_dump(storage)], [_files(path / "journal")]
    records = []  # each op's record as written: (file name, position, bytes)
    journal_ = storage._journal
    append = journal_.append

    def recording_append(ops):
        start = journal_.position
        append(ops)
        name = f"{journal_._number:08d}{journal.SUFFIX}"
        records.append((name, start, (path / "journal" / name).read_bytes()[start:journal_.position]))

    journal_.append = recording_append
    for op in OPS:
        op(storage)
        storage._journal.wait()
        states.append(_dump(storage))
        snapshots.append(_files(path / "journal"))
    storage.close()
    _run.records = records
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


def _records(snapshot: dict[str, bytes], scratch: Path) -> dict[str, int]:
    """Each journal file's intact records (as replay reads them), by name."""
    scratch.mkdir(exist_ok=True)
    counts = {}
    for name, data in snapshot.items():
        number = journal.file_number(name)
        if number is None:
            continue  # the spare
        (scratch / name).write_bytes(data)
        counts[name] = 0
        try:
            for _ in journal.read_records(str(scratch / name), number):
                counts[name] += 1
        except journal.BadRecord:
            pass
        (scratch / name).unlink()
    return counts


def _end(data: bytes, records: int) -> int:
    """Where the first `records` records of a file end."""
    pos = 0
    for _ in range(records):
        pos += journal.HEADER.size + journal.HEADER.unpack_from(data, pos)[0]
    return pos


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


@pytest.mark.parametrize("flush_works", [True, False, "later"], ids=["flushes", "flush-killed", "flush-killed-later"])
def test_a_crash_at_every_op_boundary_reopens_to_the_acknowledged_state(tmp_path, prefixes, flush_works):
    states, snapshots = _run(tmp_path / "run", flush_works)
    assert [len(s) for s in states[:3]] == [0, 1, 2] and states[9] != states[8] and states[12] != states[11]
    assert flush_works is True or len(snapshots[-1]) >= 3  # rotated, and files kept
    reused = 0
    for k, snapshot in enumerate(snapshots):
        counts = _records(snapshot, tmp_path / "scratch")
        first = k - sum(counts.values())  # ops before it were removed from the journal: a flush persisted them
        assert first >= 0 and (flush_works or first == 0)
        if flush_works == "later" and k == len(OPS):  # a reused file among the kept ones, cut to its records
            assert len(counts) >= 2
        newest = max(counts, default=None)
        reused += newest is not None and len(snapshot[newest]) > _end(snapshot[newest], counts[newest])
        for j in range(first, k + 1):
            state, left = _reopen(tmp_path, prefixes[j], snapshot, f"k{k}-j{j}")
            assert state == states[k], (k, j)
            assert len(left) == 1  # the replayed files were removed once flushed; one new, empty file
    if flush_works:  # files were trimmed, and a spare was written over: its old records after the new ones
        assert any(sum(_records(s, tmp_path / "scratch").values()) < k for k, s in enumerate(snapshots))
        assert reused > 0


@pytest.mark.parametrize("flush_works", [True, False], ids=["flushes", "flush-killed"])
def test_a_record_torn_anywhere_is_cut_and_the_ones_before_it_kept(tmp_path, prefixes, flush_works):
    """The process dies while writing op k's record: the file holds a prefix of it over what was there."""
    states, snapshots = _run(tmp_path / "run", flush_works)
    for k in range(1, len(OPS) + 1):
        before = snapshots[k - 1]
        name, start, record = _run.records[k - 1]
        end = start + len(record)
        assert _end(before[name], _records({name: before[name]}, tmp_path / "scratch")[name]) == start
        first = (k - 1) - sum(_records(before, tmp_path / "scratch").values())
        for cut in sorted({start + n for n in (1, 4, 11, 12, 13, 20)} | {end - 1, (start + end) // 2}):
            old = before[name]
            torn = old[:start] + record[: cut - start] + old[cut:]
            for j in {first, k - 1}:
                state, _ = _reopen(tmp_path, prefixes[j], {**before, name: torn}, f"k{k}-cut{cut}-j{j}")
                assert state == states[k - 1], (k, cut, j)


def test_a_corrupt_record_stops_the_replay_there_and_later_files_are_not_applied(tmp_path, prefixes):
    states, snapshots = _run(tmp_path / "run", flush_works=False)
    snapshot = snapshots[-1]
    names = sorted(snapshot)
    assert len(names) >= 3
    data = bytearray(snapshot[names[1]])
    data[journal.HEADER.size + 2] ^= 0xFF  # the first record of the second file
    ops_before = _records({names[0]: snapshot[names[0]]}, tmp_path / "scratch")[names[0]]
    state, _ = _reopen(tmp_path, prefixes[0], {**snapshot, names[1]: bytes(data)}, "corrupt")
    assert state == states[ops_before]


def test_a_failed_journal_write_stores_nothing_and_is_not_replayed(tmp_path, monkeypatch):
    path = tmp_path / "db"
    storage = RocksStorage(str(path))
    storage.put_state(b"a", b"1")
    real = os.pwritev

    def short_then_full_disk(fd, parts, offset):
        os.pwrite(fd, bytes(parts[0])[:5], offset)  # part of the header reaches the file, then the disk is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(journal.os, "pwritev", short_then_full_disk)
    with pytest.raises(StorageError):
        storage.put_state(b"b", b"2")
    assert storage.scan_state(b"") == [(b"a", b"1")]
    crashed_here = _files(path / "journal")
    monkeypatch.setattr(journal.os, "pwritev", real)
    storage.put_state(b"c", b"3")
    snapshot = _files(path / "journal")
    storage.close()
    fresh = tmp_path / "fresh"
    RocksStorage(str(fresh)).close()
    for name, files, expected in (("crashed", crashed_here, [(b"a", b"1")]),
                                  ("after", snapshot, [(b"a", b"1"), (b"c", b"3")])):
        state, _ = _reopen(tmp_path, fresh, files, name)
        assert [(k[-1:], v) for k, v in state] == expected


def test_rocksdb_refusing_a_write_leaves_no_record_to_replay(tmp_path, monkeypatch):
    path = tmp_path / "db"
    storage = RocksStorage(str(path))
    storage.put_state(b"a", b"1")

    class Refusing:
        def __init__(self, db):
            self.db = db

        def write(self, *args):
            raise Exception("IO error: No space left on device")

    real = storage._db
    storage._db = Refusing(real)
    with pytest.raises(StorageError):
        storage.put_state(b"b", b"2")
    storage._db = real
    snapshot = _files(path / "journal")
    storage.close()
    fresh = tmp_path / "fresh"
    RocksStorage(str(fresh)).close()
    state, _ = _reopen(tmp_path, fresh, snapshot, "refused")
    assert [(k[-1:], v) for k, v in state] == [(b"a", b"1")]


def test_rotation_flushes_in_the_worker_and_reuses_a_flushed_file(tmp_path):
    path = tmp_path / "db"
    storage = RocksStorage(str(path), journal_limit=10_000)
    for i in range(40):
        storage.put_state(b"k%d" % i, bytes(1000))
        storage._journal.wait()
    stats = storage.journal_stats()
    assert stats["flushes"] >= 3 and stats["bytes"] > 40_000
    names = sorted(os.listdir(path / "journal"))
    assert len(names) == 2 and names[1] == journal.SPARE and names[0].endswith(journal.SUFFIX)
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


SPARE_CHILD = textwrap.dedent("""
    import os, signal, sys
    from partitions.rocks import RocksStorage

    storage = RocksStorage(sys.argv[1], journal_limit=2000)
    if sys.argv[2] == "write":
        for i in range(30):  # file 1 fills, rotates, is flushed and becomes the spare
            storage.put_state(b"k%d" % (i % 5), b"old-%d" % i + bytes(100))
            storage._journal.wait()
            if storage.journal_stats()["flushes"]:
                break
        storage.put_state(b"k0", b"new")  # in file 2
        storage.delete_state(b"k1")
    os.kill(os.getpid(), signal.SIGKILL)
""")


def test_a_spare_left_by_a_crash_is_never_replayed_when_the_file_numbers_start_again(tmp_path):
    """Killed with a spare (once file 1) beside file 2; reopened (numbers start again at 1) and killed at
    once; reopened: file 1's old records must not come back over file 2's."""
    path = tmp_path / "db"
    for step in ("write", "open"):
        done = subprocess.run([sys.executable, "-c", SPARE_CHILD, str(path), step], cwd=REPO, timeout=60,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
        assert done.returncode == -signal.SIGKILL
        if step == "write":
            assert journal.SPARE in os.listdir(path / "journal")
    storage = RocksStorage(str(path))
    try:
        state = dict(storage.scan_state(b"k"))
    finally:
        storage.close()
    assert state[b"k0"] == b"new" and b"k1" not in state


def test_a_first_format_journal_file_is_replayed(tmp_path):
    """`<n>.journal`: the journal's first format (no file number in the header), briefly on main."""
    from partitions import keys
    from wire.crc import crc32c

    fresh = tmp_path / "fresh"
    RocksStorage(str(fresh)).close()
    key = keys.state_key(b"g")
    payload = journal.COUNT.pack(1) + journal.OP.pack(journal.PUT, len(key), 2) + key + b"v1"
    record = journal.HEADER_V1.pack(len(payload), crc32c(payload)) + payload
    state, _ = _reopen(tmp_path, fresh, {"00000001.journal": record + record[:5]}, "v1")
    assert state == [(key, b"v1")]


def test_reclaim_trims_the_journal_so_removed_records_free_their_disk_space(tmp_path):
    path = tmp_path / "db"
    storage = RocksStorage(str(path), journal_limit=LIMIT)
    for op in OPS:
        op(storage)
        storage._journal.wait()
    assert journal.SPARE in os.listdir(path / "journal")
    storage.rewrite(TOPIC.topic_id, 0, delete=[(0, 3)], log_start_offset=3, first_dirty_offset=3)
    expected = _dump(storage)
    snapshot_before = _files(path / "journal")
    storage.reclaim(TOPIC.topic_id, 0, 0, 3)  # retention's worker-thread call
    (name,) = os.listdir(path / "journal")  # the spare and every file before the new one are gone
    assert (path / "journal" / name).stat().st_size == 0 and name not in snapshot_before
    storage.put_state(b"after", b"1")
    expected_after = _dump(storage)
    crashed = _files(path / "journal")
    storage.close()
    fresh = tmp_path / "fresh"
    RocksStorage(str(fresh)).close()
    state, _ = _reopen(tmp_path, fresh, {}, "empty")
    assert state == []
    # a crash after the trim: the database (flushed by it) and the new file give the state back
    shutil.rmtree(path / "journal")
    (path / "journal").mkdir()
    state, _ = _reopen(tmp_path, path, crashed, "crashed")
    assert state == expected_after and expected != expected_after

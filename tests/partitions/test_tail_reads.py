"""A consumer at the tail reads the log's last append: PartitionLog knows its bytes exactly (the active segment's
size before it), so the RocksDB engine reads it with one point lookup and no index, even once the active segment
is larger than the read's max_bytes. Any other offset is read as before; a stale bound never changes an answer."""

from __future__ import annotations

import time

from partitions import Logs
from partitions.rocks import RocksStorage
from tests.partitions.test_read_bounds import _CountingDb
from wire.records import build_batch

VALUE = b"v" * 1000


def _batch(records: int = 3) -> bytes:
    now = int(time.time() * 1000)  # recent: retention must not touch them
    return build_batch([(None, VALUE, [], now + i) for i in range(records)])


def _log(tmp_path):
    storage = RocksStorage(str(tmp_path / "rocksdb"))
    logs = Logs(storage)
    log = logs.create_topic("tail", 1).partitions[0]
    bases = [log.append(_batch(), int(time.time() * 1000)).base_offset for _ in range(400)]  # ~1.2 MB: > 1 MiB
    return logs, storage, log, bases


def _counted(storage, log):
    counting = _CountingDb(storage._db)
    storage._db = counting
    planned = []
    real_fitting = storage._fitting
    storage._fitting = lambda *args: planned.append(args) or real_fitting(*args)
    return counting, planned


def test_the_last_append_is_read_without_the_index(tmp_path):
    logs, storage, log, bases = _log(tmp_path)
    try:
        assert log._stored_from(bases[-1], 1 << 20) == len(log.read(bases[-1], 1 << 20))
        counting, planned = _counted(storage, log)
        expected = log.read(bases[-1], 1 << 20, first_whole=False)
        assert expected and planned == [] and counting.counts["values"] == 1
        # an older offset: the active segment passes max_bytes, so the index decides, as before
        older = log.read(bases[-3], 1 << 20, joined=True)
        assert len(planned) == 1 and older.endswith(expected) and len(older) == 3 * len(expected)
        # a read that may not take the batch (first_whole=False, too small a limit) copies nothing
        counting.counts.update(values=0, bytes=0)
        assert log.read(bases[-1], 100, first_whole=False) == b"" and counting.counts["values"] == 0
        storage._db = counting._db
    finally:
        logs.close()


def test_an_append_of_several_batches_is_read_whole_from_its_first(tmp_path):
    logs, storage, log, bases = _log(tmp_path)
    try:
        one, two = _batch(2), _batch(4)
        first = log.append(one + two, int(time.time() * 1000)).base_offset
        counting, planned = _counted(storage, log)
        got = log.read(first, 1 << 20, joined=True)
        assert planned == [] and counting.counts["values"] == 2 and len(got) == len(one) + len(two)
        # the append's second batch is not its first: the index decides, and it is read alone
        assert log.read(first + 2, 1 << 20, joined=True) == got[len(one):] and len(planned) == 1
        storage._db = counting._db
        whole = log.read(bases[0], 10 << 20, joined=True)
        assert whole.endswith(got)
    finally:
        logs.close()


def test_a_stale_bound_never_changes_the_answer(tmp_path):
    logs, storage, log, bases = _log(tmp_path)
    try:
        truth = log.read(bases[-1], 1 << 20, joined=True)
        log._tail = (log._tail[0], log._tail[1], log._tail[2] + len(truth) - 1)  # 1 byte left: a wrong bound
        assert log._stored_from(bases[-1], 1 << 20) == 1
        assert log.read(bases[-1], 1 << 20, joined=True) == truth
        assert log.read(bases[-1], 1 << 20, joined=True, first_whole=False) == truth
    finally:
        logs.close()

"""Storage.read_from on both engines: KIP-74's limits with gaps and with first_whole=False, and the RocksDB
engine's size-before-read bound (a batch that does not fit is sized from its index entry, never copied)."""

from __future__ import annotations

import os
import struct

from hypothesis import HealthCheck, given, settings, strategies as st

from partitions import keys
from partitions.rocks import RocksStorage
from partitions.storage import BatchEntry
from wire.records import build_batch


def _stored(base: int, records: int, value_size: int) -> tuple[BatchEntry, bytes]:
    data = bytearray(build_batch([(None, b"v" * value_size, [], 1000 + i) for i in range(records)]))
    struct.pack_into(">q", data, 0, base)
    return BatchEntry(base, records - 1, 1000 + records - 1, len(data)), bytes(data)


def _store(storage, topic_id: bytes, layout) -> list[tuple[BatchEntry, bytes]]:
    """layout: (gap before, records, value size) per batch; returns the stored (entry, bytes) in order."""
    stored, next_offset = [], 0
    for gap, records, value_size in layout:
        one = _stored(next_offset + gap, records, value_size)
        stored.append(one)
        next_offset = one[0].base_offset + records
    storage.append(topic_id, 0, stored, {})
    return stored


def _expected(stored, offset: int, upper: int, max_bytes: int, first_whole: bool) -> list[bytes]:
    """The model: from the batch holding offset (or, in a gap or before the log, the next one), none
    starting at or past upper, within max_bytes except (first_whole) the first."""
    out, total = [], 0
    for entry, data in stored:
        if entry.base_offset + entry.last_offset_delta < offset:
            continue
        if entry.base_offset >= upper or ((out or not first_whole) and total + len(data) > max_bytes):
            break
        out.append(data)
        total += len(data)
    return out


_ids = (os.urandom(16) for _ in iter(int, 1))
_KIND_AT = 1 + 16 + 4  # a partition key's kind byte (keys.py)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=st.lists(st.tuples(st.integers(0, 3), st.integers(1, 4), st.integers(0, 300)), min_size=1, max_size=8),
       queries=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 45), st.integers(0, 3000), st.booleans(),
                                  st.none() | st.integers(0, 3000)), min_size=1, max_size=8))
def test_read_from_agrees_with_the_model_on_both_engines(logs, layout, queries):
    """at_most is drawn freely: a bound that is wrong may cost a copy, never a different answer."""
    storage = logs.storage  # (one engine for every example; each example has its own topic id)
    topic_id = next(_ids)
    stored = _store(storage, topic_id, layout)
    for offset, upper, max_bytes, first_whole, at_most in queries:
        got = storage.read_from(topic_id, 0, offset, upper, max_bytes, first_whole, at_most)
        assert got == _expected(stored, offset, upper, max_bytes, first_whole), (offset, upper, max_bytes, first_whole)


class _CountingIterator:
    def __init__(self, it, counts: dict) -> None:
        self._it, self._counts = it, counts

    def value(self):
        value = self._it.value()
        if self._it.key()[_KIND_AT:_KIND_AT + 1] == keys.BATCH:  # (index entries are not counted)
            self._counts["values"] += 1
            self._counts["bytes"] += len(value)
        return value

    def __getattr__(self, name):
        return getattr(self._it, name)


class _CountingDb:
    """The RocksDB handle, counting the batch values read through iterators (what read_from copies)."""

    def __init__(self, db) -> None:
        self._db = db
        self.counts = {"values": 0, "bytes": 0}

    def iter(self, *args, **kwargs):
        return _CountingIterator(self._db.iter(*args, **kwargs), self.counts)

    def get(self, key, *args, **kwargs):
        value = self._db.get(key, *args, **kwargs)
        if key[_KIND_AT:_KIND_AT + 1] == keys.BATCH and value is not None:
            self.counts["values"] += 1
            self.counts["bytes"] += len(value)
        return value

    def __getattr__(self, name):
        return getattr(self._db, name)


def _counting_rocks(tmp_path, layout):
    storage = RocksStorage(str(tmp_path / "rocksdb"))
    topic_id = os.urandom(16)
    stored = _store(storage, topic_id, layout)
    counting = _CountingDb(storage._db)
    storage._db = counting
    return storage, topic_id, stored, counting


def test_a_small_max_bytes_reads_only_the_values_it_returns(tmp_path):
    # one small batch, then two of ~100 KB: a 1 KB limit returns the first and never copies the next
    storage, topic_id, stored, counting = _counting_rocks(tmp_path, [(0, 2, 100), (0, 100, 1000), (0, 100, 1000)])
    try:
        got = storage.read_from(topic_id, 0, 0, 1000, 1000)
        assert got == [stored[0][1]]
        assert counting.counts == {"values": 1, "bytes": len(stored[0][1])}
        # a big first batch is still whole (KIP-74), and only it is read
        counting.counts.update(values=0, bytes=0)
        assert storage.read_from(topic_id, 0, stored[1][0].base_offset, 1000, 1000) == [stored[1][1]]
        assert counting.counts == {"values": 1, "bytes": len(stored[1][1])}
    finally:
        storage._db = counting._db
        storage.close()


def test_a_first_batch_that_must_fit_and_does_not_is_never_read(tmp_path):
    storage, topic_id, stored, counting = _counting_rocks(tmp_path, [(0, 100, 1000), (0, 100, 1000)])
    try:
        for offset in (0, 50):  # at the batch's base offset, and inside it
            assert storage.read_from(topic_id, 0, offset, 1000, 1000, first_whole=False) == []
        assert counting.counts["values"] == 0
        enough = len(stored[0][1])
        assert storage.read_from(topic_id, 0, 50, 1000, enough, first_whole=False) == [stored[0][1]]
        assert counting.counts == {"values": 1, "bytes": enough}
    finally:
        storage._db = counting._db
        storage.close()


def test_a_partition_whose_batches_all_fit_is_read_without_the_index(tmp_path):
    # the usual consumer read: from a batch's base offset, everything to the high watermark fits (the log
    # knows from its segment sizes and says so with at_most)
    storage, topic_id, stored, counting = _counting_rocks(tmp_path, [(0, 5, 200)] * 4)
    planned = []
    real_fitting = storage._fitting
    storage._fitting = lambda *args: planned.append(args) or real_fitting(*args)
    total = sum(len(data) for _, data in stored)
    try:
        assert storage.read_from(topic_id, 0, 0, 20, 1 << 20, at_most=total) == [data for _, data in stored]
        assert planned == [] and counting.counts == {"values": 4, "bytes": total}
        # without the bound the index decides, and the same batches are read once each
        assert storage.read_from(topic_id, 0, 0, 20, 1 << 20) == [data for _, data in stored]
        assert len(planned) == 1 and counting.counts == {"values": 8, "bytes": 2 * total}
    finally:
        storage._db = counting._db
        storage.close()

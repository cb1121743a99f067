"""RocksStorage remembers a partition's refused first batch (a Fetch's later partitions, past the response's
budget): asked again from the same offset with no more room it answers without an iterator; more room, another
offset, a rewrite (compaction, retention) or the topic's deletion read again."""

from __future__ import annotations

import os
import struct

from partitions.rocks import RocksStorage
from partitions.storage import BatchEntry, TopicRecord
from wire.records import build_batch


def _batch(base: int, records: int, value_size: int) -> tuple[BatchEntry, bytes]:
    data = bytearray(build_batch([(None, b"v" * value_size, [], 1000 + i) for i in range(records)]))
    struct.pack_into(">q", data, 0, base)
    return BatchEntry(base, records - 1, 1000 + records - 1, len(data)), bytes(data)


class _IterCounting:
    """The RocksDB handle, counting iterators made (each read_from or _fitting pass makes one)."""

    def __init__(self, db, on_iter=None) -> None:
        self._db, self.iterators, self.on_iter = db, 0, on_iter

    def iter(self, *args, **kwargs):
        self.iterators += 1
        it = self._db.iter(*args, **kwargs)
        if self.on_iter is not None:
            self.on_iter()
        return it

    def __getattr__(self, name):
        return getattr(self._db, name)


def _open(tmp_path, layout):
    storage = RocksStorage(str(tmp_path / "rocksdb"))
    topic_id = os.urandom(16)
    stored, offset = [], 0
    for records, value_size in layout:
        stored.append(_batch(offset, records, value_size))
        offset += records
    storage.append(topic_id, 0, stored, {})
    counting = _IterCounting(storage._db)
    storage._db = counting
    return storage, topic_id, stored, counting


def test_a_refused_partition_asked_again_with_no_more_room_makes_no_iterator(tmp_path):
    storage, topic_id, stored, counting = _open(tmp_path, [(10, 100), (10, 100)])
    size = len(stored[0][1])
    try:
        assert storage.read_from(topic_id, 0, 0, 20, size - 1, first_whole=False) == []
        made = counting.iterators
        assert made >= 1
        for room in (size - 1, 10, 1):  # the same offset, no more room: nothing read
            assert storage.read_from(topic_id, 0, 0, 20, room, first_whole=False) == []
        assert counting.iterators == made
        # the first batch whole (the response's first partition) is not refused
        assert storage.read_from(topic_id, 0, 0, 20, 1) == [stored[0][1]]
        # room enough: read
        assert storage.read_from(topic_id, 0, 0, 20, size, first_whole=False) == [stored[0][1]]
        # inside the batch: another offset, sized again (and remembered for it)
        before = counting.iterators
        assert storage.read_from(topic_id, 0, 5, 20, size - 1, first_whole=False) == []
        assert counting.iterators > before
        # the next batch, refused, then readable
        assert storage.read_from(topic_id, 0, 10, 20, 5, first_whole=False) == []
        assert storage.read_from(topic_id, 0, 10, 20, size, first_whole=False) == [stored[1][1]]
    finally:
        storage._db = counting._db
        storage.close()


def test_a_rewrite_forgets_what_was_refused(tmp_path):
    storage, topic_id, stored, counting = _open(tmp_path, [(10, 100), (10, 100)])
    size = len(stored[0][1])
    try:
        assert storage.read_from(topic_id, 0, 0, 20, size - 1, first_whole=False) == []
        # compaction keeps 2 of the first batch's records: it fits now
        smaller = _batch(0, 2, 100)
        entry = BatchEntry(0, 9, smaller[0].max_timestamp, len(smaller[1]))  # (its offsets still reach 9)
        data = bytearray(smaller[1])
        struct.pack_into(">i", data, 23, 9)
        storage.rewrite(topic_id, 0, delete_batches=[0], batches=[(entry, bytes(data))], log_start_offset=0,
                        first_dirty_offset=10)
        assert storage.read_from(topic_id, 0, 0, 20, size - 1, first_whole=False) == [bytes(data)]
    finally:
        storage._db = counting._db
        storage.close()


def test_a_topic_deletion_forgets_what_was_refused(tmp_path):
    storage, topic_id, stored, counting = _open(tmp_path, [(10, 100)])
    try:
        assert storage.read_from(topic_id, 0, 0, 10, 5, first_whole=False) == []
        made = counting.iterators
        storage.delete_topic(TopicRecord("t", topic_id, 1, {}))
        assert storage.read_from(topic_id, 0, 0, 10, 5, first_whole=False) == []
        assert counting.iterators > made  # read again (and found nothing)
    finally:
        storage._db = counting._db
        storage.close()


def test_a_rewrite_while_a_refusal_is_read_keeps_nothing(tmp_path):
    """Another thread's rewrite between the read's snapshot and its refusal: the refusal may describe a batch
    that is gone, so it is not kept."""
    storage, topic_id, stored, counting = _open(tmp_path, [(10, 100)])
    try:
        counting.on_iter = storage._forget_refused  # (what a rewrite does once its write is in)
        assert storage.read_from(topic_id, 0, 0, 10, 5, first_whole=False) == []
        counting.on_iter = None
        made = counting.iterators
        assert storage.read_from(topic_id, 0, 0, 10, 5, first_whole=False) == []
        assert counting.iterators > made
    finally:
        storage._db = counting._db
        storage.close()

"""MemoryStorage: the storage engine kept in Python objects (tests and --memory; lost when the process ends).

The object itself is the store: `close()` keeps its contents, so a new `Logs` over the same
MemoryStorage is a "reopen" that exercises the same load path as the RocksDB engine.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence

from partitions.storage import (
    NO_TXN_CHANGES, AbortedTxn, BatchEntry, PartitionState, PartitionWrite, SegmentRecord, Storage, TopicRecord,
    TxnChanges,
)


class _Partition:
    __slots__ = ("aborted_txns", "base_offsets", "batches", "entries", "meta", "ongoing_txns", "producers",
                 "segments")

    def __init__(self) -> None:
        self.base_offsets: list[int] = []
        self.batches: list[bytes] = []
        self.entries: list[BatchEntry] = []
        self.producers: dict[int, bytes] = {}
        self.ongoing_txns: dict[int, int] = {}
        self.aborted_txns: list[AbortedTxn] = []
        self.segments: dict[int, SegmentRecord] = {}
        self.meta = (0, 0)


class MemoryStorage(Storage):
    def __init__(self) -> None:
        self._topics: dict[str, TopicRecord] = {}
        self._partitions: dict[tuple[bytes, int], _Partition] = {}
        self._next_producer_id = 0
        self._state: dict[bytes, bytes] = {}

    def load_topics(self) -> list[TopicRecord]:
        return list(self._topics.values())

    def save_topic(self, topic: TopicRecord) -> None:
        self._topics[topic.name] = topic._replace(configs=dict(topic.configs))

    def delete_topic(self, topic: TopicRecord) -> None:
        self._topics.pop(topic.name, None)
        for key in [key for key in self._partitions if key[0] == topic.topic_id]:
            del self._partitions[key]

    def load_partition(self, topic_id: bytes, partition: int) -> PartitionState:
        stored = self._partitions.get((topic_id, partition))
        if stored is None:
            return PartitionState([], {})
        return PartitionState([stored.segments[base] for base in sorted(stored.segments)], dict(stored.producers),
                              dict(stored.ongoing_txns), list(stored.aborted_txns), *stored.meta)

    def _partition(self, topic_id: bytes, partition: int) -> _Partition:
        stored = self._partitions.get((topic_id, partition))
        if stored is None:
            stored = self._partitions[(topic_id, partition)] = _Partition()
        return stored

    def append(self, topic_id: bytes, partition: int, batches: Sequence[tuple[BatchEntry, bytes]],
               producers: Mapping[int, bytes], txns: TxnChanges = NO_TXN_CHANGES,
               segments: Sequence[SegmentRecord] = ()) -> None:
        stored = self._partition(topic_id, partition)
        for entry, batch in batches:
            self._insert(stored, entry, batch)
        stored.producers.update(producers)
        if txns is not NO_TXN_CHANGES:
            stored.ongoing_txns.update(txns.opened)
            for producer_id in txns.closed:
                stored.ongoing_txns.pop(producer_id, None)
            stored.aborted_txns.extend(txns.aborted)
        for segment in segments:
            stored.segments[segment.base_offset] = segment

    def append_many(self, writes: Sequence[PartitionWrite], states: Sequence[tuple[bytes, bytes]] = ()) -> None:
        for one in writes:
            self.append(*one)
        self.put_states(list(states))

    @staticmethod
    def _insert(stored: _Partition, entry: BatchEntry, batch: bytes) -> None:
        at = bisect_left(stored.base_offsets, entry.base_offset)
        if at < len(stored.base_offsets) and stored.base_offsets[at] == entry.base_offset:
            stored.entries[at], stored.batches[at] = entry, bytes(batch)
            return
        stored.base_offsets.insert(at, entry.base_offset)
        stored.entries.insert(at, entry)
        stored.batches.insert(at, bytes(batch))

    def read_from(self, topic_id: bytes, partition: int, offset: int, upper: int, max_bytes: int,
                  first_whole: bool = True, at_most: int | None = None) -> list[bytes]:
        stored = self._partitions.get((topic_id, partition))
        if stored is None:
            return []
        i = max(bisect_right(stored.base_offsets, offset) - 1, 0)
        entries = stored.entries
        if i < len(entries) and entries[i].base_offset + entries[i].last_offset_delta < offset:
            i += 1  # offset is in a gap after this batch (compaction removed its last records)
        out, total = [], 0
        while i < len(entries) and entries[i].base_offset < upper:
            if (out or not first_whole) and total + entries[i].size > max_bytes:
                break
            out.append(stored.batches[i])
            total += entries[i].size
            i += 1
        return out

    def read_batch(self, topic_id: bytes, partition: int, base_offset: int) -> bytes | None:
        stored = self._partitions.get((topic_id, partition))
        if stored is None:
            return None
        i = bisect_left(stored.base_offsets, base_offset)
        return stored.batches[i] if i < len(stored.base_offsets) and stored.base_offsets[i] == base_offset else None

    def index_entries(self, topic_id: bytes, partition: int, start: int, end: int) -> list[BatchEntry]:
        stored = self._partitions.get((topic_id, partition))
        if stored is None:
            return []
        return stored.entries[bisect_left(stored.base_offsets, start):bisect_left(stored.base_offsets, end)]

    def rewrite(self, topic_id: bytes, partition: int, *, delete=(), delete_batches=(), batches=(), segments=(),
                delete_segments=(), log_start_offset: int, first_dirty_offset: int, aborted_below: int = 0) -> None:
        stored = self._partition(topic_id, partition)
        stored.aborted_txns = [txn for txn in stored.aborted_txns if txn.last_offset >= aborted_below]
        ranges = list(delete) + [(base, base + 1) for base in delete_batches]
        for start, end in ranges:
            lo, hi = bisect_left(stored.base_offsets, start), bisect_left(stored.base_offsets, end)
            del stored.base_offsets[lo:hi], stored.entries[lo:hi], stored.batches[lo:hi]
        for start, end in delete:
            for base in [base for base in stored.segments if start <= base < end]:
                del stored.segments[base]
        for base in delete_segments:
            stored.segments.pop(base, None)
        for entry, batch in batches:
            self._insert(stored, entry, batch)
        for segment in segments:
            stored.segments[segment.base_offset] = segment
        stored.meta = (log_start_offset, first_dirty_offset)

    def partition_size(self, topic_id: bytes, partition: int) -> int:
        stored = self._partitions.get((topic_id, partition))
        return 0 if stored is None else sum(map(len, stored.batches))

    def next_producer_id(self) -> int:
        producer_id = self._next_producer_id
        self._next_producer_id += 1
        return producer_id

    def put_state(self, key: bytes, value: bytes) -> None:
        self._state[key] = bytes(value)

    def put_states(self, items: list[tuple[bytes, bytes]]) -> None:
        for key, value in items:
            self._state[key] = bytes(value)

    def delete_state(self, key: bytes) -> None:
        self._state.pop(key, None)

    def scan_state(self, prefix: bytes) -> list[tuple[bytes, bytes]]:
        return sorted((k, v) for k, v in self._state.items() if k.startswith(prefix))

    def close(self) -> None:
        pass

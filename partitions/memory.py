"""MemoryStorage: the storage engine kept in Python objects (tests and --memory; lost when the process ends).

The object itself is the store: `close()` keeps its contents, so a new `Logs` over the same
MemoryStorage is a "reopen" that exercises the same load path as the RocksDB engine.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence

from partitions.storage import NO_TXN_CHANGES, AbortedTxn, BatchEntry, PartitionState, Storage, TopicRecord, TxnChanges


class _Partition:
    __slots__ = ("aborted_txns", "base_offsets", "batches", "entries", "ongoing_txns", "producers")

    def __init__(self) -> None:
        self.base_offsets: list[int] = []
        self.batches: list[bytes] = []
        self.entries: list[BatchEntry] = []
        self.producers: dict[int, bytes] = {}
        self.ongoing_txns: dict[int, int] = {}
        self.aborted_txns: list[AbortedTxn] = []


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
        return PartitionState(list(stored.entries), dict(stored.producers), dict(stored.ongoing_txns),
                              list(stored.aborted_txns))

    def append(self, topic_id: bytes, partition: int, batches: Sequence[tuple[BatchEntry, bytes]],
               producers: Mapping[int, bytes], txns: TxnChanges = NO_TXN_CHANGES) -> None:
        stored = self._partitions.get((topic_id, partition))
        if stored is None:
            stored = self._partitions[(topic_id, partition)] = _Partition()
        for entry, batch in batches:
            stored.base_offsets.append(entry.base_offset)
            stored.entries.append(entry)
            stored.batches.append(bytes(batch))
        stored.producers.update(producers)
        if txns is not NO_TXN_CHANGES:
            stored.ongoing_txns.update(txns.opened)
            for producer_id in txns.closed:
                stored.ongoing_txns.pop(producer_id, None)
            stored.aborted_txns.extend(txns.aborted)

    def read(self, topic_id: bytes, partition: int, base_offset: int, count: int) -> list[bytes]:
        stored = self._partitions.get((topic_id, partition))
        if stored is None:
            return []
        start = bisect_left(stored.base_offsets, base_offset)
        return stored.batches[start:start + count]

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

"""RocksStorage: the storage engine on RocksDB (rocksdict in raw mode: bytes keys, bytes values).

Durability: the write-ahead log is on and writes are not fsynced. An acknowledged append is in the
WAL in the OS page cache, which survives the process being killed (kill -9), not a machine crash.
`close()` flushes the memtables. Every append is one WriteBatch, so a batch, its index entry and the
producer state that admitted it are stored together or not at all. The key layout is keys.py's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from itertools import islice

from rocksdict import DBCompressionType, Options, Rdict, ReadOptions, WriteBatch

from partitions import keys
from partitions.storage import NO_TXN_CHANGES, AbortedTxn, BatchEntry, PartitionState, Storage, TopicRecord, TxnChanges


class RocksStorage(Storage):
    """The RocksDB database at `path` (created if missing)."""

    def __init__(self, path: str) -> None:
        options = Options(raw_mode=True)
        options.create_if_missing(True)
        # Producers usually compress their batches already; LZ4 is cheap for the ones that do not.
        options.set_compression_type(DBCompressionType.lz4())
        self._db = Rdict(path, options=options)
        stored = self._db.get(keys.counter_key(keys.NEXT_PRODUCER_ID))
        self._next_producer_id = keys.INT64.unpack(stored)[0] if stored is not None else 0

    def load_topics(self) -> list[TopicRecord]:
        topics = []
        for key, value in self._scan(keys.TOPIC, bytes([keys.TOPIC[0] + 1])):
            meta = json.loads(value)
            topics.append(TopicRecord(keys.topic_name(key), bytes.fromhex(meta["topic_id"]),
                                      meta["num_partitions"], meta["configs"], meta["is_internal"]))
        return topics

    def save_topic(self, topic: TopicRecord) -> None:
        meta = {"topic_id": topic.topic_id.hex(), "num_partitions": topic.num_partitions,
                "configs": topic.configs, "is_internal": topic.is_internal}
        self._db.put(keys.topic_key(topic.name), json.dumps(meta).encode("utf-8"))

    def delete_topic(self, topic: TopicRecord) -> None:
        write = WriteBatch(raw_mode=True)
        write.delete(keys.topic_key(topic.name))
        write.delete_range(*keys.topic_range(topic.topic_id))
        self._db.write(write)

    def load_partition(self, topic_id: bytes, partition: int) -> PartitionState:
        unpack = keys.INDEX_ENTRY.unpack
        entries = [BatchEntry(keys.suffix_u64(key), *unpack(value))
                   for key, value in self._scan(*keys.kind_range(topic_id, partition, keys.INDEX))]
        producers = {keys.suffix_u64(key): value
                     for key, value in self._scan(*keys.kind_range(topic_id, partition, keys.PRODUCER))}
        ongoing = {keys.suffix_u64(key): keys.INT64.unpack(value)[0]
                   for key, value in self._scan(*keys.kind_range(topic_id, partition, keys.ONGOING_TXN))}
        aborted = [AbortedTxn(*keys.ABORTED_TXN_ENTRY.unpack(value), keys.suffix_u64(key))
                   for key, value in self._scan(*keys.kind_range(topic_id, partition, keys.ABORTED_TXN))]
        return PartitionState(entries, producers, ongoing, aborted)

    def append(self, topic_id: bytes, partition: int, batches: Sequence[tuple[BatchEntry, bytes]],
               producers: Mapping[int, bytes], txns: TxnChanges = NO_TXN_CHANGES) -> None:
        write = WriteBatch(raw_mode=True)
        for entry, batch in batches:
            write.put(keys.batch_key(topic_id, partition, entry.base_offset), batch)
            write.put(keys.index_key(topic_id, partition, entry.base_offset),
                      keys.INDEX_ENTRY.pack(entry.last_offset_delta, entry.max_timestamp, entry.size))
        for producer_id, state in producers.items():
            write.put(keys.producer_key(topic_id, partition, producer_id), state)
        if txns is not NO_TXN_CHANGES:
            for producer_id, first_offset in txns.opened.items():
                write.put(keys.ongoing_txn_key(topic_id, partition, producer_id), keys.INT64.pack(first_offset))
            for producer_id in txns.closed:
                write.delete(keys.ongoing_txn_key(topic_id, partition, producer_id))
            for txn in txns.aborted:
                write.put(keys.aborted_txn_key(topic_id, partition, txn.last_offset),
                          keys.ABORTED_TXN_ENTRY.pack(txn.producer_id, txn.first_offset))
        self._db.write(write)

    def read(self, topic_id: bytes, partition: int, base_offset: int, count: int) -> list[bytes]:
        first = keys.batch_key(topic_id, partition, base_offset)
        if count == 1:
            batch = self._db.get(first)
            return [] if batch is None else [batch]
        end = keys.kind_range(topic_id, partition, keys.BATCH)[1]
        return list(islice(self._db.values(from_key=first, read_opt=_bounded(end)), count))

    def partition_size(self, topic_id: bytes, partition: int) -> int:
        """The batches' sizes summed from their index entries, plus each batch's two keys and index entry
        (rocksdict offers no approximate size of a key range)."""
        start, end = keys.kind_range(topic_id, partition, keys.INDEX)
        unpack = keys.INDEX_ENTRY.unpack
        sizes = [unpack(value)[2] for value in self._db.values(from_key=start, read_opt=_bounded(end))]
        overhead = 2 * len(keys.index_key(topic_id, partition, 0)) + keys.INDEX_ENTRY.size
        return sum(sizes) + len(sizes) * overhead

    def next_producer_id(self) -> int:
        producer_id = self._next_producer_id
        self._db.put(keys.counter_key(keys.NEXT_PRODUCER_ID), keys.INT64.pack(producer_id + 1))
        self._next_producer_id = producer_id + 1
        return producer_id

    def put_state(self, key: bytes, value: bytes) -> None:
        self._db.put(keys.state_key(key), value)

    def put_states(self, items: list[tuple[bytes, bytes]]) -> None:
        write = WriteBatch(raw_mode=True)
        for key, value in items:
            write.put(keys.state_key(key), value)
        self._db.write(write)

    def delete_state(self, key: bytes) -> None:
        self._db.delete(keys.state_key(key))

    def scan_state(self, prefix: bytes) -> list[tuple[bytes, bytes]]:
        skip = len(keys.STATE)
        return [(key[skip:], value) for key, value in self._scan(*keys.state_range(prefix))]

    def close(self) -> None:
        self._db.flush()
        self._db.close()

    def _scan(self, start: bytes, end: bytes) -> list[tuple[bytes, bytes]]:
        """Every (key, value) with start <= key < end, in key order."""
        return list(self._db.items(from_key=start, read_opt=_bounded(end)))


def _bounded(end: bytes) -> ReadOptions:
    """Read options for iterating up to (not including) `end`; the iterator stops inside RocksDB."""
    options = ReadOptions()
    options.set_iterate_upper_bound(end)
    return options

"""RocksStorage: the storage engine on RocksDB (rocksdict in raw mode: bytes keys, bytes values).

Durability: every write is first appended to Ottla's journal (partitions/journal.py, in `<path>/journal/`),
then applied to RocksDB with RocksDB's own write-ahead log disabled; nothing is fsynced. An acknowledged
append is in the journal in the OS page cache, which survives the process being killed (kill -9), not a
machine crash. Opening replays the journal; `close()` flushes the memtables and removes it. A data dir
written with RocksDB's WAL (before the journal) opens as before: RocksDB replays its WAL itself.
Every append is one write batch (one journal record), so a batch, its index entry and the producer
state that admitted it are stored together or not at all. The key layout is keys.py's.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Mapping, Sequence

import structlog
from rocksdict import DBCompressionType, Options, Rdict, ReadOptions, WriteBatch, WriteOptions

from partitions import journal, keys
from partitions.storage import (
    NO_TXN_CHANGES, AbortedTxn, BatchEntry, PartitionState, PartitionWrite, SegmentRecord, Storage, StorageError,
    TopicRecord, TxnChanges,
)


log = structlog.get_logger("ottla.storage")


class RocksStorage(Storage):
    """The RocksDB database at `path` (created if missing)."""

    def __init__(self, path: str, journal_limit: int = journal.DEFAULT_LIMIT) -> None:
        options = Options(raw_mode=True)
        options.create_if_missing(True)
        # Producers usually compress their batches already; LZ4 is cheap for the ones that do not (and
        # measured cheaper in CPU than none for compressible batches: less to write and checksum).
        options.set_compression_type(DBCompressionType.lz4())
        self._db = Rdict(path, options=options)  # replays RocksDB's own WAL, if a pre-journal broker left one
        self._path = path
        self._failing = False  # a write failed (disk full, I/O error): RocksDB refuses writes until reopened
        self._no_wal = WriteOptions()
        self._no_wal.disable_wal = True  # the journal is the write-ahead log
        directory = os.path.join(path, "journal")
        replayed, files = journal.replay(directory, self._apply)
        self._db.flush()  # what was replayed (and RocksDB's own WAL) into SSTs before the files go
        for name in files:
            os.unlink(name)
        if replayed:
            log.info("journal_replayed", path=path, records=replayed, files=len(files))
        self._journal = journal.Journal(directory, self._db.flush, journal_limit)
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
        self._put(keys.topic_key(topic.name), json.dumps(meta).encode("utf-8"))

    def delete_topic(self, topic: TopicRecord) -> None:
        write = _Write()
        write.delete(keys.topic_key(topic.name))
        write.delete_range(*keys.topic_range(topic.topic_id))
        self._write(write)

    def load_partition(self, topic_id: bytes, partition: int) -> PartitionState:
        """Segment summaries, producer state and log meta: a few keys, however many batches are stored."""
        unpack = keys.SEGMENT_ENTRY.unpack
        segments = [SegmentRecord(keys.suffix_u64(key), *unpack(value))
                    for key, value in self._scan(*keys.kind_range(topic_id, partition, keys.SEGMENT))]
        producers = {keys.suffix_u64(key): value
                     for key, value in self._scan(*keys.kind_range(topic_id, partition, keys.PRODUCER))}
        ongoing = {keys.suffix_u64(key): keys.INT64.unpack(value)[0]
                   for key, value in self._scan(*keys.kind_range(topic_id, partition, keys.ONGOING_TXN))}
        aborted = [AbortedTxn(*keys.ABORTED_TXN_ENTRY.unpack(value), keys.suffix_u64(key))
                   for key, value in self._scan(*keys.kind_range(topic_id, partition, keys.ABORTED_TXN))]
        meta = self._db.get(keys.log_meta_key(topic_id, partition))
        log_start, first_dirty = keys.LOG_META_ENTRY.unpack(meta) if meta is not None else (0, 0)
        if not segments:
            segments = self._legacy_segment(topic_id, partition)
        return PartitionState(segments, producers, ongoing, aborted, log_start, first_dirty)

    def _legacy_segment(self, topic_id: bytes, partition: int) -> list[SegmentRecord]:
        """A data dir written before segments existed: one segment summarising its index (read once;
        the next append persists it)."""
        entries = self.index_entries(topic_id, partition, 0, 2**63 - 1)
        if not entries:
            return []
        max_ts = max(entry.max_timestamp for entry in entries)
        last = entries[-1]
        return [SegmentRecord(entries[0].base_offset, last.base_offset + last.last_offset_delta + 1,
                              sum(entry.size for entry in entries), len(entries), max_ts,
                              entries[0].max_timestamp, max_ts)]

    def append(self, topic_id: bytes, partition: int, batches: Sequence[tuple[BatchEntry, bytes]],
               producers: Mapping[int, bytes], txns: TxnChanges = NO_TXN_CHANGES,
               segments: Sequence[SegmentRecord] = ()) -> None:
        write = _Write()
        self._put_append(write, PartitionWrite(topic_id, partition, batches, producers, txns, segments))
        self._write(write)

    def append_many(self, writes: Sequence[PartitionWrite], states: Sequence[tuple[bytes, bytes]] = ()) -> None:
        write = _Write()
        for one in writes:
            self._put_append(write, one)
        for key, value in states:
            write.put(keys.state_key(key), value)
        self._write(write)

    def _put_append(self, write: _Write, one: PartitionWrite) -> None:
        topic_id, partition, txns = one.topic_id, one.partition, one.txns
        prefix = keys.partition_prefix(topic_id, partition)  # (built once: every key of the write starts with it)
        self._put_batches(write, prefix, one.batches)
        for producer_id, state in one.producers.items():
            write.put(prefix + keys.PRODUCER + keys.U64.pack(producer_id), state)
        if txns is not NO_TXN_CHANGES:
            for producer_id, first_offset in txns.opened.items():
                write.put(keys.ongoing_txn_key(topic_id, partition, producer_id), keys.INT64.pack(first_offset))
            for producer_id in txns.closed:
                write.delete(keys.ongoing_txn_key(topic_id, partition, producer_id))
            for txn in txns.aborted:
                write.put(keys.aborted_txn_key(topic_id, partition, txn.last_offset),
                          keys.ABORTED_TXN_ENTRY.pack(txn.producer_id, txn.first_offset))
        self._put_segments(write, prefix, one.segments)

    @staticmethod
    def _put_batches(write: _Write, prefix: bytes, batches: Sequence[tuple[BatchEntry, bytes]]) -> None:
        """Each batch and its index entry (keys.batch_key / index_key, `prefix` keys.partition_prefix)."""
        batch_prefix, index_prefix, pack, put = prefix + keys.BATCH, prefix + keys.INDEX, keys.U64.pack, write.put
        for entry, batch in batches:
            offset = pack(entry.base_offset)
            put(batch_prefix + offset, batch)
            put(index_prefix + offset, keys.INDEX_ENTRY.pack(entry.last_offset_delta, entry.max_timestamp, entry.size))

    @staticmethod
    def _put_segments(write: _Write, prefix: bytes, segments: Sequence[SegmentRecord]) -> None:
        """Each segment summary (keys.segment_key, `prefix` keys.partition_prefix)."""
        for segment in segments:
            write.put(prefix + keys.SEGMENT + keys.U64.pack(segment.base_offset), keys.SEGMENT_ENTRY.pack(*segment[1:]))

    def _put(self, key: bytes, value: bytes) -> None:
        write = _Write()
        write.put(key, value)
        self._write(write)

    def _write(self, write: _Write) -> None:
        """The journal record, then RocksDB; if RocksDB refuses the batch the record is cut off again."""
        journal_ = self._journal
        try:
            with journal_.lock:  # reclaim's trim() may rotate from a worker thread
                position = journal_.position
                journal_.append(write.ops)
                try:
                    self._db.write(write.batch, self._no_wal)
                except Exception:
                    journal_.undo_to(position)
                    raise
        except Exception as exc:  # OSError from the journal; rocksdict raises a plain Exception with RocksDB's status
            if not self._failing:  # logged once: every later write fails the same way until a restart
                self._failing = True
                log.error("storage_write_failed", path=self._path, error=str(exc),
                          effect="appends answer KAFKA_STORAGE_ERROR, reads go on; restart once there is space")
            raise StorageError(str(exc)) from exc
        with journal_.lock:
            journal_.rotate_if_full()

    def _apply(self, ops: list[tuple[int, bytes, bytes]]) -> None:
        """One replayed journal record, as one RocksDB write."""
        batch = WriteBatch(raw_mode=True)
        for kind, key, value in ops:
            if kind == journal.PUT:
                batch.put(key, value)
            elif kind == journal.DELETE:
                batch.delete(key)
            else:
                batch.delete_range(key, value)
        self._db.write(batch, self._no_wal)

    def journal_stats(self) -> dict[str, float]:
        """Bytes and ops (keys put or deleted) appended to the journal, flushes it ran and its longest rotation
        on the appending thread (ms) since open (the bench's storage rows)."""
        return {"bytes": self._journal.bytes_written, "ops": self._journal.ops_written,
                "flushes": self._journal.flushes, "longest_rotation_ms": 1000 * self._journal.longest_rotation_s}

    def read_from(self, topic_id: bytes, partition: int, offset: int, upper: int, max_bytes: int,
                  first_whole: bool = True, at_most: int | None = None) -> list[bytes]:
        if at_most is None or at_most > max_bytes:
            # some batch may not fit: which ones do is decided from their index entries (20 bytes each), so
            # no batch value is copied out of RocksDB only to be dropped
            bases = self._fitting(topic_id, partition, offset, upper, max_bytes, first_whole)
            if len(bases) <= 1:
                return [self._db.get(keys.batch_key(topic_id, partition, base)) for base in bases]
            offset, upper = bases[0], bases[-1] + 1
        out, total = [], 0
        if at_most is not None and at_most <= _LOOKUP_AT_MOST and offset < upper:
            # a small read (a consumer at the tail: the batch or two appended since its last Fetch, in the
            # memtable) from a batch's base offset: one point lookup, a fraction of an iterator and its seek;
            # it misses for an offset inside a batch or in a gap, and the iterator below positions instead
            batch = self._db.get(keys.batch_key(topic_id, partition, offset), None, _UNCACHED)
            if batch is not None:
                if not first_whole and len(batch) > max_bytes:  # (only if at_most was wrong)
                    return out
                out.append(batch)
                total = len(batch)
                offset += _LAST_DELTA.unpack_from(batch, _LAST_DELTA_AT)[0] + 1
                if offset >= upper:
                    return out
        # everything from offset to upper fits (or was planned): batch values straight from one iterator.
        # The bound's bytes must outlive the iterator (rocksdict does not copy them). No lower bound:
        # rocksdict 0.3's seek_for_prev misbehaves with one, so the key's prefix is checked instead.
        bound = keys.batch_key(topic_id, partition, max(upper, 0))
        options = _streaming(bound)
        it = self._db.iter(options)
        batch = _position(it, keys.batch_key(topic_id, partition, offset), offset, _LAST_DELTA_AT)
        if batch is not None:  # the batch holding offset, its value read once
            if (out or not first_whole) and total + len(batch) > max_bytes:  # (only if at_most was wrong)
                return out
            out.append(batch)
            total += len(batch)
            it.next()
        while it.valid():
            batch = it.value()
            if (out or not first_whole) and total + len(batch) > max_bytes:  # (only if at_most was wrong)
                break
            out.append(batch)
            total += len(batch)
            it.next()
        return out

    def _fitting(self, topic_id: bytes, partition: int, offset: int, upper: int, max_bytes: int,
                 first_whole: bool) -> list[int]:
        """The base offsets of the batches read_from returns, from the index alone."""
        bound = keys.index_key(topic_id, partition, max(upper, 0))
        options = _bounded(bound)
        it = self._db.iter(options)
        _position(it, keys.index_key(topic_id, partition, offset), offset, _INDEX_DELTA_AT)
        bases, total = [], 0
        unpack = _INDEX_SIZE.unpack_from
        while it.valid():
            size = unpack(it.value(), _INDEX_SIZE_AT)[0]
            if (bases or not first_whole) and total + size > max_bytes:
                break
            bases.append(keys.suffix_u64(it.key()))
            total += size
            it.next()
        return bases

    def read_batch(self, topic_id: bytes, partition: int, base_offset: int) -> bytes | None:
        return self._db.get(keys.batch_key(topic_id, partition, base_offset))

    def index_entries(self, topic_id: bytes, partition: int, start: int, end: int) -> list[BatchEntry]:
        unpack = keys.INDEX_ENTRY.unpack
        return [BatchEntry(keys.suffix_u64(key), *unpack(value))
                for key, value in self._scan(*keys.offset_range(topic_id, partition, keys.INDEX, start, end))]

    def rewrite(self, topic_id: bytes, partition: int, *, delete=(), delete_batches=(), batches=(), segments=(),
                delete_segments=(), log_start_offset: int, first_dirty_offset: int, aborted_below: int = 0) -> None:
        write = _Write()
        if aborted_below > 0:
            write.delete_range(*keys.offset_range(topic_id, partition, keys.ABORTED_TXN, 0, aborted_below))
        for start, end in delete:
            for kind in (keys.BATCH, keys.INDEX, keys.SEGMENT):
                write.delete_range(*keys.offset_range(topic_id, partition, kind, start, end))
        for base in delete_batches:
            write.delete(keys.batch_key(topic_id, partition, base))
            write.delete(keys.index_key(topic_id, partition, base))
        for base in delete_segments:
            write.delete(keys.segment_key(topic_id, partition, base))
        prefix = keys.partition_prefix(topic_id, partition)
        self._put_batches(write, prefix, batches)
        self._put_segments(write, prefix, segments)
        write.put(keys.log_meta_key(topic_id, partition), keys.LOG_META_ENTRY.pack(log_start_offset, first_dirty_offset))
        self._write(write)

    def reclaim(self, topic_id: bytes, partition: int, start: int, end: int) -> None:
        """Compact the removed key range now (flushing the memtable that may hold it), so its files go, and
        trim the journal, which still holds the removed records (a worker thread calls this)."""
        for kind in (keys.BATCH, keys.INDEX):
            self._db.compact_range(*keys.offset_range(topic_id, partition, kind, start, end))
        self._journal.trim()

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
        self._put(keys.counter_key(keys.NEXT_PRODUCER_ID), keys.INT64.pack(producer_id + 1))
        self._next_producer_id = producer_id + 1
        return producer_id

    def put_state(self, key: bytes, value: bytes) -> None:
        self._put(keys.state_key(key), value)

    def put_states(self, items: list[tuple[bytes, bytes]]) -> None:
        write = _Write()
        for key, value in items:
            write.put(keys.state_key(key), value)
        self._write(write)

    def delete_state(self, key: bytes) -> None:
        write = _Write()
        write.delete(keys.state_key(key))
        self._write(write)

    def scan_state(self, prefix: bytes) -> list[tuple[bytes, bytes]]:
        skip = len(keys.STATE)
        return [(key[skip:], value) for key, value in self._scan(*keys.state_range(prefix))]

    def property_int_value(self, name: str) -> int | None:
        """A RocksDB integer property ("rocksdb.total-sst-files-size" ...) for /metrics and the console."""
        return self._db.property_int_value(name)

    def close(self) -> None:
        self._journal.wait()
        try:
            self._db.flush()
            flushed = True
        except Exception as exc:  # a full disk: what is acknowledged is in the journal, replayed on open
            log.error("storage_flush_failed", path=self._path, error=str(exc))
            flushed = False
        self._journal.close(flushed)
        self._db.close()

    def _scan(self, start: bytes, end: bytes) -> list[tuple[bytes, bytes]]:
        """Every (key, value) with start <= key < end, in key order."""
        return list(self._db.items(from_key=start, read_opt=_bounded(end)))


class _Write:
    """One atomic write: the RocksDB WriteBatch and the same ops as a journal record."""

    __slots__ = ("batch", "ops")

    def __init__(self) -> None:
        self.batch = WriteBatch(raw_mode=True)
        self.ops = journal.Ops()

    def put(self, key: bytes, value: bytes) -> None:
        self.batch.put(key, value)
        self.ops.put(key, value)

    def delete(self, key: bytes) -> None:
        self.batch.delete(key)
        self.ops.delete(key)

    def delete_range(self, start: bytes, end: bytes) -> None:
        self.batch.delete_range(start, end)
        self.ops.delete_range(start, end)


_LAST_DELTA = struct.Struct(">i")  # a last offset delta, in a stored batch and in its index entry
_UNCACHED = ReadOptions()  # a point lookup of a batch value: its block stays out of the cache (see _streaming)
_UNCACHED.fill_cache(False)
_LOOKUP_AT_MOST = 64 << 10  # read_from's bound up to which the first batch is a point lookup (else an iterator)
_LAST_DELTA_AT = 23  # lastOffsetDelta's position in a stored batch (see wire/records.py HEADER)
_INDEX_DELTA_AT = 0  # and in an index entry (keys.INDEX_ENTRY)
_KEY_PREFIX_LEN = 1 + 16 + 4 + 1  # a partition's key prefix and the key's kind (keys.py)
_INDEX_SIZE = struct.Struct(">i")  # keys.INDEX_ENTRY's size field, at 12
_INDEX_SIZE_AT = 12


def _position(it, first: bytes, offset: int, delta_at: int) -> bytes | None:
    """Put `it` (over one partition's batch or index keys, bounded above) at the entry of the batch holding
    `offset`, or at the first batch after it (offset in a gap or before the log), or past the end.
    `first` is offset's key, `delta_at` where the entry's value holds the batch's last offset delta.
    A consumer fetches from a batch's base offset: one forward seek. Only otherwise seek_for_prev, whose
    entry is checked to be this partition's and to reach `offset`. Returns that entry's value when it was
    read (the batch holding an offset inside it), so the caller need not read it again; else None."""
    it.seek(first)
    if it.valid() and it.key() == first:
        return None
    it.seek_for_prev(first)  # offset inside a batch, in a gap, or before the log
    if not it.valid() or not it.key().startswith(first[:_KEY_PREFIX_LEN]):
        it.seek(first)  # before the partition's first entry (or another partition's key)
        return None
    value = it.value()
    if keys.suffix_u64(it.key()) + _LAST_DELTA.unpack_from(value, delta_at)[0] >= offset:
        return value
    it.next()  # offset is in a gap after this batch (compaction removed its last records)
    return None


def _bounded(end: bytes) -> ReadOptions:
    """Read options for iterating up to (not including) `end`; the iterator stops inside RocksDB."""
    options = ReadOptions()
    options.set_iterate_upper_bound(end)
    return options



def _streaming(end: bytes) -> ReadOptions:
    """_bounded for reading batch values: their blocks are not put in the block cache (a Fetch streams
    through far more than the cache holds: inserting and evicting each block cost ~20% of an in-process
    1,000-partition Fetch, and it pushed out the index and state blocks other reads need)."""
    options = _bounded(end)
    options.fill_cache(False)
    return options

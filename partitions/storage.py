"""The storage engine interface: one method per operation the partition logs need, nothing RocksDB-shaped.

Two engines implement it: `memory.MemoryStorage` (tests, --memory) and `rocks.RocksStorage` (the default).
The engine stores bytes it is given and hands them back; every Kafka rule (offsets, sequences,
validation) lives above it in log.py, producers.py and logs.py.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import NamedTuple


class TopicRecord(NamedTuple):
    """What is persisted about a topic (its partitions' data is keyed by topic_id, never by name)."""

    name: str
    topic_id: bytes
    num_partitions: int
    configs: dict[str, str]
    is_internal: bool = False


class BatchEntry(NamedTuple):
    """The index entry stored beside each batch, so opening a log never reads batch bytes."""

    base_offset: int
    last_offset_delta: int
    max_timestamp: int
    size: int


class AbortedTxn(NamedTuple):
    """One aborted transaction in a partition: its producer, first data offset and ABORT marker's offset."""

    producer_id: int
    first_offset: int
    last_offset: int


class TxnChanges(NamedTuple):
    """What one append does to a partition's transactions (see partitions.transactions): producers whose
    transaction opens here (producer id -> first offset), producers whose transaction a marker closes,
    and the aborted transactions to add to the index."""

    opened: dict[int, int]
    closed: list[int]
    aborted: list[AbortedTxn]


NO_TXN_CHANGES = TxnChanges({}, [], [])


class PartitionWrite(NamedTuple):
    """One partition's part of a multi-partition write (`Storage.append_many`): what `append` takes."""

    topic_id: bytes
    partition: int
    batches: Sequence[tuple[BatchEntry, bytes]]
    producers: Mapping[int, bytes]
    txns: TxnChanges = NO_TXN_CHANGES
    segments: Sequence[SegmentRecord] = ()


class SegmentRecord(NamedTuple):
    """What is persisted about one segment (a run of consecutive batches, see partitions/segments.py)."""

    base_offset: int
    next_offset: int  # one past the last offset of its last batch
    size: int  # bytes of its batches
    batches: int
    max_timestamp: int
    rolling_timestamp: int  # the first batch's max timestamp (Kafka's rollingBasedTimestamp), -1 if none
    created_ms: int  # wall clock when its first batch was appended


class PartitionState(NamedTuple):
    """A partition as loaded on open: its segment summaries (never the batch index: opening costs the
    same whatever the number of batches), its producers' state, its transactions and its log meta."""

    segments: list[SegmentRecord]
    producers: dict[int, bytes]
    ongoing_txns: dict[int, int] = {}  # open transactions: producer id -> first offset
    aborted_txns: list[AbortedTxn] = []  # the aborted-transaction index in last-offset order
    log_start_offset: int = 0
    first_dirty_offset: int = 0


class StorageError(Exception):
    """A write the engine could not make (disk full, I/O error): nothing of it was stored."""


class Storage(ABC):
    """A storage engine. Not thread-safe: the broker calls it from its one event-loop thread."""

    @abstractmethod
    def load_topics(self) -> list[TopicRecord]:
        """Every stored topic."""

    @abstractmethod
    def save_topic(self, topic: TopicRecord) -> None:
        """Persist a topic's metadata (create, or overwrite the record with the same name)."""

    @abstractmethod
    def delete_topic(self, topic: TopicRecord) -> None:
        """Remove a topic's metadata and, atomically with it, all its batches, index and producer state."""

    @abstractmethod
    def load_partition(self, topic_id: bytes, partition: int) -> PartitionState:
        """A partition's batch index and producer state (empty for a partition never written)."""

    @abstractmethod
    def append(self, topic_id: bytes, partition: int, batches: Sequence[tuple[BatchEntry, bytes]],
               producers: Mapping[int, bytes], txns: TxnChanges = NO_TXN_CHANGES,
               segments: Sequence[SegmentRecord] = ()) -> None:
        """Atomically store batches (in offset order, with their index entries), replace the state of
        the given producer ids, apply the transaction changes and store the given segment summaries.
        Once this returns the write survives the process being killed. Raises StorageError (and
        stores nothing) if it cannot."""

    @abstractmethod
    def append_many(self, writes: Sequence[PartitionWrite], states: Sequence[tuple[bytes, bytes]] = ()) -> None:
        """One atomic write of several partitions' appends (each as `append` stores it) and of state values
        (as `put_states`): a transaction's markers with its coordinator's completed state. Raises
        StorageError (and stores nothing) if it cannot."""

    @abstractmethod
    def read_from(self, topic_id: bytes, partition: int, offset: int, upper: int, max_bytes: int,
                  first_whole: bool = True, at_most: int | None = None) -> list[bytes]:
        """Whole stored batches in offset order: the first is the one holding `offset` (or, in a gap, the
        next one), none starting at or past `upper`, within max_bytes except the first (first_whole=False:
        the first too, so none if it does not fit). A batch that does not fit is never read (its size is
        its index entry's). at_most: a bound the caller knows on the bytes stored from offset on (the log's
        segment sizes); when it is within max_bytes no batch needs sizing first."""

    @abstractmethod
    def read_batch(self, topic_id: bytes, partition: int, base_offset: int) -> bytes | None:
        """The batch stored at exactly base_offset."""

    @abstractmethod
    def index_entries(self, topic_id: bytes, partition: int, start: int, end: int) -> list[BatchEntry]:
        """The index entries of the batches whose base offset is in [start, end), in offset order."""

    @abstractmethod
    def rewrite(self, topic_id: bytes, partition: int, *, delete: Sequence[tuple[int, int]] = (),
                delete_batches: Sequence[int] = (), batches: Sequence[tuple[BatchEntry, bytes]] = (),
                segments: Sequence[SegmentRecord] = (), delete_segments: Sequence[int] = (),
                log_start_offset: int, first_dirty_offset: int, aborted_below: int = 0) -> None:
        """One atomic write: remove every batch, index entry and segment summary whose base offset is in
        one of the [start, end) ranges of `delete` (range deletes: the cost does not depend on how many
        batches they hold; retention), remove the batches at the `delete_batches` base offsets and the
        summaries at `delete_segments` (point deletes: the cleaner, whose many small removals would
        otherwise leave range tombstones that slow every later read), drop the aborted transactions whose
        marker is below `aborted_below`, then store `batches`, `segments` and the log meta. Raises
        StorageError."""

    def reclaim(self, topic_id: bytes, partition: int, start: int, end: int) -> None:
        """Give the space of removed data with base offsets in [start, end) back to the file system."""

    @abstractmethod
    def partition_size(self, topic_id: bytes, partition: int) -> int:
        """An estimate of the bytes one partition's stored batches take in this engine (DescribeLogDirs)."""

    @abstractmethod
    def next_producer_id(self) -> int:
        """Allocate a producer id: a persisted counter, so no id is handed out twice across restarts."""

    @abstractmethod
    def put_state(self, key: bytes, value: bytes) -> None:
        """Store a coordinator's state value (committed offsets...); durable like an append once it returns."""

    @abstractmethod
    def put_states(self, items: list[tuple[bytes, bytes]]) -> None:
        """Store several state values in one atomic write."""

    @abstractmethod
    def delete_state(self, key: bytes) -> None:
        """Remove a state key; a missing key is not an error."""

    @abstractmethod
    def scan_state(self, prefix: bytes) -> list[tuple[bytes, bytes]]:
        """Every (key, value) of state whose key starts with prefix, in ascending key order."""

    def state(self) -> "StateView":
        """The state keys as a put/delete/scan store (what gateway.groups calls a GroupStore)."""
        return StateView(self)

    @abstractmethod
    def close(self) -> None:
        """Flush and release the engine; nothing may be called afterwards."""


class StateView:
    """put/delete/scan over a storage engine's state keys."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def put(self, key: bytes, value: bytes) -> None:
        self._storage.put_state(key, value)

    def put_many(self, items: list[tuple[bytes, bytes]]) -> None:
        self._storage.put_states(items)

    def delete(self, key: bytes) -> None:
        self._storage.delete_state(key)

    def scan(self, prefix: bytes):
        return iter(self._storage.scan_state(prefix))

"""PartitionLog: one partition's record batches: validated append with offsets and idempotence, and reads.

Batches stay opaque bytes: append reads headers with struct, checks CRCs and walks every record in C
(wire/record_validation.py: one pass, nothing built per record), copies the request
into a bytearray, rewrites baseOffset and partitionLeaderEpoch (outside the CRC) and, for
LogAppendTime topics, the timestamp and CRC; then one storage write (rocksdict takes only bytes, so
each batch is copied once more on the way). Reads return stored batches as-is, found by a storage
seek. Only segment summaries are kept in memory (partitions/segments.py), so opening a log costs
the same whatever it holds. Records are only decoded by the two timestamp lookups (ListOffsets),
inside the candidate batches of one segment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from partitions.producers import BatchMetadata, ProducerAppend, ProducerStateEntry, increment_sequence
from partitions.log_config import refuse_keyless
from partitions.segments import SegmentList
from partitions.storage import NO_TXN_CHANGES, BatchEntry, PartitionState, PartitionWrite, Storage, StorageError
from partitions.transactions import PartitionTransactions
from wire.codec import Parts
from wire.errors import ErrorCode, KafkaError
from wire.records import (
    INT64_MAX,
    INT64_MIN,
    LOG_OVERHEAD,
    BatchHeader,
    RecordsSummary,
    CorruptRecordError,
    accept_batch,
    control_batch,
    iter_records,
    set_partition_leader_epoch,
    split_batches,
    stored_copy,
    validate_batch,
    validate_records,
)

if TYPE_CHECKING:
    from partitions.topics import Topic

END_OF_INDEX = 2**63 - 1  # above every base offset
LEADER_EPOCH = 0  # a partition's first leader epoch (a single broker keeps it forever)
NO_TIMESTAMP = -1


class AppendResult(NamedTuple):
    """What a Produce response needs. For a duplicate batch, the offsets the original got and, as
    Kafka does, its stored max timestamp as log_append_time_ms."""

    base_offset: int
    log_append_time_ms: int
    log_start_offset: int
    duplicate: bool = False


class StagedControl(NamedTuple):
    """A marker staged by PartitionLog.stage_control: `write` for the storage engine, then `commit()`."""

    log: PartitionLog
    write: PartitionWrite
    segments: object  # segments.Staged
    producer_id: int
    producer: ProducerStateEntry
    txns: object  # transactions.TxnAppend

    def commit(self) -> int:
        """Storage has `write`: make the marker visible (offsets, producer epoch, LSO); returns its offset."""
        log = self.log
        log._stored(self.segments, self.write.batches)
        log._producers[self.producer_id] = self.producer
        self.txns.commit()
        log._appended()
        return self.write.batches[0][0].base_offset


class StagedAppend(NamedTuple):
    """Produced batches staged by PartitionLog.stage_append (validated, offsets assigned): `write` for the
    storage engine (alone, or with other partitions' in one Storage.append_many: a Produce request's
    one write), then `commit()`. Nothing of it is visible before."""

    log: PartitionLog
    write: PartitionWrite
    segments: object  # segments.Staged
    producers: object  # producers.ProducerAppend or None
    txns: object  # transactions.TxnAppend or None
    log_append_time_ms: int

    def commit(self) -> AppendResult:
        log = self.log
        log._stored(self.segments, self.write.batches)
        if self.producers is not None:
            self.producers.commit()
        if self.txns is not None:
            self.txns.commit()
        log._appended()
        return AppendResult(self.write.batches[0][0].base_offset, self.log_append_time_ms, log.log_start_offset)


class PartitionLog:
    """One partition: its batches in offset order, its producers' state and transactions, and three
    offsets: the log end offset (next offset to assign), the high watermark (the end of what is stored
    durably, so the same here: one replica) and the last stable offset (below the first open transaction)."""

    def __init__(self, topic: Topic, index: int, storage: Storage, state: PartitionState | None = None) -> None:
        self.topic = topic
        self.index = index
        self.listeners: list[Callable[[PartitionLog], None]] = []
        self._storage = storage
        self.log_start_offset = 0  # moved forward by retention and DeleteRecords (partitions/retention.py)
        self.first_dirty_offset = 0  # where the cleaner resumes (partitions/cleaner.py)
        self.log_end_offset = 0
        self.high_watermark = 0
        self.last_stable_offset = 0
        self.segments = SegmentList()
        self.leader_epoch = LEADER_EPOCH  # stamped on appended batches; a cluster moves it (gateway/replicas.py)
        self._producers: dict[int, ProducerStateEntry] = {}
        self._tail: tuple[int, int, int] | None = None  # the last append's first base offset, segment, size before
        if state is not None:
            self.segments = SegmentList(state.segments)
            if self.segments.items:  # the active segment's last batches its stored summary may not count yet
                self.segments.catch_up(storage.index_entries(topic.topic_id, index, self.segments.next_offset,
                                                             END_OF_INDEX))
            self.log_start_offset = state.log_start_offset
            self.first_dirty_offset = state.first_dirty_offset
            next_offset = self.segments.next_offset
            self.log_end_offset = max(next_offset if next_offset is not None else 0, self.log_start_offset)
            self.high_watermark = self.log_end_offset
            self._producers = {pid: ProducerStateEntry.from_bytes(data) for pid, data in state.producers.items()}
        self.transactions = PartitionTransactions(state.ongoing_txns, state.aborted_txns) if state is not None \
            else PartitionTransactions()
        self.last_stable_offset = self.transactions.last_stable_offset(self.high_watermark)

    @property
    def storage(self) -> Storage:
        return self._storage

    def append(self, records: bytes, now_ms: int, *, blocks: list | None = None,
               split: list | None = None) -> AppendResult:
        """Validate every batch, then assign offsets and store them all in one write, or nothing.

        blocks: per batch, its records already decompressed (or None), see gateway/records_offload.py.
        split: split_batches(records), when the caller has it already (the Produce handler does), or
        accept(records, now_ms) (already checked: not checked again).

        Raises KafkaError: CORRUPT_MESSAGE, INVALID_RECORD, INVALID_TIMESTAMP, MESSAGE_TOO_LARGE,
        INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_TXN_STATE, KAFKA_STORAGE_ERROR.
        """
        staged = self.stage_append(records, now_ms, blocks=blocks, split=split)
        if isinstance(staged, AppendResult):  # a duplicate: nothing to store
            return staged
        try:
            self._storage.append(*staged.write)
        except StorageError as exc:
            raise self.storage_error(exc) from None
        return staged.commit()

    def accept(self, records, now_ms: int) -> list[tuple[int, BatchHeader, RecordsSummary]] | None:
        """The common Produce entry checked in one call (wire.records.accept_batch: one uncompressed batch
        passing every check of _validate against this topic's configs): [(0, header, summary)], which
        stage_append takes as `split` and does not check again; [(0, header, None)] for a compressed batch
        passing every check but those of its records (_validate walks them once decompressed); None for
        anything else (several batches, any fault: stage_append's full checks then find and name it)."""
        topic = self.topic
        if topic.log_append_time:
            low, high = INT64_MIN, INT64_MAX
        else:
            before, after = topic.timestamp_limits
            low, high = max(now_ms - before, INT64_MIN), min(now_ms + after, INT64_MAX)
        accepted = accept_batch(records, topic.max_message_bytes, low, high, topic.compacted)
        return None if accepted is None else [(0, *accepted)]

    def unsaved_segments(self) -> PartitionWrite | None:
        """The active segment's summary as a write, when its stored one lags its last batches (Logs.close)."""
        items = self.segments.items
        if not items or not items[-1].unsaved or self.topic.deleted:
            return None
        return PartitionWrite(self.topic.topic_id, self.index, [], {}, NO_TXN_CHANGES, [items[-1].record()])

    def storage_error(self, exc: StorageError) -> KafkaError:
        return KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, f"Error while appending to {self}: {exc}")

    def stage_append(self, records: bytes, now_ms: int, *, blocks: list | None = None,
                     split: list | None = None) -> StagedAppend | AppendResult:
        """append() up to the storage write (an AppendResult for a duplicate batch: nothing to write).
        The caller stores `.write`, then calls `.commit()`; nothing may be appended to this partition in
        between. Raises what append() raises, but KAFKA_STORAGE_ERROR."""
        topic = self.topic
        if topic.deleted:
            raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"{self} was deleted")
        if split is None and blocks is None:
            split = self.accept(records, now_ms)
        found = self._validate(records, now_ms, blocks, split)
        stamped = topic.log_append_time
        leader_epoch = self.leader_epoch
        batches = []  # (index entry, the batch as stored: one copy of its bytes, wire.records.stored_copy)
        entries = []
        next_offset = self.log_end_offset
        producers = txns = None
        for pos, header, summary in found:
            delta = header.last_offset_delta
            max_timestamp = now_ms if stamped else header.max_timestamp if header.log_append_time \
                else summary.max_timestamp  # as Kafka: the records' largest, not what the header claims
            if header.producer_id >= 0:
                if producers is None:
                    producers = ProducerAppend(self._producers)
                last_seq = increment_sequence(header.base_sequence, delta)
                duplicate = producers.find_duplicate(header.producer_id, header.producer_epoch,
                                                     header.base_sequence, last_seq)
                if duplicate is not None:
                    return AppendResult(duplicate.first_offset, duplicate.timestamp, self.log_start_offset, True)
                producers.append(header.producer_id, header.producer_epoch, header.base_sequence,
                                 BatchMetadata(last_seq, next_offset + delta, delta, max_timestamp))
                if header.is_transactional or header.producer_id in self.transactions.ongoing:
                    if txns is None:
                        txns = self.transactions.begin()
                    txns.data_batch(header.producer_id, header.is_transactional, next_offset, self)
            size = LOG_OVERHEAD + header.batch_length
            entry = BatchEntry(next_offset, delta, max_timestamp, size)
            entries.append(entry)
            batches.append((entry, stored_copy(records, pos, size, next_offset, leader_epoch, max_timestamp, stamped)))
            next_offset += delta + 1
        segments = self.segments.stage(entries, now_ms, *topic.roll_limits)
        write = PartitionWrite(topic.topic_id, self.index, batches, producers.encoded() if producers else {},
                               txns.changes() if txns else NO_TXN_CHANGES, segments.records())
        return StagedAppend(self, write, segments, producers, txns, now_ms if stamped else NO_TIMESTAMP)

    def append_control(self, producer_id: int, producer_epoch: int, *, commit: bool, coordinator_epoch: int,
                       now_ms: int) -> int:
        """Write a transaction marker (COMMIT or ABORT control batch) for producer_id; returns its offset."""
        staged = self.stage_control(producer_id, producer_epoch, commit=commit, coordinator_epoch=coordinator_epoch,
                                    now_ms=now_ms)
        try:
            self._storage.append(*staged.write)
        except StorageError as exc:
            raise self.storage_error(exc) from None
        return staged.commit()

    def stage_control(self, producer_id: int, producer_epoch: int, *, commit: bool, coordinator_epoch: int,
                      now_ms: int) -> StagedControl:
        """A transaction marker (COMMIT or ABORT control batch) for producer_id, not yet stored: the caller
        stores `.write` (alone, or with other partitions' markers in one Storage.append_many), then calls
        `.commit()`; nothing may be appended to this partition in between.

        The coordinator's own path: no sequence, the producer's epoch moves up to the marker's (a fenced
        producer's older epoch is then refused here), its open transaction closes, an ABORT is indexed."""
        if self.topic.deleted:
            raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"{self} was deleted")
        offset = self.log_end_offset
        buf = bytearray(control_batch(producer_id, producer_epoch, commit=commit, coordinator_epoch=coordinator_epoch,
                                      timestamp_ms=now_ms, base_offset=offset))
        set_partition_leader_epoch(buf, 0, self.leader_epoch)
        current = self._producers.get(producer_id)
        producer = current.copy() if current is not None else ProducerStateEntry(producer_epoch)
        if producer_epoch > producer.producer_epoch:
            producer.producer_epoch = producer_epoch
            producer.batches.clear()
        txns = self.transactions.begin()
        txns.marker(producer_id, commit, offset)
        entry = BatchEntry(offset, 0, now_ms, len(buf))
        segments = self.segments.stage([entry], now_ms, *self.topic.roll_limits)
        write = PartitionWrite(self.topic.topic_id, self.index, [(entry, bytes(buf))],
                               {producer_id: producer.to_bytes()}, txns.changes(), segments.records())
        return StagedControl(self, write, segments, producer_id, producer, txns)

    def _appended(self) -> None:
        transactions = self.transactions
        self.last_stable_offset = transactions.last_stable_offset(self.high_watermark) if transactions.ongoing \
            else self.high_watermark  # (what last_stable_offset answers then)
        if self.listeners:  # (waiting Fetches; a listener may remove itself)
            for listener in list(self.listeners):
                listener(self)

    def _validate(self, records: bytes, now_ms: int, blocks=None,
                  split=None) -> list[tuple[int, BatchHeader, RecordsSummary]]:
        """Kafka's per-batch checks, in Kafka's order, for every batch before anything is changed."""
        if split is not None and len(split[0]) == 3 and split[0][2] is not None:  # accept() checked it all just now
            return split
        topic = self.topic
        max_message_bytes = topic.max_message_bytes
        bounds = None if topic.log_append_time else (now_ms, *topic.timestamp_limits)
        found = []
        try:
            for i, (pos, header, *checked) in enumerate(split if split is not None else split_batches(records)):
                if not checked:  # (accept() made these checks of a compressed batch: its records are walked below)
                    if header.base_offset != 0:
                        raise KafkaError(ErrorCode.INVALID_RECORD, f"The baseOffset of the record batch in the "
                                         f"append to {self} should be 0, but it is {header.base_offset}")
                    if header.size > max_message_bytes:
                        raise KafkaError(ErrorCode.MESSAGE_TOO_LARGE, f"The record batch size in the append to "
                                         f"{self} is {header.size} bytes which exceeds the maximum configured "
                                         f"value of {max_message_bytes}.")
                    validate_batch(records, pos, header)
                    if header.is_control:
                        raise KafkaError(ErrorCode.INVALID_RECORD, "Clients are not allowed to write control records")
                # every record, once (C); the summary also says e.g. how many keys are null (compacted topics)
                block = blocks[i] if blocks is not None and i < len(blocks) else None
                summary = validate_records(records, pos, header, timestamp_bounds=bounds, block=block)
                if summary.null_keys and topic.compacted:
                    refuse_keyless(records, pos, header, self)
                found.append((pos, header, summary))
        except CorruptRecordError as exc:
            raise KafkaError(exc.code, str(exc), exc.record_errors) from None
        return found

    def producers(self) -> dict[int, ProducerStateEntry]:
        """The producers this partition has state for (DescribeProducers); read-only for callers."""
        return self._producers

    def _stored(self, staged, batches: list[tuple[BatchEntry, bytes]]) -> None:
        """The batches are stored: their segment summaries and the offsets move past them."""
        items = self.segments.items
        tail = (batches[0][0].base_offset, items[-1].base_offset, items[-1].size) if items else None
        staged.commit()
        self._tail = tail
        last = batches[-1][0]
        self.log_end_offset = last.base_offset + last.last_offset_delta + 1
        self.high_watermark = self.log_end_offset  # one replica: stored is replicated

    def read(self, offset: int, max_bytes: int, *, upper: int | None = None, joined: bool = True,
             first_whole: bool = True) -> bytes | Parts:
        """Whole stored batches from the one holding `offset`, within max_bytes except the first (KIP-74),
        none starting at or past `upper` (default: the high watermark). joined=False: several batches
        come as wire.codec.Parts (encoded without a copy into one bytes first). first_whole=False: the
        first batch must fit max_bytes too (a Fetch's later partitions), else nothing is read."""
        if offset < self.log_start_offset or offset > self.high_watermark:
            raise KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, f"offset {offset} is outside [{self.log_start_offset}, "
                             f"{self.high_watermark}] of {self}")
        if upper is None:
            upper = self.high_watermark
        if offset >= upper or (max_bytes <= 0 and not first_whole):
            return b""
        batches = self._storage.read_from(self.topic.topic_id, self.index, offset, upper, max_bytes, first_whole,
                                          self._stored_from(offset, max_bytes))
        if len(batches) == 1:
            return batches[0]
        return b"".join(batches) if joined or not batches else Parts(batches)

    def _stored_from(self, offset: int, max_bytes: int) -> int | None:
        """The bytes of the segments from the one holding offset on (a bound on what a read from offset
        can return), or None once they pass max_bytes: then the engine sizes batches before it reads them."""
        items = self.segments.items
        if items and items[-1].base_offset <= offset:  # (the usual read: in the active segment)
            size = items[-1].size
            tail = self._tail
            if tail is not None and tail[0] == offset and tail[1] == items[-1].base_offset and tail[2] < size:
                size -= tail[2]  # a consumer at the tail reads the last append: exactly its bytes (the engine reads
                # it with no index; a log rewritten since only makes the bound wrong, never the read)
            return size if size <= max_bytes else None
        total = 0
        for segment in items[max(self.segments.containing(offset), 0):]:
            total += segment.size
            if total > max_bytes:
                return None
        return total

    def offset_for_timestamp(self, timestamp_ms: int) -> tuple[int, int] | None:
        """(offset, timestamp) of the first record whose timestamp is >= timestamp_ms, or None."""
        for segment in self.segments:
            if segment.max_timestamp < timestamp_ms:
                continue
            for entry in self._entries(segment):
                if entry.max_timestamp < timestamp_ms:
                    continue
                for record in iter_records(self._batch(entry.base_offset)):
                    if record.timestamp >= timestamp_ms and record.offset >= self.log_start_offset:
                        return record.offset, record.timestamp
        return None

    def max_timestamp(self) -> tuple[int, int] | None:
        """(offset, timestamp) of the first record carrying the log's largest timestamp (ListOffsets -3)."""
        if not self.segments:
            return None
        largest = max(segment.max_timestamp for segment in self.segments)
        segment = next(segment for segment in self.segments if segment.max_timestamp == largest)
        for entry in self._entries(segment):
            if entry.max_timestamp == largest:
                for record in iter_records(self._batch(entry.base_offset)):
                    if record.timestamp == largest:
                        return record.offset, record.timestamp
                return None  # a batch whose max_timestamp no record has: Kafka finds no offset either
        return None

    def _entries(self, segment) -> list[BatchEntry]:
        return self._storage.index_entries(self.topic.topic_id, self.index, segment.base_offset, segment.next_offset)

    def _batch(self, base_offset: int) -> bytes:
        return self._storage.read_batch(self.topic.topic_id, self.index, base_offset)

    def __repr__(self) -> str:
        return f"{self.topic.name}-{self.index}"

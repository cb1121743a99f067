"""The log cleaner: compaction of closed segments, as Kafka's LogCleaner and LogCleanerManager do it.

Which logs: cleanup.policy contains compact; the cleanable range ends at the first uncleanable offset
(the active segment, the last stable offset, and with min.compaction.lag.ms the first segment holding
a record newer than the lag). A log is cleaned when its dirty ratio (bytes from the first dirty
offset to that end, over bytes from the log start to it) exceeds min.cleanable.dirty.ratio, when a
dirty segment's first batch is older than max.compaction.lag.ms, or when tombstones or markers
reach their delete horizon.

How: an offset map (key -> latest offset) over the dirty range, skipping control batches and
aborted transactional data; then every segment from the log start to the end of the map is
rewritten: a record stays if it is the latest for its key (or past the map), and if it is a
tombstone only until its batch's delete horizon. The first clean that keeps a tombstone (or a
marker whose transaction has no data left) sets the batch's horizon to now + delete.retention.ms
(KIP-534), a later one after the horizon drops it. Aborted transactional data goes; a COMMIT or
ABORT marker stays while data of its transaction is still in the log (Kafka's
CleanedTransactionMetadata). Keyless records (possible in a topic made compact later) are dropped.
Offsets stay: batches keep their base offset and last offset delta, so gaps remain. Emptied
segments go and consecutive cleaned ones merge up to segment.bytes (only their summaries change).

Each chunk of a segment (a few hundred KiB of batches) is replaced by one atomic storage write that
deletes its removed batches and overwrites its rewritten ones (point writes: range tombstones would
slow every later read), so a reader never sees half a batch or a missing one; between chunks the work yields (`steps()` is a generator), so requests keep flowing.
Idempotent producer state is stored apart from the batches and is not touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple

from partitions.log_config import settings
from partitions.segments import INT32_MAX, Segment
from partitions.storage import AbortedTxn, BatchEntry
from wire.batch_rewrite import delete_horizon, raw_records, rebuild
from wire.records import CONTROL_ABORT, CONTROL_COMMIT, read_header

if TYPE_CHECKING:
    from partitions.log import PartitionLog

CHUNK_BYTES = 128 * 1024  # batches read, rewritten and stored per step
MAP_BUDGET_BYTES = 64 * 1024 * 1024  # key bytes the offset map may hold (Kafka's dedupe buffer)


class Plan(NamedTuple):
    """A cleanable range: [first_dirty, end) is dirty; everything from the log start to end is rewritten."""

    first_dirty: int
    end: int
    dirty_ratio: float
    forced: bool  # max.compaction.lag.ms or a delete horizon says clean now, whatever the ratio


def plan(log: PartitionLog, now_ms: int, horizon_due: bool = False) -> Plan | None:
    """Whether and what to clean (Kafka's LogCleanerManager.cleanableOffsets and grabFilthiestCompactedLog)."""
    config = settings(log.topic)
    if not config.compact:
        return None
    closed = log.segments.closed()
    first_dirty = max(log.first_dirty_offset, log.log_start_offset)
    end = min(log.last_stable_offset, closed[-1].next_offset if closed else log.log_start_offset)
    if config.min_compaction_lag_ms > 0:
        for segment in closed:
            if segment.base_offset >= first_dirty and segment.max_timestamp > now_ms - config.min_compaction_lag_ms:
                end = min(end, segment.base_offset)
                break
    candidates = [s for s in closed if s.base_offset < end and s.next_offset <= end]
    if not candidates:
        return None
    end = candidates[-1].next_offset
    clean_bytes = sum(s.size for s in candidates if s.next_offset <= first_dirty)
    dirty = [s for s in candidates if s.next_offset > first_dirty]
    dirty_bytes = sum(s.size for s in dirty)
    total = clean_bytes + dirty_bytes
    ratio = dirty_bytes / total if total else 0.0
    lagging = any(0 <= s.rolling_timestamp < now_ms - config.max_compaction_lag_ms for s in dirty)
    forced = (lagging and dirty_bytes > 0) or horizon_due
    if not forced and not ratio > config.min_cleanable_dirty_ratio:
        return None
    return Plan(first_dirty, end, ratio, forced)


class Cleaning:
    """One clean of one log; drive it with `for _ in cleaning.steps(): ...` (yield points between chunks)."""

    def __init__(self, log: PartitionLog, plan_: Plan, now_ms: int) -> None:
        self.log = log
        self.plan = plan_
        self.now_ms = now_ms
        self.delete_retention_ms = settings(log.topic).delete_retention_ms
        self.bytes_before = 0
        self.bytes_after = 0
        self.next_horizon: int | None = None  # the earliest delete horizon still ahead: when to clean again
        self.aborted = False  # the log changed under the clean (retention, deletion): nothing more written
        self.end = plan_.end
        self._map: dict[bytes, int] = {}
        self._latest = -1

    def steps(self) -> Iterator[None]:
        yield from self._build_map()
        txns = _TxnTracker(self._aborted_txns())
        segments = [s for s in self.log.segments.items if s.next_offset <= self.end]
        for segment in segments:
            yield from self._clean_segment(segment, txns)
            if self.aborted:
                return
        self._finish(segments)

    # ---- phase 1: the offset map over the dirty range ----

    def _build_map(self) -> Iterator[None]:
        aborted = _TxnTracker(self._aborted_txns())
        used = 0
        for segment in [s for s in self.log.segments.closed() if self.plan.first_dirty < s.next_offset <= self.end]:
            for batch in self._batches(max(segment.base_offset, self.plan.first_dirty), segment.next_offset):
                header = read_header(batch)
                if header.is_control or aborted.is_aborted(header):
                    continue
                for record in raw_records(batch)[1]:
                    if record.key is None or record.offset < self.plan.first_dirty:
                        continue
                    if record.key not in self._map:
                        used += len(record.key) + 64
                    self._map[record.key] = record.offset
                yield
            if used > MAP_BUDGET_BYTES:  # the map is full: clean up to here, the rest next time
                self.end = segment.next_offset
                break
        self._latest = self.end - 1  # the map covers the whole range it cleans

    # ---- phase 2: rewrite every segment up to the end of the map ----

    def _clean_segment(self, segment: Segment, txns: _TxnTracker) -> Iterator[None]:
        log = self.log
        size, batches = segment.size, segment.batches  # as stored before this clean
        seen_bytes = seen_batches = kept_bytes = kept_batches = 0
        max_timestamp = -1
        position = segment.base_offset
        while position < segment.next_offset:
            chunk = self._read_chunk(position, segment.next_offset)
            if not chunk:
                break
            last = read_header(chunk[-1])
            chunk_end = min(last.base_offset + last.last_offset_delta + 1, segment.next_offset)
            out = []
            removed = []
            for batch in chunk:
                seen_bytes += len(batch)
                seen_batches += 1
                cleaned = self._clean_batch(batch, txns)
                if cleaned is None:
                    removed.append(read_header(batch).base_offset)
                elif cleaned is not batch:
                    header = read_header(cleaned)
                    out.append((BatchEntry(header.base_offset, header.last_offset_delta, header.max_timestamp,
                                           len(cleaned)), cleaned))
                if cleaned is not None:
                    header = read_header(cleaned)
                    kept_bytes += len(cleaned)
                    kept_batches += 1
                    max_timestamp = max(max_timestamp, header.max_timestamp)
            if not self._still_there(segment):
                self.aborted = True
                return
            # the summary counts the kept batches and the ones not read yet
            summary = Segment(segment.base_offset, segment.next_offset, size - seen_bytes + kept_bytes,
                              batches - seen_batches + kept_batches, segment.max_timestamp,
                              segment.rolling_timestamp, segment.created_ms)
            self._write(removed, out, summary)
            self.bytes_before += sum(len(b) for b in chunk)
            self.bytes_after += kept_bytes_in(chunk, removed, out)
            position = chunk_end
            yield
        if kept_batches and max_timestamp != segment.max_timestamp and self._still_there(segment):
            segment.max_timestamp = max_timestamp  # exact now that every batch was read
            self._write([], [], segment)

    def _write(self, removed: list[int], out, summary: Segment) -> None:
        """One atomic replacement: removed batches deleted, rewritten ones stored, the segment's new summary."""
        log = self.log
        log.storage.rewrite(log.topic.topic_id, log.index, delete_batches=removed, batches=out,
                            segments=[summary.record()] if summary.batches else [],
                            delete_segments=[] if summary.batches else [summary.base_offset],
                            log_start_offset=log.log_start_offset, first_dirty_offset=log.first_dirty_offset)
        for segment in log.segments.items:
            if segment.base_offset == summary.base_offset and segment is not summary:
                segment.size, segment.batches = summary.size, summary.batches
                segment.max_timestamp = summary.max_timestamp

    def _clean_batch(self, batch: bytes, txns: _TxnTracker) -> bytes | None:
        """The batch as it stays (itself, rebuilt, or None: removed). Kafka's filterTo with the cleaner's filter."""
        header = read_header(batch)
        horizon = delete_horizon(header)
        if header.is_control:
            discardable = txns.on_marker(header, batch)
            if not discardable:
                return batch
            if horizon is None:  # its transaction has no data left: keep it until delete.retention.ms
                return self._with_new_horizon(header, batch)
            return None if horizon <= self.now_ms else self._note_horizon(horizon, batch)
        if txns.on_data(header):
            return None  # aborted transactional data
        _, records = raw_records(batch)
        retain_deletes = horizon is None or self.now_ms < horizon
        kept = [r for r in records if self._retain(r, retain_deletes)]
        if not kept:
            return None
        tombstones = any(not r.has_value for r in kept)
        if tombstones and horizon is None:
            new_horizon = self.now_ms + self.delete_retention_ms
            self._remember(new_horizon)
            return rebuild(header, kept, horizon=new_horizon)
        if tombstones:
            self._remember(horizon)
        if len(kept) == len(records):
            return batch
        return rebuild(header, kept)

    def _retain(self, record, retain_deletes: bool) -> bool:
        """Kafka's Cleaner.shouldRetainRecord."""
        if record.offset > self._latest:
            return True
        if record.key is None:
            return False  # keyless records have no place in a compacted log
        if record.offset < self._map.get(record.key, -1):
            return False
        return record.has_value or retain_deletes

    def _with_new_horizon(self, header, batch: bytes) -> bytes:
        _, records = raw_records(batch)
        new_horizon = self.now_ms + self.delete_retention_ms
        self._remember(new_horizon)
        return rebuild(header, records, horizon=new_horizon)

    def _note_horizon(self, horizon: int, batch: bytes) -> bytes:
        self._remember(horizon)
        return batch

    def _remember(self, horizon: int) -> None:
        if self.next_horizon is None or horizon < self.next_horizon:
            self.next_horizon = horizon

    # ---- helpers ----

    def _finish(self, segments: list[Segment]) -> None:
        """Drop emptied segments, merge small neighbours (Kafka's groupSegmentsBySize: a summary change
        only, the batches stay where they are) and move the first dirty offset (persisted) to the end."""
        log = self.log
        emptied = [s for s in segments if s.batches == 0 and self._still_there(s)]
        live = [s for s in segments if s.batches and self._still_there(s)]
        merged, gone = _merge(live, settings(log.topic).segment_bytes)
        first_dirty = max(log.first_dirty_offset, self.end)
        log.storage.rewrite(log.topic.topic_id, log.index,
                            delete_segments=[s.base_offset for s in emptied + gone],
                            segments=[m.record() for m in merged],
                            log_start_offset=log.log_start_offset, first_dirty_offset=first_dirty)
        for segment in emptied + gone:
            log.segments.remove(segment)
        log.first_dirty_offset = first_dirty

    def _still_there(self, segment: Segment) -> bool:
        return any(s is segment for s in self.log.segments.items) and not self.log.topic.deleted

    def _batches(self, start: int, end: int) -> Iterator[bytes]:
        position = start
        while position < end:
            chunk = self._read_chunk(position, end)
            if not chunk:
                return
            yield from chunk
            last = read_header(chunk[-1])
            position = last.base_offset + last.last_offset_delta + 1

    def _read_chunk(self, start: int, end: int) -> list[bytes]:
        log = self.log
        return log.storage.read_from(log.topic.topic_id, log.index, start, end, CHUNK_BYTES)

    def _aborted_txns(self) -> list[AbortedTxn]:
        return sorted(self.log.transactions.aborted_txns(), key=lambda txn: txn.first_offset)


def _merge(segments: list[Segment], segment_bytes: int) -> tuple[list[Segment], list[Segment]]:
    """Merge runs of consecutive cleaned segments while they fit in segment_bytes: the first segment of
    each run grows in place (returned as updated), the others go (returned as gone)."""
    updated, gone = [], []
    head = None
    for segment in segments:
        if head is not None and head.size + segment.size <= segment_bytes and \
                segment.next_offset - head.base_offset <= INT32_MAX:
            head.next_offset = segment.next_offset
            head.size += segment.size
            head.batches += segment.batches
            head.max_timestamp = max(head.max_timestamp, segment.max_timestamp)
            gone.append(segment)
            if not updated or updated[-1] is not head:
                updated.append(head)
        else:
            head = segment
    return updated, gone


def kept_bytes_in(chunk: list[bytes], removed: list[int], out) -> int:
    """Bytes of a chunk's batches after cleaning: the untouched ones plus the rewritten ones."""
    rewritten = {entry.base_offset for entry, _ in out}
    gone = set(removed) | rewritten
    untouched = sum(len(b) for b in chunk if read_header(b).base_offset not in gone)
    return untouched + sum(entry.size for entry, _ in out)


class _TxnTracker:
    """Kafka's CleanedTransactionMetadata: which transactional batches are aborted, and which markers
    can go (no batch of their transaction is left)."""

    def __init__(self, aborted: list[AbortedTxn]) -> None:
        self._pending = aborted  # by first offset
        self._next = 0
        self._ongoing_aborted: dict[int, list] = {}  # producer id -> [txn, saw a batch]
        self._ongoing_committed: set[int] = set()

    def _consume_up_to(self, offset: int) -> None:
        while self._next < len(self._pending) and self._pending[self._next].first_offset <= offset:
            txn = self._pending[self._next]
            self._ongoing_aborted[txn.producer_id] = [txn, False]
            self._next += 1

    def is_aborted(self, header) -> bool:
        """For the offset map: is this data batch part of an aborted transaction (no marker tracking)."""
        if not header.is_transactional:
            return False
        self._consume_up_to(header.last_offset)
        entry = self._ongoing_aborted.get(header.producer_id)
        if entry is not None and header.base_offset > entry[0].last_offset:
            del self._ongoing_aborted[header.producer_id]
            entry = None
        return entry is not None

    def on_data(self, header) -> bool:
        """A data batch read in the clean: True if it is aborted data (to discard)."""
        self._consume_up_to(header.last_offset)
        if not header.is_transactional:
            return False
        entry = self._ongoing_aborted.get(header.producer_id)
        if entry is not None:
            entry[1] = True
            return True
        self._ongoing_committed.add(header.producer_id)
        return False

    def on_marker(self, header, batch: bytes) -> bool:
        """A control batch: True if its transaction has no batch left, so the marker may go."""
        self._consume_up_to(header.last_offset)
        records = raw_records(batch)[1]
        kind = int.from_bytes(records[0].key[2:4], "big") if records and records[0].key else -1
        if kind == CONTROL_ABORT:
            entry = self._ongoing_aborted.pop(header.producer_id, None)
            return not (entry is not None and entry[1])
        if kind == CONTROL_COMMIT:
            if header.producer_id in self._ongoing_committed:
                self._ongoing_committed.discard(header.producer_id)
                return False
            return True
        return False

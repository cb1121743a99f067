"""Segments: a partition's batches grouped in runs, Kafka's unit of retention and compaction.

Ottla stores batches, not files, but Kafka's segment rules decide what may be removed: appends go
to the active (last) segment, which rolls when the next batch would take it past segment.bytes, or
when that batch's max timestamp is segment.ms past the segment's first batch (Kafka's
LogSegment.shouldRoll; the wall clock when no batch has a timestamp). Only closed segments are
deleted by retention or rewritten by the cleaner, so the active tail is never touched.

Only the segment summaries live in memory (a few per partition, whatever the number of batches):
finding a batch by offset is a RocksDB seek, and a timestamp lookup reads the index entries of the
one segment whose timestamps can hold the answer.

Persisted summaries: a new segment's is written with its first batch, a closing segment's whole when
it closes (a roll), the active segment's only every SAVE_EVERY batches (one key fewer for most
appends: a third of the keys a Produce writes). So the stored summary of the active segment may miss
its last batches (fewer than SAVE_EVERY); opening adds them back from their index entries, which are
stored with each batch (`SegmentList.catch_up`). Every closed segment's summary is whole.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence

from partitions.storage import BatchEntry, SegmentRecord

NO_TIMESTAMP = -1
INT32_MAX = 2**31 - 1  # Kafka's relative offsets within a segment are int32
SAVE_EVERY = 32  # batches the active segment takes between two writes of its summary (see above)


class Segment:
    """One segment's summary (mutable; `record()` is what is persisted)."""

    __slots__ = ("base_offset", "next_offset", "size", "batches", "max_timestamp", "rolling_timestamp",
                 "created_ms", "unsaved")

    def __init__(self, base_offset: int, next_offset: int, size: int, batches: int, max_timestamp: int,
                 rolling_timestamp: int, created_ms: int, unsaved: int = 0) -> None:
        self.base_offset = base_offset
        self.next_offset = next_offset
        self.size = size
        self.batches = batches
        self.max_timestamp = max_timestamp
        self.rolling_timestamp = rolling_timestamp
        self.created_ms = created_ms
        self.unsaved = unsaved  # batches added since its summary was last stored (not persisted itself)

    @classmethod
    def of(cls, record: SegmentRecord) -> Segment:
        return cls(*record)

    @classmethod
    def first(cls, entry: BatchEntry, now_ms: int) -> Segment:
        return cls(entry.base_offset, entry.base_offset + entry.last_offset_delta + 1, entry.size, 1,
                   entry.max_timestamp, entry.max_timestamp, now_ms)

    def record(self) -> SegmentRecord:
        return SegmentRecord(self.base_offset, self.next_offset, self.size, self.batches, self.max_timestamp,
                             self.rolling_timestamp, self.created_ms)

    def copy(self) -> Segment:
        return Segment(self.base_offset, self.next_offset, self.size, self.batches, self.max_timestamp,
                       self.rolling_timestamp, self.created_ms, self.unsaved)

    def add(self, entry: BatchEntry) -> None:
        self.next_offset = entry.base_offset + entry.last_offset_delta + 1
        self.size += entry.size
        self.batches += 1
        self.unsaved += 1
        if entry.max_timestamp > self.max_timestamp:
            self.max_timestamp = entry.max_timestamp

    def should_roll(self, entry: BatchEntry, now_ms: int, segment_bytes: int, segment_ms: int) -> bool:
        """Kafka's LogSegment.shouldRoll for appending `entry` (no jitter)."""
        if self.size > segment_bytes - entry.size:
            return True
        if self.rolling_timestamp >= 0:
            waited = entry.max_timestamp - self.rolling_timestamp
        else:
            waited = now_ms - self.created_ms
        if self.size > 0 and waited > segment_ms:
            return True
        return entry.base_offset + entry.last_offset_delta - self.base_offset > INT32_MAX

    def __repr__(self) -> str:
        return f"Segment([{self.base_offset}, {self.next_offset}), {self.size} B, {self.batches} batches)"


class Staged:
    """An append's effect on the segments, applied by `commit()` once storage has the write."""

    __slots__ = ("_segments", "_active", "_new", "_saved")

    def __init__(self, segments: SegmentList, active: Segment | None, new: list[Segment],
                 saved: list[Segment]) -> None:
        self._segments = segments
        self._active = active  # a copy of the existing active segment, updated (None: untouched)
        self._new = new
        self._saved = saved  # the segments whose summaries this write stores

    def records(self) -> list[SegmentRecord]:
        return [segment.record() for segment in self._saved]

    def commit(self) -> None:
        segments = self._segments
        for segment in self._saved:
            segment.unsaved = 0
        if self._active is not None:
            segments.items[-1] = self._active
        if self._new:
            segments.items.extend(self._new)
            segments.bases.extend(segment.base_offset for segment in self._new)
            segments.roll_pending = False


class Grown:
    """Staged's common case, the same effect without a copy: one batch added to the active segment, whose
    summary this write does not store."""

    __slots__ = ("_segment", "_entry")

    def __init__(self, segment: Segment, entry: BatchEntry) -> None:
        self._segment, self._entry = segment, entry

    def records(self) -> list[SegmentRecord]:
        return []

    def commit(self) -> None:
        self._segment.add(self._entry)


class SegmentList:
    """A partition's segments in offset order; the last one is active unless a roll is pending."""

    def __init__(self, records: Iterable[SegmentRecord] = ()) -> None:
        self.items = [Segment.of(record) for record in records]
        self.bases = [segment.base_offset for segment in self.items]
        self.roll_pending = False  # the next append starts a new segment (retention rolled the active one)

    def stage(self, entries: Sequence[BatchEntry], now_ms: int, segment_bytes: int, segment_ms: int) -> Staged | Grown:
        last = self.items[-1] if self.items else None
        if len(entries) == 1 and last is not None and not self.roll_pending and last.unsaved < SAVE_EVERY - 1 \
                and not last.should_roll(entries[0], now_ms, segment_bytes, segment_ms):
            return Grown(last, entries[0])  # the usual append: one batch into the active segment, nothing stored
        active = last.copy() if last is not None and not self.roll_pending else None
        touched_active = None
        new: list[Segment] = []
        for entry in entries:
            current = new[-1] if new else active
            if current is None or current.should_roll(entry, now_ms, segment_bytes, segment_ms):
                new.append(Segment.first(entry, now_ms))
                continue
            current.add(entry)
            if current is active:
                touched_active = active
        saved = list(new)  # new segments: stored with their first batches
        if new:  # a roll: the segment closing now is stored whole (only the active one may lag)
            if active is not None and active.unsaved:
                touched_active = active
                saved.append(active)
            elif active is None and last is not None and last.unsaved:  # closed by retention's roll()
                saved.append(last)
        elif touched_active is not None and touched_active.unsaved >= SAVE_EVERY:
            saved.append(touched_active)
        return Staged(self, touched_active, new, saved)

    def catch_up(self, entries: Iterable[BatchEntry]) -> None:
        """On open: the index entries stored after the last segment's stored summary (its last batches,
        fewer than SAVE_EVERY) are added to it, as they were when appended."""
        if self.items:
            last = self.items[-1]
            for entry in entries:
                last.add(entry)

    @property
    def next_offset(self) -> int | None:
        return self.items[-1].next_offset if self.items else None

    def closed(self) -> list[Segment]:
        """The segments retention and the cleaner may touch: all but the active one."""
        return list(self.items) if self.roll_pending else self.items[:-1]

    def roll(self) -> None:
        """Close the active segment: the next append starts a new one (Kafka's roll on retention)."""
        if self.items:
            self.roll_pending = True

    def drop_before(self, offset: int) -> list[Segment]:
        """Remove and return the leading segments that end at or before offset."""
        count = 0
        while count < len(self.items) and self.items[count].next_offset <= offset:
            count += 1
        dropped = self.items[:count]
        del self.items[:count], self.bases[:count]
        if not self.items:
            self.roll_pending = False
        return dropped

    def remove(self, segment: Segment) -> None:
        """Forget a segment the cleaner emptied."""
        for i, item in enumerate(self.items):
            if item is segment:
                del self.items[i], self.bases[i]
                return

    def replace(self, start: int, end: int, segments: Sequence[Segment]) -> None:
        """Swap the segments whose base offset is in [start, end) for `segments` (a cleaner's output)."""
        lo = bisect_right(self.bases, start - 1)
        hi = bisect_right(self.bases, end - 1)
        self.items[lo:hi] = segments
        self.bases[lo:hi] = [segment.base_offset for segment in segments]

    def containing(self, offset: int) -> int:
        """Index of the segment holding offset (the last one starting at or before it), or -1."""
        return bisect_right(self.bases, offset) - 1

    @property
    def size(self) -> int:
        return sum(segment.size for segment in self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

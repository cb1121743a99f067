"""SharePartition: one share group's view of one topic partition (KIP-932), sans-IO, driven by now_ms.

The share-partition start offset (SPSO, `start`) and, from it, the in-flight window `[start, end)`:
each offset in it has a `RecordState` and a delivery count. Offsets at or past `end` are Available
and were never delivered. Kafka's rules (`SharePartition.java`, `InFlightState.java`):

- ShareFetch acquires Available records for a member under an acquisition lock (delivery count + 1).
  New records are acquired only while the window holds fewer than `partition_max_record_locks`.
- Accept -> Acknowledged; Release -> Available; Reject -> Archived; Gap -> Archived (an offset with no
  record); Renew (v2) -> the lock starts again. Only the member holding a record may acknowledge it
  (INVALID_RECORD_STATE otherwise), and one acknowledgement of a partition is applied whole or not at all.
- A lock that expires, and a member that leaves or is fenced, makes its records Available again.
- A record that would become Available with its delivery count at `delivery_count_limit` is archived.
- With a dead-letter topic, a rejected or over-delivered record goes to Archiving instead, and is
  reported in `dead_letters`; the owner writes it to the DLQ topic and calls `archive_dead_letters`
  once that write is durable. Archiving holds the SPSO back, so nothing is lost between the two.
- The SPSO moves past every leading Acknowledged/Archived offset.

`snapshot()`/`restore()` give the persisted form: the SPSO and the window with Acquired written as
Available with its delivery count (a broker restart ends every lock, as in Kafka).
"""

from __future__ import annotations

import enum
import heapq
import itertools
import struct
import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from wire.errors import ErrorCode, KafkaError


class RecordState(enum.IntEnum):
    AVAILABLE = 0
    ACQUIRED = 1
    ACKNOWLEDGED = 2
    ARCHIVING = 3
    ARCHIVED = 4


class AcknowledgeType(enum.IntEnum):
    GAP = 0
    ACCEPT = 1
    RELEASE = 2
    REJECT = 3
    RENEW = 4


class AcquireMode(enum.IntEnum):
    BATCH_OPTIMIZED = 0  # may exceed max_records to end on a batch boundary
    RECORD_LIMIT = 1  # never more than max_records (KIP-1206)


AVAILABLE, ACQUIRED, ACKNOWLEDGED, ARCHIVING, ARCHIVED = (int(s) for s in RecordState)
_TERMINAL = bytes([ACKNOWLEDGED, ARCHIVED])
_PERSISTED = bytes.maketrans(bytes([ACQUIRED]), bytes([AVAILABLE]))  # a restart ends every lock
MAX_DELIVERY_COUNT = 0x7FFF


class AcquiredRecords(NamedTuple):
    first_offset: int
    last_offset: int
    delivery_count: int


class DeadLetter(NamedTuple):
    offset: int
    delivery_count: int
    reason: str  # __dlq.errors.message


REJECTED = "Offset rejected by client."
DELIVERY_LIMIT = "Offset delivery count exceeded the threshold."


@dataclass(eq=False, slots=True)
class Lock:
    """One acquisition: the member holding it, until when, and the offsets it may still hold."""

    member_id: str
    deadline_ms: int
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class Limits:
    """The group configs a share partition obeys (read per call: they may change at any time)."""

    record_lock_duration_ms: int = 30000
    delivery_count_limit: int = 5
    partition_max_record_locks: int = 2000
    dead_letter_topic: bool = False  # a DLQ is configured: rejected/over-delivered records pass Archiving


class SharePartition:
    def __init__(self, start_offset: int) -> None:
        self.start = start_offset
        self._states = bytearray()  # the state of offset start + i
        self._counts = array("h")  # its delivery count
        self._locks: list[Lock | None] = []  # its lock: set exactly when it is Acquired
        self._heap: list[tuple[int, int, Lock]] = []
        self._seq = itertools.count()
        self.dead_letters: list[DeadLetter] = []  # Archiving, waiting for their DLQ write
        self.dirty = False  # changed since the owner last persisted it

    # -- queries

    @property
    def end(self) -> int:
        return self.start + len(self._states)

    def state(self, offset: int) -> RecordState:
        if offset >= self.end:
            return RecordState.AVAILABLE
        if offset < self.start:
            return RecordState.ARCHIVED  # below the SPSO: done with, whether acknowledged or archived
        return RecordState(self._states[offset - self.start])

    def delivery_count(self, offset: int) -> int:
        return self._counts[offset - self.start] if self.start <= offset < self.end else 0

    def holder(self, offset: int) -> str | None:
        if not self.start <= offset < self.end or self._states[offset - self.start] != ACQUIRED:
            return None
        return self._locks[offset - self.start].member_id

    def next_fetch_offset(self) -> int:
        """The first offset a fetch could acquire: the first Available in the window, else the end."""
        i = self._states.find(AVAILABLE)
        return self.start + i if i >= 0 else self.end

    def has_available(self, log_end: int) -> bool:
        return self._states.find(AVAILABLE) >= 0 or self.end < log_end

    def in_flight(self) -> int:
        return len(self._states)

    def state_counts(self) -> dict[RecordState, int]:
        """How many offsets of the in-flight window are in each state (the console and /metrics)."""
        states = self._states
        return {state: states.count(int(state)) for state in RecordState}

    def terminal_in_flight(self) -> int:
        return self._states.count(ACKNOWLEDGED) + self._states.count(ARCHIVED)

    def next_deadline(self) -> int | None:
        heap = self._heap
        while heap and not self._lock_live(heap[0][2]):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    # -- ShareFetch

    def acquire(self, member_id: str, batches: Sequence[tuple[int, int]], *, max_records: int, now_ms: int,
                limits: Limits, mode: AcquireMode = AcquireMode.BATCH_OPTIMIZED) -> list[AcquiredRecords]:
        """Acquire Available records within `batches` ((first, last offset[, skip]) of the log batches read
        from `next_fetch_offset()`, in offset order) for member_id; the acquired ranges, offset order.
        A batch marked skip (transaction markers; aborted records under read_committed) is archived."""
        if max_records <= 0:
            return []
        lock = Lock(member_id, now_ms + limits.record_lock_duration_ms, -1, -1)
        acquired: list[AcquiredRecords] = []
        taken = 0
        record_limit = mode is AcquireMode.RECORD_LIMIT
        capacity = limits.partition_max_record_locks
        for batch in batches:
            base, last = batch[0], batch[1]
            if taken >= max_records:
                break
            first = max(base, self.start)
            if first > last:
                continue
            if len(batch) > 2 and batch[2]:
                self._archive_available(first, last)  # a control batch, or an aborted one: never delivered
                continue
            if first >= self.end and self.in_flight() >= capacity:
                break  # the window is full: no new records until the SPSO moves on
            # Available records already in the window (released, or their lock ran out): one by one.
            states, counts, locks = self._states, self._counts, self._locks
            i, stop = first - self.start, min(last + 1, self.end) - self.start
            while i < stop and not (record_limit and taken >= max_records):
                i = states.find(AVAILABLE, i, stop)
                if i < 0:
                    break
                if counts[i] >= limits.delivery_count_limit:  # delivered as often as allowed (a restart, a lower limit)
                    self._archive(i, limits, DELIVERY_LIMIT)
                    self.dirty = True
                    i += 1
                    continue
                count = min(counts[i] + 1, MAX_DELIVERY_COUNT)
                states[i], counts[i], locks[i] = ACQUIRED, count, lock
                _append(acquired, self.start + i, 1, count)
                taken += 1
                i += 1
            # Records never delivered, past the window's end: in bulk.
            new = max(first, self.end)
            if new > last:
                continue
            if new > self.end:
                self._grow(new - self.end, ARCHIVED)  # offsets between batches hold no record
            n = last - new + 1
            if record_limit:
                n = min(n, max_records - taken, capacity - self.in_flight())
            if n <= 0:
                continue
            self._states.extend(bytes([ACQUIRED]) * n)
            self._counts.extend(_ONES[:n] if n <= len(_ONES) else array("h", [1]) * n)
            self._locks.extend([lock] * n)
            _append(acquired, new, n, 1)
            taken += n
        if acquired:
            lock.first, lock.last = acquired[0].first_offset, acquired[-1].last_offset
            heapq.heappush(self._heap, (lock.deadline_ms, next(self._seq), lock))
            self.dirty = True
        self._advance()
        return acquired

    # -- ShareFetch / ShareAcknowledge acknowledgements

    def acknowledge(self, member_id: str, batches: Sequence[tuple[int, int, Sequence[int]]], *, now_ms: int,
                    limits: Limits, allow_renew: bool = False) -> None:
        """Apply (first_offset, last_offset, acknowledge_types) batches, all or none. Raises KafkaError:
        INVALID_REQUEST for a malformed batch, INVALID_RECORD_STATE for an offset member_id does not hold."""
        planned: list[tuple[int, int, Sequence[int]]] = []
        for first, last, types in batches:
            if first > last or first < 0:
                raise KafkaError(ErrorCode.INVALID_REQUEST, f"Invalid acknowledgement batch: first offset {first}, "
                                                            f"last offset {last}")
            if len(types) not in (1, last - first + 1):
                raise KafkaError(ErrorCode.INVALID_REQUEST, "The number of acknowledge types must be 1 or match "
                                                            "the number of offsets in the batch")
            for t in set(types):
                if not 0 <= t <= 4 or (t == AcknowledgeType.RENEW and not allow_renew):
                    raise KafkaError(ErrorCode.INVALID_REQUEST, f"Invalid acknowledge type: {t}")
            i, j = first - self.start, last + 1 - self.start
            if i < 0 or j > len(self._states) or not self._held_by(member_id, i, j):
                offset = next(o for o in range(first, last + 1) if self.holder(o) != member_id)
                raise KafkaError(ErrorCode.INVALID_RECORD_STATE,
                                 f"The record at offset {offset} is not acquired by member {member_id}; "
                                 f"it is {self.state(offset).name}")
            planned.append((i, j, types))
        renewed: Lock | None = None
        for i, j, types in planned:
            if len(types) == 1:
                runs = [(i, j, types[0])]
            else:
                runs = [(i + k, i + k + 1, t) for k, t in enumerate(types)]
            for lo, hi, ack in runs:
                n = hi - lo
                if ack == AcknowledgeType.ACCEPT or ack == AcknowledgeType.GAP:
                    self._states[lo:hi] = bytes([ACKNOWLEDGED if ack == AcknowledgeType.ACCEPT else ARCHIVED]) * n
                    self._locks[lo:hi] = [None] * n
                elif ack == AcknowledgeType.RELEASE and max(self._counts[lo:hi]) < limits.delivery_count_limit:
                    self._states[lo:hi] = bytes([AVAILABLE]) * n
                    self._locks[lo:hi] = [None] * n
                elif ack == AcknowledgeType.RELEASE:
                    for k in range(lo, hi):
                        self._release(k, limits)
                elif ack == AcknowledgeType.REJECT:
                    for k in range(lo, hi):
                        self._archive(k, limits, REJECTED)
                else:
                    if renewed is None:
                        renewed = Lock(member_id, now_ms + limits.record_lock_duration_ms, self.start + lo,
                                       self.start + hi - 1)
                        heapq.heappush(self._heap, (renewed.deadline_ms, next(self._seq), renewed))
                    renewed.first = min(renewed.first, self.start + lo)
                    renewed.last = max(renewed.last, self.start + hi - 1)
                    self._locks[lo:hi] = [renewed] * n
        if planned:
            self.dirty = True
        self._advance()

    def _archive_available(self, first: int, last: int) -> None:
        i, stop = first - self.start, min(last + 1, self.end) - self.start
        while i < stop and (i := self._states.find(AVAILABLE, i, stop)) >= 0:
            self._states[i] = ARCHIVED
            i += 1
        new = max(first, self.end)
        if new <= last:
            self._grow(last + 1 - self.end, ARCHIVED)
        self.dirty = True

    def _held_by(self, member_id: str, i: int, j: int) -> bool:
        """Whether every offset start+i .. start+j-1 is Acquired by member_id."""
        if self._states.count(ACQUIRED, i, j) != j - i:
            return False
        return all(lock.member_id == member_id for lock in set(self._locks[i:j]))

    def release_member(self, member_id: str, limits: Limits) -> int:
        """The member left or was fenced: every record it holds is released at once; how many."""
        released = 0
        for i, state in enumerate(self._states):
            if state == ACQUIRED and self._locks[i].member_id == member_id:
                self._release(i, limits)
                released += 1
        if released:
            self.dirty = True
            self._advance()
        return released

    def expire_locks(self, now_ms: int, limits: Limits) -> int:
        """Release the records of every lock due by now_ms; how many records."""
        released = 0
        heap = self._heap
        while heap and heap[0][0] <= now_ms:
            _, _, lock = heapq.heappop(heap)
            for offset in range(max(lock.first, self.start), min(lock.last + 1, self.end)):
                i = offset - self.start
                if self._states[i] == ACQUIRED and self._locks[i] is lock:
                    self._release(i, limits)
                    released += 1
        if released:
            self.dirty = True
            self._advance()
        return released

    def archive_dead_letters(self, offsets: Sequence[int]) -> None:
        """The DLQ write of these Archiving records is durable (or was given up): they are Archived."""
        done = set(offsets)
        self.dead_letters = [d for d in self.dead_letters if d.offset not in done]
        for offset in done:
            if self.start <= offset < self.end and self._states[offset - self.start] == ARCHIVING:
                self._states[offset - self.start] = ARCHIVED
        self.dirty = True
        self._advance()

    # -- offsets admin and retention

    def reset(self, start_offset: int) -> None:
        """AlterShareGroupOffsets: start over at start_offset with nothing in flight."""
        self.start = start_offset
        self._states.clear()
        del self._counts[:]
        self._locks.clear()
        self._heap.clear()
        self.dead_letters.clear()
        self.dirty = True

    def advance_start_to(self, log_start_offset: int) -> None:
        """Records below the log start offset are gone (retention, DeleteRecords): the SPSO follows."""
        if log_start_offset <= self.start:
            return
        drop = min(log_start_offset - self.start, len(self._states))
        del self._states[:drop], self._counts[:drop], self._locks[:drop]
        self.start = log_start_offset
        self.dead_letters = [d for d in self.dead_letters if d.offset >= log_start_offset]
        self.dirty = True
        self._advance()

    # -- persistence

    _HEADER = struct.Struct(">bqI")  # version, SPSO, records in the window

    def snapshot(self) -> bytes:
        """The persisted form: SPSO, then the window's states (one byte each, Acquired written as
        Available) and delivery counts (int16 big-endian each)."""
        counts = array("h", self._counts)
        if sys.byteorder == "little":
            counts.byteswap()
        return (self._HEADER.pack(1, self.start, len(self._states)) + self._states.translate(_PERSISTED)
                + counts.tobytes())

    @classmethod
    def restore(cls, data: bytes, limits: Limits | None = None) -> "SharePartition":
        """A partition from `snapshot()` bytes; Archiving records come back in `dead_letters`. With the
        group's limits, an Available record already delivered delivery_count_limit times is archived
        (dead-lettered with a DLQ): it was acquired at its last delivery when the broker stopped."""
        _, start, n = cls._HEADER.unpack_from(data)
        partition = cls(start)
        pos = cls._HEADER.size
        partition._states = bytearray(data[pos:pos + n])
        counts = array("h")
        counts.frombytes(data[pos + n:pos + 3 * n])
        if sys.byteorder == "little":
            counts.byteswap()
        partition._counts = counts
        partition._locks = [None] * n
        if limits is not None:  # acquired at its last delivery when the broker stopped: it is done with
            i = partition._states.find(AVAILABLE)
            while i >= 0:
                if counts[i] >= limits.delivery_count_limit:
                    partition._states[i] = ARCHIVING if limits.dead_letter_topic else ARCHIVED
                i = partition._states.find(AVAILABLE, i + 1)
        i = partition._states.find(ARCHIVING)
        while i >= 0:
            count = counts[i]
            over = limits is not None and count >= limits.delivery_count_limit
            partition.dead_letters.append(DeadLetter(start + i, count, DELIVERY_LIMIT if over else REJECTED))
            i = partition._states.find(ARCHIVING, i + 1)
        partition._advance()
        partition.dirty = False
        return partition

    # -- internals

    def _grow(self, n: int, state: int, count: int = 0) -> None:
        self._states.extend(bytes([state]) * n)
        self._counts.extend(array("h", [count]) * n)
        self._locks.extend([None] * n)

    def _set(self, i: int, state: int) -> None:
        self._states[i] = state
        self._locks[i] = None

    def _release(self, i: int, limits: Limits) -> None:
        if self._counts[i] >= limits.delivery_count_limit:
            self._archive(i, limits, DELIVERY_LIMIT)
        else:
            self._set(i, AVAILABLE)

    def _archive(self, i: int, limits: Limits, reason: str) -> None:
        if limits.dead_letter_topic:
            self._set(i, ARCHIVING)
            self.dead_letters.append(DeadLetter(self.start + i, self._counts[i], reason))
        else:
            self._set(i, ARCHIVED)

    def _advance(self) -> None:
        states = self._states
        n = len(states) - len(states.lstrip(_TERMINAL))
        if n:
            del states[:n], self._counts[:n], self._locks[:n]
            self.start += n
            self.dirty = True

    def _lock_live(self, lock: Lock) -> bool:
        """Whether the lock still holds a record (a lock is in `_locks` exactly where it holds one)."""
        lo, hi = max(lock.first - self.start, 0), min(lock.last + 1 - self.start, len(self._locks))
        return lo < hi and any(held is lock for held in set(self._locks[lo:hi]))

    def __repr__(self) -> str:
        return f"SharePartition(start={self.start}, end={self.end})"


_ONES = array("h", [1]) * 4096


def _append(acquired: list[AcquiredRecords], first: int, n: int, count: int) -> None:
    """Add offsets first .. first+n-1 (delivery count `count`) to the acquired ranges, merging with the last."""
    if acquired and acquired[-1].last_offset == first - 1 and acquired[-1].delivery_count == count:
        acquired[-1] = acquired[-1]._replace(last_offset=first + n - 1)
    else:
        acquired.append(AcquiredRecords(first, first + n - 1, count))

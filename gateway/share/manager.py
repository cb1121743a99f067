"""SharePartitionManager: every share partition of every share group, their persistence and lock timers.

Kafka splits this between SharePartitionManager (broker side) and the share coordinator, which keeps
the state in `__share_group_state` through the internal state APIs (83-87). Ottla keeps it in its
own storage instead: one state key per (group, topic id, partition) (`partitions.keys`), holding
`SharePartition.snapshot()`, written in one `put_many` at the end of every request or timer that
changed a partition (`flush`), after any dead letters are durable in their DLQ topic.

Sans-IO: calls take `now_ms`; `tick(now_ms)` fires acquisition-lock expiries (`next_deadline()`
says when). `listeners` are called when records may have become available (a lock expired, a
member released records), so long-polling ShareFetches can look again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import structlog

from gateway.clock import now_ms as clock
from gateway.groups.group import Group
from gateway.groups.timers import Timers
from gateway.share.config import DEAD_LETTER_LEVEL, EARLIEST, LATEST, READ_COMMITTED, ShareConfigs, ShareGroupConfig
from gateway.share.dlq import DeadLetterWriter
from gateway.share.group import ShareGroup
from gateway.share.partition import AcquiredRecords, AcquireMode, Limits, SharePartition
from gateway.share.sessions import MAX_SHARE_SESSIONS, ShareSessionCache
from partitions import keys
from partitions.log import PartitionLog
from wire.errors import ErrorCode, KafkaError
from wire.records import split_batches

Key = tuple[str, bytes, int]  # (group id, topic id, partition)
READ_CHUNK = 1 << 20  # bytes read from the log at a time: a fetch needs max_records, not the whole log
log = structlog.get_logger("ottla.share")


def limits_of(config: ShareGroupConfig, dead_letters: bool = True) -> Limits:
    return Limits(config.record_lock_duration_ms, config.delivery_count_limit, config.partition_max_record_locks,
                  dead_letters and bool(config.dlq_topic_name))


class SharePartitionManager:
    def __init__(self, logs, store, configs: ShareConfigs, *, groups: dict[str, Group] | None = None,
                 share_version: Callable[[], int] = lambda: DEAD_LETTER_LEVEL) -> None:
        self.logs = logs
        self.store = store
        self.configs = configs
        self.groups: dict[str, Group] = {} if groups is None else groups
        self.partitions: dict[Key, SharePartition] = {}
        self.sessions = ShareSessionCache(lambda: configs.broker("group.share.max.share.sessions", MAX_SHARE_SESSIONS))
        self.timers = Timers()
        self.dlq = DeadLetterWriter(logs, configs)
        self.listeners: list[Callable[[], None]] = []
        self.share_version = share_version  # the finalized share.version: dead-letter topics need 2
        self._dirty: set[Key] = set()
        self._wake = False  # acknowledgements since the last flush: waiting fetches should look again
        for key, value in store.scan(keys.SHARE_PARTITION):
            group_id, topic_id, partition = keys.parse_share_partition_key(key)
            config = configs.for_group(group_id)
            self.partitions[group_id, topic_id, partition] = SharePartition.restore(value, limits_of(config))
            if group_id not in self.groups:
                self.groups[group_id] = ShareGroup(group_id)
        self._dirty.update(k for k, p in self.partitions.items() if p.dead_letters)  # re-send on the next flush

    # -- the partitions

    def share_partition(self, group_id: str, log: PartitionLog, config: ShareGroupConfig,
                        now_ms: int) -> SharePartition:
        """The group's share partition of log, initialized by share.auto.offset.reset when it has none."""
        key = (group_id, log.topic.topic_id, log.index)
        partition = self.partitions.get(key)
        if partition is None:
            partition = self.partitions[key] = SharePartition(self._reset_offset(log, config, now_ms))
            partition.dirty = True
            self._dirty.add(key)
        return partition

    @staticmethod
    def _reset_offset(log: PartitionLog, config: ShareGroupConfig, now_ms: int) -> int:
        reset = config.auto_offset_reset
        if reset == EARLIEST:
            return log.log_start_offset
        if reset == LATEST:
            return log.high_watermark
        found = log.offset_for_timestamp(now_ms - int(reset))
        return found[0] if found is not None else log.high_watermark

    # -- ShareFetch / ShareAcknowledge

    def acknowledge(self, group_id: str, member_id: str, log: PartitionLog, batches: Sequence, now_ms: int, *,
                    allow_renew: bool = False) -> None:
        """Apply acknowledgement batches (containers or (first, last, types)); raises KafkaError. Waiting
        fetches are woken at the next flush: records may be available again, or the window has room."""
        key = (group_id, log.topic.topic_id, log.index)
        partition = self.partitions.get(key)
        config = self.configs.for_group(group_id)
        parsed = [_batch(b) for b in batches]
        if partition is None:
            if not parsed:
                return
            raise KafkaError(ErrorCode.INVALID_RECORD_STATE, f"No records of {log} are acquired by member {member_id}.")
        partition.acknowledge(member_id, parsed, now_ms=now_ms, limits=self._limits(config), allow_renew=allow_renew)
        self._touch(key, partition)
        self._wake = True

    def acquire(self, group_id: str, member_id: str, log: PartitionLog, *, max_records: int, max_bytes: int,
                now_ms: int, mode: AcquireMode = AcquireMode.BATCH_OPTIMIZED,
                batch_size: int = 0) -> tuple[bytes, list[AcquiredRecords]]:
        """Acquire up to max_records for the member: (the stored batches holding them, the acquired ranges)."""
        config = self.configs.for_group(group_id)
        limits = self._limits(config)
        partition = self.share_partition(group_id, log, config, now_ms)
        key = (group_id, log.topic.topic_id, log.index)
        if partition.start < log.log_start_offset:
            partition.advance_start_to(log.log_start_offset)
        committed = config.isolation_level == READ_COMMITTED
        upper = log.last_stable_offset if committed else log.high_watermark
        acquired: list[AcquiredRecords] = []
        chunks: list[bytes] = []
        budget = max(max_bytes, 1)
        offset = partition.next_fetch_offset()
        if offset >= partition.end and partition.in_flight() >= limits.partition_max_record_locks:
            offset = upper  # the window is full and nothing in it is available: nothing to read
        while offset < upper and max_records > 0 and budget > 0:
            blob = log.read(offset, min(budget, READ_CHUNK), upper=upper)
            if not blob:
                break
            found = split_batches(blob)
            aborted = log.transactions.aborted_between(offset, found[-1][1].last_offset + 1) if committed else ()
            got = partition.acquire(member_id, [(h.base_offset, h.last_offset, _skipped(h, aborted)) for _, h in found],
                                    max_records=max_records, now_ms=now_ms, limits=limits, mode=mode)
            if got:
                view = memoryview(blob)
                kept = [bytes(view[pos:pos + h.size]) for pos, h in found if _overlaps(h, got)]
                chunks.extend(kept)
                budget -= sum(len(c) for c in kept)
                max_records -= sum(a.last_offset - a.first_offset + 1 for a in got)
                acquired.extend(_cut(got, [h.base_offset for _, h in found], batch_size) if batch_size > 0 else got)
            last_read = found[-1][1].last_offset
            following = partition.next_fetch_offset()
            if following <= last_read:
                break  # nothing more to take here (window full, or the rest is held by others)
            offset = following
        if acquired or partition.dirty:
            self._touch(key, partition)
        return b"".join(chunks), acquired

    def has_available(self, group_id: str, log: PartitionLog) -> bool:
        partition = self.partitions.get((group_id, log.topic.topic_id, log.index))
        return partition is None or partition.has_available(log.high_watermark)

    # -- members and groups going

    def on_member_gone(self, group_id: str, member_id: str) -> None:
        """A member left or was fenced: its records are released at once. Its share session stays (until
        closed, or the group goes): librdkafka sends its last acknowledgements after leaving, and they
        deserve INVALID_RECORD_STATE per partition rather than a lost session."""
        limits = self._limits(self.configs.for_group(group_id))
        released = 0
        for key, partition in self.partitions.items():
            if key[0] == group_id:
                n = partition.release_member(member_id, limits)
                if n:
                    released += n
                    self._touch(key, partition)
        if released:
            log.info("share_member_released", group=group_id, member=member_id, records=released)
        self.flush(notify=bool(released))

    def on_topic_deleted(self, topic_id: bytes) -> None:
        """DeleteTopics: every share group's state for the topic goes (a re-created topic has a new id)."""
        for key in [k for k in self.partitions if k[1] == topic_id]:
            self._forget(key)

    def on_group_deleted(self, group_id: str) -> None:
        """DeleteGroups: the group's share state goes with it."""
        self.sessions.remove_group(group_id)
        for key in [k for k in self.partitions if k[0] == group_id]:
            self._forget(key)

    # -- offsets admin (DescribeShareGroupOffsets / AlterShareGroupOffsets / DeleteShareGroupOffsets)

    def start_offsets(self, group_id: str) -> dict[tuple[bytes, int], SharePartition]:
        return {(t, p): sp for (g, t, p), sp in self.partitions.items() if g == group_id}

    def alter_start_offset(self, group_id: str, log: PartitionLog, start_offset: int) -> None:
        key = (group_id, log.topic.topic_id, log.index)
        partition = self.partitions.setdefault(key, SharePartition(start_offset))
        partition.reset(start_offset)
        self._touch(key, partition)

    def delete_topic_state(self, group_id: str, topic_id: bytes) -> None:
        for key in [k for k in self.partitions if k[0] == group_id and k[1] == topic_id]:
            self._forget(key)

    # -- time

    def tick(self, now_ms: int) -> None:
        if self.timers.run_due(now_ms):
            self.flush(notify=True)

    def next_deadline(self) -> int | None:
        return self.timers.next_deadline()

    # -- persistence

    def flush(self, now_ms: int | None = None, notify: bool = False) -> None:
        """Dead letters first (durable in their DLQ topic), then every changed partition in one write."""
        notify = notify or self._wake
        self._wake = False
        if not self._dirty:
            if notify:
                self._notify()
            return
        now = clock() if now_ms is None else now_ms
        items = []
        for key in list(self._dirty):
            partition = self.partitions.get(key)
            if partition is None:
                continue
            source = self._log(key)
            if source is None:
                self._forget(key)
                continue
            if partition.dead_letters:
                config = self.configs.for_group(key[0])
                letters = list(partition.dead_letters)
                self.dlq.write(key[0], config, source, letters, now)
                partition.archive_dead_letters([letter.offset for letter in letters])
            items.append((keys.share_partition_key(*key), partition.snapshot()))
            partition.dirty = False
            self._rearm(key, partition)
        self._dirty.clear()
        if items:
            self.store.put_many(items)
        if notify:
            self._notify()

    def _limits(self, config: ShareGroupConfig) -> Limits:
        return limits_of(config, self.share_version() >= DEAD_LETTER_LEVEL)

    def _touch(self, key: Key, partition: SharePartition) -> None:
        if partition.dirty:
            self._dirty.add(key)
        self._rearm(key, partition)

    def _rearm(self, key: Key, partition: SharePartition) -> None:
        deadline = partition.next_deadline()
        timer = ("locks", *key)
        if deadline is None:
            self.timers.cancel(timer)
        elif self.timers.deadline(timer) != deadline:
            self.timers.schedule(timer, deadline, lambda at, key=key: self._expire(key, at))

    def _expire(self, key: Key, now_ms: int) -> None:
        partition = self.partitions.get(key)
        if partition is None:
            return
        released = partition.expire_locks(now_ms, self._limits(self.configs.for_group(key[0])))
        if released:
            log.info("share_locks_expired", group=key[0], partition=repr(self._log(key)), records=released)
        self._touch(key, partition)

    def _forget(self, key: Key) -> None:
        self.partitions.pop(key, None)
        self._dirty.discard(key)
        self.timers.cancel(("locks", *key))
        self.store.delete(keys.share_partition_key(*key))

    def _log(self, key: Key) -> PartitionLog | None:
        topic = self.logs.get_by_id(key[1])
        if topic is None or topic.deleted:
            return None
        return topic.partition(key[2])

    def _notify(self) -> None:
        for listener in list(self.listeners):
            listener()

    def group_ids(self) -> Iterable[str]:
        return {key[0] for key in self.partitions}


def _batch(batch) -> tuple[int, int, Sequence[int]]:
    if isinstance(batch, tuple):
        return batch
    return batch.first_offset, batch.last_offset, list(batch.acknowledge_types)


def _cut(acquired: Sequence[AcquiredRecords], bases: Sequence[int], batch_size: int) -> list[AcquiredRecords]:
    """The ranges cut at the first log-batch boundary (a base offset) after every batch_size records."""
    out = []
    for a in acquired:
        first = a.first_offset
        for base in bases:
            if first < base <= a.last_offset and base - first >= batch_size:
                out.append(AcquiredRecords(first, base - 1, a.delivery_count))
                first = base
        out.append(AcquiredRecords(first, a.last_offset, a.delivery_count))
    return out


def _skipped(header, aborted) -> bool:
    """Never handed to a share consumer: transaction markers, and (read_committed) aborted records."""
    if header.is_control:
        return True
    return header.is_transactional and any(
        t.producer_id == header.producer_id and t.first_offset <= header.base_offset <= t.last_offset for t in aborted)


def _overlaps(header, acquired: Sequence[AcquiredRecords]) -> bool:
    return any(a.first_offset <= header.last_offset and header.base_offset <= a.last_offset for a in acquired)

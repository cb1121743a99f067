"""Retention and DeleteRecords: moving a partition's log start offset forward and dropping whole segments.

Kafka's UnifiedLog.deleteOldSegments, segment by segment from the oldest, stopping at the first that
must stay: with cleanup.policy delete, segments whose max timestamp is older than retention.ms, then
segments while the log is bigger than retention.bytes by at least their size; whatever the policy,
segments that end at or below the log start offset (DeleteRecords). The active segment is only
removed when retention.ms expired all of it, and then it is rolled first, as Kafka does. Removal is
one atomic storage write of range deletes (its cost does not depend on how many batches go) that also
persists the new log start offset; `reclaim` then gives the space back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from partitions.log_config import cleanup_policy, settings
from partitions.segments import Segment
from partitions.storage import StorageError
from wire.errors import ErrorCode, KafkaError

if TYPE_CHECKING:
    from partitions.log import PartitionLog

HIGH_WATERMARK = -1  # DeleteRecords' "up to the high watermark"


class Removed:
    """What a removal dropped: the offset range to reclaim on disk."""

    __slots__ = ("start", "end", "segments")

    def __init__(self, start: int, end: int, segments: int) -> None:
        self.start, self.end, self.segments = start, end, segments


def delete_old_segments(log: PartitionLog, now_ms: int) -> Removed | None:
    """One retention check of one partition (Kafka's deleteOldSegments); None when nothing went."""
    config = settings(log.topic)
    checks = [lambda: _deletable(log, _below_log_start(log))]
    if config.delete:
        if config.retention_bytes >= 0:
            checks.append(lambda: _deletable(log, _over_size(log, config.retention_bytes)))
        if config.retention_ms >= 0:
            checks.append(lambda: _deletable(log, _expired(now_ms, config.retention_ms), active_too=True))
    removed = None
    for check in checks:
        doomed = check()
        if doomed:
            step = _remove(log, doomed, log.log_start_offset)
            removed = step if removed is None else Removed(removed.start, step.end, removed.segments + step.segments)
    return removed


def delete_records(log: PartitionLog, offset: int) -> int:
    """DeleteRecords for one partition: the new low watermark (log start offset).

    Raises KafkaError: POLICY_VIOLATION (a compact-only topic), OFFSET_OUT_OF_RANGE (beyond the high
    watermark, or negative), KAFKA_STORAGE_ERROR.
    """
    if "delete" not in cleanup_policy(log.topic):
        raise KafkaError(ErrorCode.POLICY_VIOLATION,
                         f"Records of partition {log} can not be deleted due to the configured policy")
    target = log.high_watermark if offset == HIGH_WATERMARK else offset
    if target < 0 or target > log.high_watermark:
        raise KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE,
                         f"Cannot increment the log start offset to {target} of partition {log} since it is "
                         f"larger than the high watermark {log.high_watermark}" if target >= 0 else
                         f"Cannot increment the log start offset of partition {log} to {target}")
    if target > log.log_start_offset:
        doomed = _deletable(log, lambda segment, next_base: next_base is not None and next_base <= target)
        _remove(log, doomed, target)
    return log.log_start_offset


def _deletable(log: PartitionLog, predicate, *, active_too: bool = False) -> list[Segment]:
    """The leading segments matching predicate(segment, next segment's base offset or None)."""
    segments = log.segments
    items = segments.items
    closed = len(items) if segments.roll_pending else len(items) - 1
    doomed = []
    for i, segment in enumerate(items):
        if i >= closed and not active_too:
            break
        next_base = items[i + 1].base_offset if i + 1 < len(items) else (
            log.log_end_offset if segments.roll_pending else None)
        if not predicate(segment, next_base):
            break
        doomed.append(segment)
    return doomed


def _below_log_start(log: PartitionLog):
    start = log.log_start_offset
    return lambda segment, next_base: next_base is not None and next_base <= start


def _over_size(log: PartitionLog, retention_bytes: int):
    excess = [log.segments.size - retention_bytes]

    def over(segment: Segment, _next_base) -> bool:
        if excess[0] - segment.size >= 0:
            excess[0] -= segment.size
            return True
        return False
    return over


def _expired(now_ms: int, retention_ms: int):
    def expired(segment: Segment, _next_base) -> bool:
        newest = segment.max_timestamp if segment.max_timestamp >= 0 else segment.created_ms
        return now_ms - newest > retention_ms
    return expired


def _remove(log: PartitionLog, doomed: list[Segment], log_start: int) -> Removed | None:
    """Drop the doomed leading segments and move the log start to `log_start` or past them."""
    segments = log.segments
    if doomed and doomed[-1] is segments.items[-1] and not segments.roll_pending:
        segments.roll()  # the active segment goes too: roll first, so appends start a new one
    end = doomed[-1].next_offset if doomed else log_start
    remaining = segments.items[len(doomed)] if len(doomed) < len(segments.items) else None
    new_start = max(log.log_start_offset, log_start, remaining.base_offset if remaining else log.log_end_offset)
    first_dirty = max(log.first_dirty_offset, new_start)
    ranges = [(doomed[0].base_offset, end)] if doomed else []
    try:
        log.storage.rewrite(log.topic.topic_id, log.index, delete=ranges, log_start_offset=new_start,
                            first_dirty_offset=first_dirty, aborted_below=new_start)
    except StorageError as exc:
        raise KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, f"Error while deleting segments of {log}: {exc}") from None
    segments.drop_before(end if doomed else 0)
    log.log_start_offset = new_start
    log.first_dirty_offset = first_dirty
    log.transactions.drop_below(new_start)  # as Kafka deletes a segment's transaction index with it
    return Removed(doomed[0].base_offset, end, len(doomed)) if doomed else None

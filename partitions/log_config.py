"""The topic configs that govern a log's lifecycle (segments, retention, compaction), read as typed values.

Read on every use through `Topic.config` (typed, cached by the topic until its configs change), so a
config changed at run time takes effect at the next append or retention/cleaner pass. What every append
reads (`compacted`, `roll_limits`, the timestamp bounds) is computed here and kept as Topic attributes by
`Topic.refresh`, which runs whenever the topic's configs or the broker's defaults for topics change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from wire.errors import ErrorCode, KafkaError
from wire.records import keyless_record_errors

if TYPE_CHECKING:
    from partitions.topics import Topic


class LogSettings(NamedTuple):
    segment_bytes: int
    segment_ms: int
    retention_ms: int  # -1: no time limit
    retention_bytes: int  # -1: no size limit
    delete: bool  # cleanup.policy contains delete
    compact: bool  # cleanup.policy contains compact
    delete_retention_ms: int
    min_compaction_lag_ms: int
    max_compaction_lag_ms: int
    min_cleanable_dirty_ratio: float


def cleanup_policy(topic: Topic) -> set[str]:
    return set(topic.config("cleanup.policy"))  # a typed list config


def is_compacted(topic: Topic) -> bool:
    return "compact" in topic.config("cleanup.policy")  # (a list: no set built per append)


def refuse_keyless(records: bytes, pos: int, header, where) -> None:
    """A compacted topic's batch with null keys: Kafka's INVALID_RECORD naming each one (KIP-467)."""
    errors = keyless_record_errors(records, pos, header, str(where))
    shown = ", ".join(f"RecordError(batchIndex={i}, message='{m}')" for i, m in errors[:3])
    raise KafkaError(ErrorCode.INVALID_RECORD, f"One or more records have been rejected due to {len(errors)} "
                     f"record errors in total, and only showing the first three errors at most: [{shown}]", errors)


def roll_limits(topic: Topic) -> tuple[int, int]:
    """(segment.bytes, segment.ms) as Kafka's LogConfig.maxSegmentMs has it: a compacted topic rolls at
    max.compaction.lag.ms at the latest, so a segment becomes cleanable in time."""
    segment_ms = int(topic.config("segment.ms"))
    if is_compacted(topic):
        segment_ms = min(segment_ms, int(topic.config("max.compaction.lag.ms")))
    return int(topic.config("segment.bytes")), segment_ms


def settings(topic: Topic) -> LogSettings:
    policy = cleanup_policy(topic)
    segment_bytes, segment_ms = roll_limits(topic)
    return LogSettings(
        segment_bytes=segment_bytes,
        segment_ms=segment_ms,
        retention_ms=int(topic.config("retention.ms")),
        retention_bytes=int(topic.config("retention.bytes")),
        delete="delete" in policy,
        compact="compact" in policy,
        delete_retention_ms=int(topic.config("delete.retention.ms")),
        min_compaction_lag_ms=int(topic.config("min.compaction.lag.ms")),
        max_compaction_lag_ms=int(topic.config("max.compaction.lag.ms")),
        min_cleanable_dirty_ratio=float(topic.config("min.cleanable.dirty.ratio")),
    )

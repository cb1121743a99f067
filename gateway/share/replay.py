"""Moving dead-lettered records back to their source topic: what queue users ask for after fixing a bug.

Kafka has no such command. `replay_dead_letters` reads a DLQ topic from where the last replay stopped
(a cursor per DLQ partition, persisted under `partitions.keys.dlq_replayed_key`), and appends each
dead letter to its source partition (`__dlq.errors.topic` / `__dlq.errors.partition`): the copied key,
value and original headers when the group copied records, else the original record read back from the
source log at `__dlq.errors.offset` (counted as missing when retention removed it). The `__dlq.errors.*`
headers are dropped. The re-appended records are new records at the end of the source partition, so
share groups deliver them again; then the cursor moves past what was replayed.

The append comes before the cursor write: a crash between the two replays those records again on the
next run (at least once, never lost). The CLI (`ottla share-groups replay-dlq`) and the broker's admin
endpoint (`POST /share-groups/replay-dlq`) both call this function.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from gateway.share.dlq import DLQ_HEADERS, H_OFFSET, H_PARTITION, H_TOPIC, iter_records_in
from partitions import keys
from wire.errors import ErrorCode, KafkaError
from wire.records import build_batch

_CURSOR = struct.Struct(">Q")
READ_BYTES = 1 << 20


@dataclass
class ReplayResult:
    dlq_topic: str
    replayed: int = 0
    missing: int = 0  # dead letters whose original record is gone (or that carry no usable headers)
    remaining: int = 0  # dead letters left after --max
    by_source: dict[str, int] = field(default_factory=dict)  # "topic-partition" -> records appended

    def as_dict(self) -> dict:
        return {"dlq_topic": self.dlq_topic, "replayed": self.replayed, "missing": self.missing,
                "remaining": self.remaining, "by_source": dict(sorted(self.by_source.items()))}


def replay_dead_letters(logs, store, dlq_topic: str, *, now_ms: int, max_records: int | None = None,
                        source_topic: str | None = None) -> ReplayResult:
    """Replay the DLQ topic's dead letters (those for source_topic only, when given); raises KafkaError
    UNKNOWN_TOPIC_OR_PARTITION for a DLQ topic that does not exist."""
    topic = logs.get(dlq_topic)
    if topic is None:
        raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"Topic '{dlq_topic}' does not exist.")
    result = ReplayResult(dlq_topic)
    budget = max_records if max_records is not None and max_records >= 0 else None
    for dlq in topic.partitions:
        cursor_key = keys.dlq_replayed_key(topic.topic_id, dlq.index)
        stored = dict(store.scan(cursor_key)).get(cursor_key)
        position = max(_CURSOR.unpack(stored)[0] if stored else 0, dlq.log_start_offset)
        pending: dict[tuple[str, int], list] = {}
        while position < dlq.high_watermark and (budget is None or budget > 0):
            blob = dlq.read(position, READ_BYTES)
            if not blob:
                break
            for record in iter_records_in(blob):
                if record.offset < position:
                    continue
                if budget is not None and budget <= 0:
                    break
                position = record.offset + 1
                headers = dict(record.headers)
                source = _source(headers)
                if source is not None and source_topic is not None and source[0] != source_topic:
                    continue
                copy = _copy_of(logs, record, source, headers) if source is not None else None
                if copy is None:
                    result.missing += 1
                    continue
                pending.setdefault(source[:2], []).append((*copy, now_ms))
                if budget is not None:
                    budget -= 1
        result.remaining += dlq.high_watermark - position
        for (name, index), records in pending.items():
            logs.partition(name, index).append(build_batch(records), now_ms)
            result.replayed += len(records)
            result.by_source[f"{name}-{index}"] = result.by_source.get(f"{name}-{index}", 0) + len(records)
        store.put(cursor_key, _CURSOR.pack(position))
    return result


def _source(headers: dict) -> tuple[str, int, int] | None:
    try:
        return (headers[H_TOPIC].decode("utf-8"), int(headers[H_PARTITION]), int(headers[H_OFFSET]))
    except (KeyError, ValueError, AttributeError, UnicodeDecodeError):
        return None


def _copy_of(logs, record, source: tuple[str, int, int], headers: dict):
    """(key, value, headers) to append to the source partition, or None when that partition or record is gone."""
    topic = logs.get(source[0])
    log = topic.partition(source[1]) if topic is not None else None
    if log is None:
        return None
    original_headers = [(k, v) for k, v in record.headers if k not in DLQ_HEADERS]
    if record.key is not None or record.value is not None:
        return record.key, record.value, original_headers
    offset = source[2]
    if not log.log_start_offset <= offset < log.high_watermark:
        return None
    for original in iter_records_in(log.read(offset, 1)):
        if original.offset == offset:
            return original.key, original.value, list(original.headers)
    return None

"""Dead-letter topics for share groups (KIP-1191): where a rejected or over-delivered record goes.

A group opts in with `errors.deadletterqueue.topic.name`; the topic opts in with
`errors.deadletterqueue.group.enable=true`. Kafka's checks, in its order: a name is set; it does not
start with `__`; an existing topic has the opt-in; the name starts with the broker's
`errors.deadletterqueue.topic.name.prefix` (default `dlq.`, empty: any name); a missing topic is
created only with `errors.deadletterqueue.auto.create.topics.enable` (and gets the opt-in).

Each dead-letter record carries the `__dlq.errors.*` headers (strings): topic, partition, offset,
group, delivery.count, message. With `errors.deadletterqueue.copy.record.enable` it is a copy of the
record (key, value, original headers first); without, headers only. It goes to DLQ partition = source
partition mod the DLQ's partition count, with the wall-clock timestamp, in one durable append.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from gateway.share.config import ShareConfigs, ShareGroupConfig
from gateway.share.partition import DeadLetter
from partitions.log import PartitionLog
from wire.errors import ErrorCode, KafkaError
from wire.records import build_batch, iter_records

GROUP_ENABLE = "errors.deadletterqueue.group.enable"
H_TOPIC = "__dlq.errors.topic"
H_PARTITION = "__dlq.errors.partition"
H_OFFSET = "__dlq.errors.offset"
H_GROUP = "__dlq.errors.group"
H_DELIVERY_COUNT = "__dlq.errors.delivery.count"
H_MESSAGE = "__dlq.errors.message"
DLQ_HEADERS = (H_TOPIC, H_PARTITION, H_OFFSET, H_GROUP, H_DELIVERY_COUNT, H_MESSAGE)

log = structlog.get_logger("ottla.share.dlq")


class DeadLetterWriter:
    def __init__(self, logs, configs: ShareConfigs) -> None:
        self.logs = logs
        self.configs = configs

    def dlq_topic(self, group_id: str, config: ShareGroupConfig):
        """The group's DLQ topic (created when allowed), or KafkaError-free None with a logged reason."""
        name = config.dlq_topic_name
        reason = None
        topic = self.logs.get(name) if name else None
        prefix = self.configs.dlq_topic_name_prefix
        if not name:
            reason = "no dead-letter topic is configured"
        elif name.startswith("__"):
            reason = f"Configured DLQ topic {name} is an internal topic name."
        elif topic is not None and topic.config(GROUP_ENABLE) is not True:
            reason = f"Configured DLQ topic {name} does not have {GROUP_ENABLE}=true."
        elif prefix and not name.startswith(prefix):
            reason = f"Configured DLQ topic {name} does not start with the prefix {prefix}."
        elif topic is None and not self.configs.dlq_auto_create_topics:
            reason = f"Configured DLQ topic {name} does not exist and automatic creation is disabled."
        if reason is not None:
            log.warning("dlq_unavailable", group=group_id, topic=name, reason=reason)
            return None
        if topic is None:
            try:
                topic = self.logs.create_topic(name, -1, {GROUP_ENABLE: "true"})
            except KafkaError as error:
                log.warning("dlq_create_failed", group=group_id, topic=name, error=str(error))
                return None
            log.info("dlq_topic_created", group=group_id, topic=name)
        return topic

    def write(self, group_id: str, config: ShareGroupConfig, source: PartitionLog,
              letters: Sequence[DeadLetter], now_ms: int) -> bool:
        """Append these records' dead letters to the group's DLQ topic in one durable write; False when
        there is no usable DLQ topic or the append failed (the caller archives them anyway, as Kafka)."""
        topic = self.dlq_topic(group_id, config)
        if topic is None or not letters:
            return False
        originals = self._originals(source, letters) if config.dlq_copy_record else {}
        records = []
        for letter in letters:
            headers = [(H_TOPIC, source.topic.name.encode()), (H_PARTITION, str(source.index).encode()),
                       (H_OFFSET, str(letter.offset).encode()), (H_GROUP, group_id.encode()),
                       (H_DELIVERY_COUNT, str(letter.delivery_count).encode()), (H_MESSAGE, letter.reason.encode())]
            original = originals.get(letter.offset)
            if original is not None:
                key, value, original_headers = original
                records.append((key, value, list(original_headers) + headers, now_ms))
            else:
                records.append((None, None, headers, now_ms))
        dlq = topic.partitions[source.index % len(topic.partitions)]
        try:
            dlq.append(build_batch(records), now_ms)
        except KafkaError as error:
            if error.code != ErrorCode.MESSAGE_TOO_LARGE or len(records) == 1:
                log.warning("dlq_write_failed", group=group_id, topic=topic.name, error=str(error))
                return False
            # Over the DLQ topic's max.message.bytes together: one batch per record instead.
            for record, letter in zip(records, letters):
                try:
                    dlq.append(build_batch([record]), now_ms)
                except KafkaError as one:
                    log.warning("dlq_write_failed", group=group_id, topic=topic.name, offset=letter.offset,
                                error=str(one))
        log.info("dead_lettered", group=group_id, source=repr(source), dlq=repr(dlq),
                 offsets=[letter.offset for letter in letters])
        return True

    @staticmethod
    def _originals(source: PartitionLog, letters: Sequence[DeadLetter]) -> dict[int, tuple]:
        wanted = {letter.offset for letter in letters}
        found: dict[int, tuple] = {}
        offset = max(min(wanted), source.log_start_offset)
        while wanted - found.keys() and offset <= max(wanted) and offset < source.high_watermark:
            blob = source.read(offset, 1 << 20)
            if not blob:
                break
            last = offset
            for record in iter_records_in(blob):
                last = record.offset
                if record.offset in wanted:
                    found[record.offset] = (record.key, record.value, record.headers)
            offset = last + 1
        return found


def iter_records_in(blob: bytes):
    """Every record of a run of stored batches."""
    from wire.records import split_batches

    view = memoryview(blob)
    for pos, header in split_batches(blob):
        yield from iter_records(view[pos:pos + header.size])

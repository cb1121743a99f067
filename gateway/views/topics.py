"""Topics: partitions, watermarks, message counts, sizes and configs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from partitions.config_def import ConfigSource


@dataclass(frozen=True)
class PartitionView:
    partition: int
    log_start_offset: int
    high_watermark: int
    last_stable_offset: int
    messages: int  # offsets between the log start and the high watermark (Kafka UIs' "message count")
    size_bytes: int
    segments: int
    leader: int
    leader_epoch: int


@dataclass(frozen=True)
class ConfigView:
    name: str
    value: str | None
    source: str  # Kafka's ConfigSource name: DYNAMIC_TOPIC_CONFIG for a topic's own setting
    modified: bool  # set on the topic itself (shown highlighted)
    read_only: bool
    sensitive: bool


@dataclass(frozen=True)
class TopicSummary:
    name: str
    topic_id: str
    internal: bool
    partitions: int
    messages: int
    size_bytes: int
    modified_configs: int


@dataclass(frozen=True)
class TopicView:
    name: str
    topic_id: str
    internal: bool
    partitions: list[PartitionView]
    configs: list[ConfigView]
    messages: int = field(default=0)
    size_bytes: int = field(default=0)


def _partition(broker, log) -> PartitionView:
    return PartitionView(
        partition=log.index, log_start_offset=log.log_start_offset, high_watermark=log.high_watermark,
        last_stable_offset=log.last_stable_offset, messages=max(0, log.high_watermark - log.log_start_offset),
        size_bytes=log.segments.size, segments=len(log.segments), leader=_leader(broker, log),
        leader_epoch=log.leader_epoch)


def _leader(broker, log) -> int:
    state = getattr(broker, "partition_state", None)  # the cluster (several nodes), once it exists
    if state is not None:
        try:
            found = state(log.topic.name, log.index)
        except Exception:  # noqa: BLE001 - a view must render even if the cluster cannot say
            return -1
        return found["leader"] if isinstance(found, dict) else found.leader
    return broker.node_id


def list_topics(broker, *, internal: bool = True) -> list[TopicSummary]:
    topics = []
    for name in sorted(broker.logs.topics):
        topic = broker.logs.topics[name]
        if topic.is_internal and not internal:
            continue
        topics.append(TopicSummary(
            name=name, topic_id=str(uuid.UUID(bytes=topic.topic_id)), internal=topic.is_internal,
            partitions=len(topic.partitions),
            messages=sum(max(0, p.high_watermark - p.log_start_offset) for p in topic.partitions),
            size_bytes=sum(p.segments.size for p in topic.partitions), modified_configs=len(topic.configs)))
    return topics


def topic(broker, name: str) -> TopicView | None:
    t = broker.logs.get(name)
    if t is None:
        return None
    partitions = [_partition(broker, log) for log in t.partitions]
    configs = [ConfigView(c.name, None if c.sensitive else c.value, ConfigSource(c.source).name,
                          c.source == ConfigSource.DYNAMIC_TOPIC_CONFIG, c.read_only, c.sensitive)
               for c in broker.logs.describe_configs(name)]
    return TopicView(name=t.name, topic_id=str(uuid.UUID(bytes=t.topic_id)), internal=t.is_internal,
                     partitions=partitions, configs=configs, messages=sum(p.messages for p in partitions),
                     size_bytes=sum(p.size_bytes for p in partitions))

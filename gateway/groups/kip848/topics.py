"""Topic metadata as the consumer group coordinator sees it: name <-> topic id and partition count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Protocol


@dataclass(frozen=True, slots=True)
class TopicInfo:
    name: str
    topic_id: bytes  # 16 bytes, never the zero UUID
    num_partitions: int


class TopicMetadata(Protocol):
    """What the coordinator asks about topics; the broker backs it with its topic registry.

    Read on every heartbeat, so answers must be cheap and current: a topic created, deleted or given
    more partitions shows up in the next heartbeat of any member of a group subscribed to it.
    """

    def topic(self, name: str) -> TopicInfo | None: ...

    def topic_by_id(self, topic_id: bytes) -> TopicInfo | None: ...

    def topic_names(self) -> Iterable[str]: ...


class MemoryTopics:
    """A TopicMetadata held in dicts: for tests and for callers without a topic registry."""

    def __init__(self, topics: Mapping[str, tuple[bytes, int]] | None = None) -> None:
        self._by_name: dict[str, TopicInfo] = {}
        self._by_id: dict[bytes, TopicInfo] = {}
        for name, (topic_id, num_partitions) in (topics or {}).items():
            self.put(name, topic_id, num_partitions)

    def put(self, name: str, topic_id: bytes, num_partitions: int) -> None:
        """Create the topic or change its partition count."""
        self.delete(name)
        self._by_name[name] = self._by_id[topic_id] = TopicInfo(name, topic_id, num_partitions)

    def delete(self, name: str) -> None:
        info = self._by_name.pop(name, None)
        if info is not None:
            del self._by_id[info.topic_id]

    def topic(self, name: str) -> TopicInfo | None:
        return self._by_name.get(name)

    def topic_by_id(self, topic_id: bytes) -> TopicInfo | None:
        return self._by_id.get(topic_id)

    def topic_names(self) -> Iterable[str]:
        return self._by_name.keys()


class LogsTopics:
    """TopicMetadata backed by the broker's `partitions.Logs` (`.topics`, `.get`, `.get_by_id`)."""

    def __init__(self, logs) -> None:
        self._logs = logs

    def topic(self, name: str) -> TopicInfo | None:
        return _info(self._logs.get(name))

    def topic_by_id(self, topic_id: bytes) -> TopicInfo | None:
        return _info(self._logs.get_by_id(topic_id))

    def topic_names(self) -> Iterable[str]:
        """Every topic but the internal ones (__consumer_offsets ...), which regexes never match."""
        return [name for name, topic in self._logs.topics.items() if not topic.is_internal]


def _info(topic) -> TopicInfo | None:
    if topic is None or getattr(topic, "deleted", False):
        return None
    return TopicInfo(topic.name, topic.topic_id, len(topic.partitions))

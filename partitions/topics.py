"""Topic: a name, a topic id, explicit configs and partition logs; plus Kafka's topic-name rules."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING

from partitions.storage import TopicRecord
from partitions.topic_configs import TOPIC_CONFIGS
from wire.errors import ErrorCode, KafkaError

if TYPE_CHECKING:
    from partitions.log import PartitionLog

MAX_NAME_LENGTH = 249
_LEGAL_NAME = re.compile(r"[a-zA-Z0-9._-]+")


def validate_topic_name(name: str) -> None:
    """Kafka's Topic.validate: KafkaError(INVALID_TOPIC_EXCEPTION) with Kafka's reason."""
    if not name:
        raise KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, "Topic name is illegal, it can't be empty")
    if name in (".", ".."):
        raise KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, "Topic name cannot be \".\" or \"..\"")
    if len(name) > MAX_NAME_LENGTH:
        raise KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION,
                         f"Topic name is illegal, it can't be longer than {MAX_NAME_LENGTH} characters, "
                         f"topic name: {name}")
    if not _LEGAL_NAME.fullmatch(name):
        raise KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION,
                         f"Topic name \"{name}\" is illegal, it contains a character other than ASCII "
                         "alphanumerics, '.', '_' and '-'")


def unify_collision_chars(name: str) -> str:
    """Kafka's Topic.unifyCollisionChars: '.' and '_' collide in metric names, so "a.b" and "a_b" clash."""
    return name.replace(".", "_")


def new_topic_id() -> bytes:
    """16 random bytes (a version-4 UUID): never the zero UUID, which means "no id" on the wire."""
    return uuid.uuid4().bytes


class Topic:
    """A topic. `configs` holds only the explicitly set configs; `config(name)` gives the effective value."""

    def __init__(self, name: str, topic_id: bytes, configs: Mapping[str, str],
                 broker_defaults: Mapping[str, str], *, is_internal: bool = False) -> None:
        self.name = name
        self.topic_id = topic_id
        self.configs = dict(configs)
        self.is_internal = is_internal
        self.partitions: list[PartitionLog] = []
        self.deleted = False  # set by Logs.delete_topic: a stale reference can no longer append
        self._broker_defaults = broker_defaults
        # The configs the append path reads, parsed once (topic configs do not change after creation).
        self.max_message_bytes = int(self.config("max.message.bytes"))
        self.log_append_time = self.config("message.timestamp.type") == "LogAppendTime"

    def config(self, key: str) -> str:
        """The effective value: explicit, else the broker's default for topics, else Kafka's default."""
        if key in self.configs:
            return self.configs[key]
        if key in self._broker_defaults:
            return self._broker_defaults[key]
        return TOPIC_CONFIGS[key][0]

    def partition(self, index: int) -> PartitionLog | None:
        """The partition log at index, or None when the topic has no such partition."""
        return self.partitions[index] if 0 <= index < len(self.partitions) else None

    def record(self) -> TopicRecord:
        return TopicRecord(self.name, self.topic_id, len(self.partitions), self.configs, self.is_internal)

    def __repr__(self) -> str:
        return f"Topic({self.name!r}, partitions={len(self.partitions)}, id={uuid.UUID(bytes=self.topic_id)})"

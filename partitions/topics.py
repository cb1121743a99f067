"""Topic: a name, a topic id, explicit configs and partition logs; plus Kafka's topic-name rules."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from partitions.log_config import is_compacted, roll_limits
from partitions.storage import TopicRecord
from partitions.topic_configs import TOPIC_CONFIGS, TopicDefault, effective
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


# Kafka's Topic.isInternal: a topic is internal by its name, however it was created
INTERNAL_TOPIC_NAMES = frozenset({"__consumer_offsets", "__transaction_state", "__share_group_state"})


def is_internal_topic(name: str) -> bool:
    return name in INTERNAL_TOPIC_NAMES


def unify_collision_chars(name: str) -> str:
    """Kafka's Topic.unifyCollisionChars: '.' and '_' collide in metric names, so "a.b" and "a_b" clash."""
    return name.replace(".", "_")


def new_topic_id() -> bytes:
    """16 random bytes (a version-4 UUID): never the zero UUID, which means "no id" on the wire."""
    return uuid.uuid4().bytes


class Topic:
    """A topic. `configs` holds only the explicitly set configs (canonical strings, as persisted);
    `config(name)` gives the effective typed value (int, float, bool, str or list[str])."""

    def __init__(self, name: str, topic_id: bytes, configs: Mapping[str, str],
                 defaults: Mapping[str, TopicDefault], *, is_internal: bool = False) -> None:
        self.name = name
        self.topic_id = topic_id
        self.configs = dict(configs)
        self.is_internal = is_internal
        self.partitions: list[PartitionLog] = []
        self.deleted = False  # set by Logs.delete_topic: a stale reference can no longer append
        self._defaults = defaults  # the broker's defaults for topics: shared with Logs, which refreshes us
        self.refresh()

    def refresh(self) -> None:
        """Re-read the configs after they (or the broker's defaults for topics) changed."""
        explicit = {}
        for key, text in self.configs.items():
            known = TOPIC_CONFIGS.get(key)
            if known is None:
                continue
            try:
                explicit[key] = known.parse(text)
            except KafkaError:  # stored by a laxer version: the default applies, as Kafka skips it
                continue
        self._explicit = explicit
        self._effective: dict[str, Any] = {}
        # What the append path reads, as attributes so a produce never looks a config up by name.
        self.max_message_bytes = self.config("max.message.bytes")
        self.log_append_time = self.config("message.timestamp.type") == "LogAppendTime"
        self.min_insync_replicas = self.config("min.insync.replicas")  # acks=all is refused above 1
        self.compacted = is_compacted(self)
        self.roll_limits = roll_limits(self)  # (segment.bytes, segment.ms) of a segment roll
        self.timestamp_limits = (self.config("message.timestamp.before.max.ms"),
                                 self.config("message.timestamp.after.max.ms"))

    def config(self, key: str) -> Any:
        """The effective typed value of a topic config: explicit, else the broker's default for topics,
        else Kafka's default. KeyError for a name Kafka does not define."""
        try:
            return self._effective[key]
        except KeyError:
            value = self._effective[key] = effective(key, self._explicit, self._defaults)
            return value

    def partition(self, index: int) -> PartitionLog | None:
        """The partition log at index, or None when the topic has no such partition."""
        return self.partitions[index] if 0 <= index < len(self.partitions) else None

    def record(self) -> TopicRecord:
        return TopicRecord(self.name, self.topic_id, len(self.partitions), self.configs, self.is_internal)

    def __repr__(self) -> str:
        return f"Topic({self.name!r}, partitions={len(self.partitions)}, id={uuid.UUID(bytes=self.topic_id)})"

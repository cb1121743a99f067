"""Share-group settings (KIP-932, KIP-1191): Kafka's names and defaults, looked up per group.

`ShareGroupConfig` is what the share coordinator and the share partitions read. `ShareConfigs` builds
it for a group from three layers, as Kafka does: the group's own configs (`share.*`,
`errors.deadletterqueue.*`, set with IncrementalAlterConfigs on the GROUP resource), the broker's
`group.share.*` defaults, and Kafka's defaults, all read from the broker's config store
(gateway.configs, which also validates them against the broker's min/max bounds).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

# group config name -> (ShareGroupConfig field, parser)
EARLIEST = "earliest"
LATEST = "latest"
READ_UNCOMMITTED = "read_uncommitted"
READ_COMMITTED = "read_committed"

_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def parse_duration_ms(text: str) -> int:
    """ISO-8601 `PnDTnHnMn.nS` (Java's Duration.parse, days at most) in milliseconds; ValueError if not one."""
    match = _DURATION.match(text.strip().upper())
    if not match or not any(match.groups()) or text.strip().upper().endswith("T"):
        raise ValueError(f"not an ISO-8601 duration: {text!r}")
    days, hours, minutes, seconds = match.groups()
    total = int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)
    return int(total * 1000)


def parse_auto_offset_reset(text: str) -> str | int:
    """share.auto.offset.reset: "earliest", "latest", or by_duration:<ISO-8601> as a duration in ms."""
    value = text.strip().lower()
    if value in (EARLIEST, LATEST):
        return value
    if value.startswith("by_duration:"):
        duration_ms = parse_duration_ms(text.strip()[len("by_duration:"):])
        if duration_ms < 0:
            raise ValueError("by_duration must not be negative")
        return duration_ms
    raise ValueError(f"Invalid value {text} for configuration share.auto.offset.reset")


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value not in ("true", "false"):
        raise ValueError(f"not a boolean: {text!r}")
    return value == "true"


def _isolation(text: str) -> str:
    value = text.strip().lower()
    if value not in (READ_UNCOMMITTED, READ_COMMITTED):
        raise ValueError(f"Invalid value {text} for configuration share.isolation.level")
    return value


@dataclass(frozen=True, slots=True)
class ShareGroupConfig:
    """One share group's effective settings (Kafka's defaults)."""

    record_lock_duration_ms: int = 30000  # share.record.lock.duration.ms
    delivery_count_limit: int = 5  # share.delivery.count.limit
    partition_max_record_locks: int = 2000  # share.partition.max.record.locks
    auto_offset_reset: str | int = LATEST  # share.auto.offset.reset ("earliest", "latest" or a duration in ms)
    isolation_level: str = READ_UNCOMMITTED  # share.isolation.level
    session_timeout_ms: int = 45000  # share.session.timeout.ms
    heartbeat_interval_ms: int = 5000  # share.heartbeat.interval.ms
    renew_acknowledge_enable: bool = True  # share.renew.acknowledge.enable
    dlq_topic_name: str = ""  # errors.deadletterqueue.topic.name (blank: no dead-letter topic)
    dlq_copy_record: bool = False  # errors.deadletterqueue.copy.record.enable


# Group config name -> (field, parser). The broker-level defaults are the same names with "group."
# in front (group.share.record.lock.duration.ms ...), except the DLQ ones, which have none.
GROUP_CONFIGS: dict[str, tuple[str, Callable[[str], object]]] = {
    "share.record.lock.duration.ms": ("record_lock_duration_ms", int),
    "share.delivery.count.limit": ("delivery_count_limit", int),
    "share.partition.max.record.locks": ("partition_max_record_locks", int),
    "share.auto.offset.reset": ("auto_offset_reset", parse_auto_offset_reset),
    "share.isolation.level": ("isolation_level", _isolation),
    "share.session.timeout.ms": ("session_timeout_ms", int),
    "share.heartbeat.interval.ms": ("heartbeat_interval_ms", int),
    "share.renew.acknowledge.enable": ("renew_acknowledge_enable", _bool),
    "errors.deadletterqueue.topic.name": ("dlq_topic_name", str.strip),
    "errors.deadletterqueue.copy.record.enable": ("dlq_copy_record", _bool),
}

def apply_configs(base: ShareGroupConfig, configs: Mapping[str, str | None]) -> ShareGroupConfig:
    """base with every known, valid config of `configs` applied (unknown names and bad values are skipped:
    validation belongs where configs are set)."""
    changes = {}
    for name, value in configs.items():
        known = GROUP_CONFIGS.get(name)
        if known is None or value is None:
            continue
        try:
            changes[known[0]] = known[1](value)
        except ValueError:
            continue
    return replace(base, **changes) if changes else base


SHARE_VERSION = "share.version"
SHARE_GROUPS_LEVEL = 1  # share.version at which share groups are enabled (KIP-932)
DEAD_LETTER_LEVEL = 2  # and their dead-letter topics (KIP-1191, Kafka 4.4)
DISABLED_MESSAGE = "The share group protocol is disabled (share.version is not finalized at 1 or above)."


def share_groups_enabled(features) -> bool:
    """Whether the finalized share.version enables share groups (Kafka answers UNSUPPORTED_VERSION if not)."""
    return features.level(SHARE_VERSION) >= SHARE_GROUPS_LEVEL


class ShareConfigs:
    """Effective share-group configs per group. With the broker's `DynamicConfigs` (gateway.configs) each
    value is the group's own config (IncrementalAlterConfigs on the GROUP resource), else the broker's
    `group.share.*`, else Kafka's default; without one (tests), Kafka's defaults. Cached per group until
    `invalidate()` (the broker calls it on every config change)."""

    def __init__(self, configs=None) -> None:
        self.configs = configs  # gateway.configs.DynamicConfigs, or None
        self._cache: dict[str, ShareGroupConfig] = {}
        self._auto_create: bool | None = None

    def invalidate(self, *_) -> None:
        self._cache.clear()

    def for_group(self, group_id: str) -> ShareGroupConfig:
        found = self._cache.get(group_id)
        if found is None:
            if self.configs is None:
                found = ShareGroupConfig()
            else:
                found = apply_configs(ShareGroupConfig(), {
                    name: _string(self.configs.group(group_id, name)) for name in GROUP_CONFIGS})
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[group_id] = found
        return found

    def broker(self, name: str, default):
        """A broker config's live value (group.share.max.size ...), Kafka's default without a store."""
        value = self.configs.broker(name) if self.configs is not None else None
        return default if value is None else value

    @property
    def dlq_topic_name_prefix(self) -> str:
        """errors.deadletterqueue.topic.name.prefix (broker; empty: any name)."""
        if self.configs is None:
            return "dlq."
        value = self.configs.broker("errors.deadletterqueue.topic.name.prefix")
        return "dlq." if value is None else value

    @property
    def dlq_auto_create_topics(self) -> bool:
        """errors.deadletterqueue.auto.create.topics.enable (broker)."""
        if self._auto_create is not None:
            return self._auto_create
        return bool(self.configs is not None and self.configs.broker("errors.deadletterqueue.auto.create.topics.enable"))

    @dlq_auto_create_topics.setter
    def dlq_auto_create_topics(self, value: bool) -> None:  # tests without a config store
        self._auto_create = value


def _string(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

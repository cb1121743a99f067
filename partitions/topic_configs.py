"""The topic configs Ottla accepts, their Kafka defaults and validators, and DescribeConfigs entries.

Acted on: max.message.bytes (append rejects larger batches) and message.timestamp.type
(LogAppendTime stamps batches). Validated and stored but not acted on (single broker, no
retention or compaction, batches kept as the producer compressed them): cleanup.policy,
retention.ms, retention.bytes, segment.bytes, min.insync.replicas, compression.type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from wire.errors import ErrorCode, KafkaError

# DescribeConfigs config_source values (Kafka's ConfigSource ids).
DYNAMIC_TOPIC_CONFIG = 1
STATIC_BROKER_CONFIG = 4
DEFAULT_CONFIG = 5

INT32_MAX = 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class ConfigEntry(NamedTuple):
    name: str
    value: str
    is_default: bool
    read_only: bool
    sensitive: bool
    source: int = DEFAULT_CONFIG


def _integer(low: int, high: int) -> Callable[[str], bool]:
    def valid(value: str) -> bool:
        try:
            number = int(value.strip())
        except ValueError:
            return False
        return low <= number <= high
    return valid


def _one_of(*choices: str) -> Callable[[str], bool]:
    return lambda value: value.strip() in choices


def _cleanup_policy(value: str) -> bool:
    # A comma-separated list of delete/compact; an empty list is allowed (Kafka 4: infinite retention).
    items = [item.strip() for item in value.split(",")] if value.strip() else []
    return all(item in ("delete", "compact") for item in items)


# name -> (Kafka default, validator)
TOPIC_CONFIGS: dict[str, tuple[str, Callable[[str], bool]]] = {
    "cleanup.policy": ("delete", _cleanup_policy),
    "compression.type": ("producer", _one_of("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")),
    "max.message.bytes": ("1048588", _integer(0, INT32_MAX)),
    "message.timestamp.type": ("CreateTime", _one_of("CreateTime", "LogAppendTime")),
    "min.insync.replicas": ("1", _integer(1, INT32_MAX)),
    "retention.bytes": ("-1", _integer(INT64_MIN, INT64_MAX)),
    "retention.ms": ("604800000", _integer(-1, INT64_MAX)),
    "segment.bytes": ("1073741824", _integer(1024 * 1024, INT32_MAX)),
}


def validate_configs(configs: Mapping[str, str | None]) -> dict[str, str]:
    """The configs as a plain dict, or KafkaError(INVALID_CONFIG) naming the first bad one."""
    checked = {}
    for name, value in configs.items():
        known = TOPIC_CONFIGS.get(name)
        if known is None:
            raise KafkaError(ErrorCode.INVALID_CONFIG, f"Unknown topic config name: {name}")
        if value is None:
            raise KafkaError(ErrorCode.INVALID_CONFIG, f"Null value not supported for topic config: {name}")
        if not known[1](value):
            raise KafkaError(ErrorCode.INVALID_CONFIG, f"Invalid value {value} for configuration {name}")
        checked[name] = value.strip()
    return checked


def describe(explicit: Mapping[str, str], broker_defaults: Mapping[str, str]) -> list[ConfigEntry]:
    """Every supported config with its effective value and where that value comes from."""
    entries = []
    for name, (default, _) in sorted(TOPIC_CONFIGS.items()):
        if name in explicit:
            entries.append(ConfigEntry(name, explicit[name], False, False, False, DYNAMIC_TOPIC_CONFIG))
        elif name in broker_defaults:
            entries.append(ConfigEntry(name, broker_defaults[name], False, False, False, STATIC_BROKER_CONFIG))
        else:
            entries.append(ConfigEntry(name, default, True, False, False, DEFAULT_CONFIG))
    return entries

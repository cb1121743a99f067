"""Kafka's ConfigDef as data: a config key's type, default, validator and documentation, parsed Kafka's way.

Every config table (topic: partitions/topic_configs.py; broker, group, client metrics: gateway/configs/)
is a dict of `ConfigKey`. `ConfigKey.parse(text)` turns a client's string into a typed value (int,
float, bool, str, list[str]) or raises KafkaError(INVALID_CONFIG) with Kafka's ConfigException message,
e.g. "Invalid value abc for configuration retention.ms: Not a number of type LONG".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from wire.errors import ErrorCode, KafkaError

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT16_MIN, INT16_MAX = -(2**15), 2**15 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_JAVA_INTEGER = re.compile(r"[+-]?[0-9]+")
# compiled at first use (re's own cache): the double one alone was 1.2 ms of start-up, which parses no double
_JAVA_DOUBLE = r"[+-]?(NaN|Infinity|([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[fFdD]?)"
_LIST_SPLIT = r"\s*,\s*"


class ConfigType(IntEnum):
    """DescribeConfigs config_type (Kafka's DescribeConfigsResponse.ConfigType ids)."""

    UNKNOWN = 0
    BOOLEAN = 1
    STRING = 2
    INT = 3
    SHORT = 4
    LONG = 5
    DOUBLE = 6
    LIST = 7
    CLASS = 8
    PASSWORD = 9


class ConfigSource(IntEnum):
    """DescribeConfigs config_source (Kafka's DescribeConfigsResponse.ConfigSource ids)."""

    UNKNOWN = 0
    DYNAMIC_TOPIC_CONFIG = 1
    DYNAMIC_BROKER_CONFIG = 2
    DYNAMIC_DEFAULT_BROKER_CONFIG = 3
    STATIC_BROKER_CONFIG = 4
    DEFAULT_CONFIG = 5
    DYNAMIC_BROKER_LOGGER_CONFIG = 6
    CLIENT_METRICS_CONFIG = 7
    GROUP_CONFIG = 8


_RANGES = {ConfigType.INT: (INT32_MIN, INT32_MAX), ConfigType.SHORT: (INT16_MIN, INT16_MAX),
           ConfigType.LONG: (INT64_MIN, INT64_MAX)}

Validator = Callable[[str, Any], None]  # (name, parsed value) -> None, or raise invalid(...)


def invalid(name: str, value: Any, message: str | None = None) -> KafkaError:
    """Kafka's ConfigException text as an INVALID_CONFIG error."""
    shown = "null" if value is None else to_string(value)
    return KafkaError(ErrorCode.INVALID_CONFIG,
                      f"Invalid value {shown} for configuration {name}" + (f": {message}" if message else ""))


def to_string(value: Any) -> str | None:
    """Kafka's ConfigDef.convertToString: lists comma-joined, booleans lower-case, None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def at_least(low: int | float) -> Validator:
    def check(name: str, value: Any) -> None:
        if value is not None and value < low:
            raise invalid(name, value, f"Value must be at least {low}")
    return check


def between(low: int | float, high: int | float) -> Validator:
    def check(name: str, value: Any) -> None:
        if value is None:
            return
        if value < low:
            raise invalid(name, value, f"Value must be at least {low}")
        if value > high:
            raise invalid(name, value, f"Value must be no more than {high}")
    return check


def one_of(*choices: str) -> Validator:
    def check(name: str, value: Any) -> None:
        if value not in choices:
            raise invalid(name, value, "String must be one of: " + ", ".join(choices))
    return check


def one_of_ignoring_case(*choices: str) -> Validator:
    lowered = {c.lower() for c in choices}

    def check(name: str, value: Any) -> None:
        if value is None or value.lower() not in lowered:
            raise invalid(name, value, "String must be one of (case insensitive): " + ", ".join(choices))
    return check


def each_one_of(*choices: str) -> Validator:
    """Kafka's ValidList.in: every item of a list is one of choices (the message names the bad item)."""
    def check(name: str, value: Any) -> None:
        for item in value or []:
            if item not in choices:
                raise invalid(name, item, "String must be one of: " + ", ".join(choices))
    return check


@dataclass(frozen=True)
class ConfigKey:
    """One config as Kafka defines it. `default` is the typed default (None: no default, "null")."""

    name: str
    type: ConfigType
    default: Any
    doc: str
    validator: Validator | None = None
    sensitive: bool = False  # PASSWORD configs are never shown

    def parse(self, text: str | None) -> Any:
        """A client's string as a typed value, validated; KafkaError(INVALID_CONFIG) with Kafka's message."""
        value = parse_type(self.name, text, self.type)
        if self.validator is not None:
            self.validator(self.name, value)
        return value

    def default_string(self) -> str | None:
        return to_string(self.default)


def parse_all(configs: Mapping[str, str | None], keys: Mapping[str, ConfigKey], what: str) -> dict[str, Any]:
    """Every value of `configs` parsed by its key in `keys` (a config table); KafkaError(INVALID_CONFIG) naming
    every null value, else the first unknown name, as Kafka's LogConfig and GroupConfig validate them.
    `what` names the table in the messages ("topic", "group")."""
    nulls = [name for name, value in configs.items() if value is None]
    if nulls:
        raise KafkaError(ErrorCode.INVALID_CONFIG, f"Null value not supported for {what} configs: " + ",".join(nulls))
    for name in configs:
        if name not in keys:
            raise KafkaError(ErrorCode.INVALID_CONFIG, f"Unknown {what} config name: {name}")
    return {name: keys[name].parse(value) for name, value in configs.items()}


def parse_type(name: str, text: str | None, config_type: ConfigType) -> Any:
    """Kafka's ConfigDef.parseType for a string value (trimmed first, as Kafka does)."""
    if text is None:
        return None
    trimmed = text.strip()
    if config_type == ConfigType.BOOLEAN:
        if trimmed.lower() in ("true", "false"):
            return trimmed.lower() == "true"
        raise invalid(name, text, "Expected value to be either true or false")
    if config_type in (ConfigType.STRING, ConfigType.PASSWORD, ConfigType.CLASS, ConfigType.UNKNOWN):
        return trimmed
    if config_type in _RANGES:
        low, high = _RANGES[config_type]
        if not _JAVA_INTEGER.fullmatch(trimmed) or not low <= int(trimmed) <= high:
            raise invalid(name, text, f"Not a number of type {config_type.name}")
        return int(trimmed)
    if config_type == ConfigType.DOUBLE:
        if not re.fullmatch(_JAVA_DOUBLE, trimmed):
            raise invalid(name, text, "Not a number of type DOUBLE")
        return float(trimmed.rstrip("fFdD").replace("Infinity", "inf"))
    if config_type == ConfigType.LIST:
        return [] if not trimmed else re.split(_LIST_SPLIT, trimmed)
    raise ValueError(f"unknown config type {config_type}")


"""GROUP resource configs (Kafka's GroupConfig: KIP-848 consumer groups, KIP-932 share groups, KIP-1191
dead-letter queues) and CLIENT_METRICS resource configs (Kafka's ClientMetricsConfigs, KIP-714).

A group config overrides, for one group, the broker config named in `broker_default`; a group with no
override gets the broker's value. The checks across configs are Kafka's GroupConfig.validateValues.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from partitions.config_def import ConfigKey, ConfigType, at_least, between, invalid, one_of, parse_all
from wire.errors import ErrorCode, KafkaError


@dataclass(frozen=True)
class GroupConfigKey(ConfigKey):
    """A group config and the broker config that supplies its default."""

    broker_default: str | None = None  # the broker config whose value a group without an override gets


_I, _S, _B, _LIST = ConfigType.INT, ConfigType.STRING, ConfigType.BOOLEAN, ConfigType.LIST
_DURATION = re.compile(r"P(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?")


def _auto_offset_reset(name: str, value: Any) -> None:
    if value in ("earliest", "latest"):
        return
    if value.startswith("by_duration:") and _DURATION.fullmatch(value[len("by_duration:"):]) \
            and value[len("by_duration:"):] not in ("P", "PT"):
        return
    raise invalid(name, value, "the value must be either 'earliest', 'latest' or of the format "
                               "'by_duration:<PnDTnHnMn.nS.>'.")


def _g(name, config_type, default, doc, validator=None, broker_default=None) -> GroupConfigKey:
    return GroupConfigKey(name, config_type, default, doc, validator, broker_default=broker_default)


GROUP_CONFIGS: dict[str, GroupConfigKey] = {k.name: k for k in sorted([
    _g("consumer.session.timeout.ms", _I, 45000, "The session timeout of this consumer group's members.",
       at_least(1), "group.consumer.session.timeout.ms"),
    _g("consumer.heartbeat.interval.ms", _I, 5000, "The heartbeat interval of this consumer group's members.",
       at_least(1), "group.consumer.heartbeat.interval.ms"),
    _g("share.session.timeout.ms", _I, 45000, "The session timeout of this share group's members.", at_least(1),
       "group.share.session.timeout.ms"),
    _g("share.heartbeat.interval.ms", _I, 5000, "The heartbeat interval of this share group's members.",
       at_least(1), "group.share.heartbeat.interval.ms"),
    _g("share.record.lock.duration.ms", _I, 30000, "How long a member of this share group holds the records "
       "it fetched.", at_least(1000), "group.share.record.lock.duration.ms"),
    _g("share.delivery.count.limit", _I, 5, "How often a record is delivered to this share group before it is "
       "archived.", between(2, 10), "group.share.delivery.count.limit"),
    _g("share.partition.max.record.locks", _I, 2000, "The most records in flight per partition for this share "
       "group.", between(100, 10000), "group.share.partition.max.record.locks"),
    _g("share.auto.offset.reset", _S, "latest", "Where a share group starts on a partition it has no offset "
       "for: earliest, latest, or by_duration:<ISO-8601 duration>.", _auto_offset_reset),
    _g("share.isolation.level", _S, "read_uncommitted", "Whether this share group reads transactional records "
       "before they commit (read_uncommitted) or only committed ones (read_committed).",
       one_of("read_committed", "read_uncommitted")),
    _g("share.renew.acknowledge.enable", _B, True, "Whether members of this share group may renew record locks "
       "(KIP-1222)."),
    _g("errors.deadletterqueue.topic.name", _S, "", "The topic this share group writes dead-letter records to "
       "(KIP-1191; empty: none)."),
    _g("errors.deadletterqueue.copy.record.enable", _B, False, "Copy the rejected record's key and value into "
       "the dead-letter record, not only its coordinates (KIP-1191)."),
], key=lambda k: k.name)}

# (group config, broker config bounding it from below, from above): Kafka's GroupConfig.validateValues
_BOUNDS = [
    ("consumer.heartbeat.interval.ms", "group.consumer.min.heartbeat.interval.ms",
     "group.consumer.max.heartbeat.interval.ms"),
    ("consumer.session.timeout.ms", "group.consumer.min.session.timeout.ms", "group.consumer.max.session.timeout.ms"),
    ("share.heartbeat.interval.ms", "group.share.min.heartbeat.interval.ms", "group.share.max.heartbeat.interval.ms"),
    ("share.session.timeout.ms", "group.share.min.session.timeout.ms", "group.share.max.session.timeout.ms"),
    ("share.record.lock.duration.ms", "group.share.min.record.lock.duration.ms",
     "group.share.max.record.lock.duration.ms"),
]


def validate_group_configs(configs: Mapping[str, str | None], broker: Callable[[str], Any]) -> dict[str, Any]:
    """The group's whole set of overrides parsed and checked; `broker(name)` reads a broker config."""
    parsed = parse_all(configs, GROUP_CONFIGS, "group")

    def value(name: str) -> Any:
        key = GROUP_CONFIGS[name]
        return parsed[name] if name in parsed else broker(key.broker_default) if key.broker_default else key.default

    for name, low, high in _BOUNDS:
        if value(name) < broker(low):
            raise KafkaError(ErrorCode.INVALID_CONFIG, f"{name} must be greater than or equal to {low}")
        if value(name) > broker(high):
            raise KafkaError(ErrorCode.INVALID_CONFIG, f"{name} must be less than or equal to {high}")
    for kind in ("consumer", "share"):
        if value(f"{kind}.session.timeout.ms") <= value(f"{kind}.heartbeat.interval.ms"):
            raise KafkaError(ErrorCode.INVALID_CONFIG,
                             f"{kind}.session.timeout.ms must be greater than {kind}.heartbeat.interval.ms")
    dlq = value("errors.deadletterqueue.topic.name")
    if dlq:
        prefix = broker("errors.deadletterqueue.topic.name.prefix")
        if dlq.startswith("__"):
            raise KafkaError(ErrorCode.INVALID_CONFIG, "errors.deadletterqueue.topic.name cannot start with '__'")
        if prefix and not dlq.startswith(prefix):
            raise KafkaError(ErrorCode.INVALID_CONFIG,
                             f"errors.deadletterqueue.topic.name must start with the prefix '{prefix}'")
    return parsed


# --- CLIENT_METRICS (KIP-714) ---

CLIENT_INSTANCE_ID, CLIENT_ID = "client_instance_id", "client_id"
MATCH_ATTRIBUTES = (CLIENT_INSTANCE_ID, CLIENT_ID, "client_software_name", "client_software_version",
                    "client_source_address", "client_source_port")
MIN_INTERVAL_MS, MAX_INTERVAL_MS, DEFAULT_INTERVAL_MS = 100, 3_600_000, 300_000

CLIENT_METRICS_CONFIGS: dict[str, ConfigKey] = {k.name: k for k in [
    ConfigKey("interval.ms", _I, DEFAULT_INTERVAL_MS, "Push interval in milliseconds"),
    ConfigKey("match", _LIST, [], "Client match pattern list"),
    ConfigKey("metrics", _LIST, [], "Subscription metrics list"),
]}


def parse_match(patterns: list[str]) -> dict[str, Any]:
    """Kafka's parseMatchingPatterns: attribute=regex pairs (regexes in RE2, matched whole)."""
    import re2  # google-re2: only client-metrics subscriptions use it (not imported at start-up)

    compiled = {}
    for pattern in patterns:
        parts = pattern.split("=")
        if len(parts) != 2 or parts[0].strip() not in MATCH_ATTRIBUTES:
            raise KafkaError(ErrorCode.INVALID_CONFIG, f"Illegal client matching pattern: {pattern}")
        try:
            compiled[parts[0].strip()] = re2.compile(parts[1].strip())
        except re2.error:
            raise KafkaError(ErrorCode.INVALID_CONFIG, f"Illegal client matching pattern: {pattern}") from None
    return compiled


def validate_client_metrics(name: str, configs: Mapping[str, str | None]) -> dict[str, Any]:
    """Kafka's ClientMetricsConfigs.validate (its INVALID_REQUEST and INVALID_CONFIG answers)."""
    if not name:
        raise KafkaError(ErrorCode.INVALID_REQUEST, "Subscription name can't be empty")
    for key in configs:
        if key not in CLIENT_METRICS_CONFIGS:
            raise KafkaError(ErrorCode.INVALID_REQUEST, f"Unknown client metrics configuration: {key}")
    parsed = {key: CLIENT_METRICS_CONFIGS[key].parse(value) for key, value in configs.items()}
    interval = parsed.get("interval.ms")
    if interval is not None and not MIN_INTERVAL_MS <= interval <= MAX_INTERVAL_MS:
        raise KafkaError(ErrorCode.INVALID_REQUEST, f"Invalid value {interval} for interval.ms, interval must be "
                                                    "between 100 and 3600000 (1 hour)")
    parse_match(parsed.get("match") or [])
    return parsed

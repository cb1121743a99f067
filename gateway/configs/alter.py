"""AlterConfigs and IncrementalAlterConfigs on one resource, checked in Kafka's order (ConfigAdminManager's
preprocessing, then the controller's ConfigurationControlManager and validator), then stored and acted on.

Every resource gets its own answer; a failed resource changes nothing. Error codes are Kafka's: topic,
group and list-operation failures are INVALID_CONFIG; broker value failures are INVALID_REQUEST (Kafka
wraps the broker's ConfigException so, KAFKA-13609); unknown broker config names are accepted and
stored, as Kafka allows custom broker configs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.configs.broker_defs import BROKER_CONFIGS, PER_BROKER
from gateway.configs.group_defs import CLIENT_METRICS_CONFIGS, GROUP_CONFIGS, validate_client_metrics, \
    validate_group_configs
from gateway.configs.store import ResourceType
from gateway.configs.describe import node_id_of
from gateway.limits import fits_every_version
from gateway.logs import LOG4J_LEVELS, ROOT_LOGGER, set_level
from partitions.config_def import ConfigType, to_string
from partitions.topic_configs import TOPIC_CONFIGS
from partitions.topics import validate_topic_name
from wire.errors import ErrorCode, KafkaError

SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3
OP_NAMES = {SET: "SET", DELETE: "DELETE", APPEND: "APPEND", SUBTRACT: "SUBTRACT"}
VALID_LOG_LEVELS = ", ".join(sorted(LOG4J_LEVELS))


def duplicate_resources(resources) -> set[tuple[int, str]]:
    seen, twice = set(), set()
    for r in resources:
        key = (r.resource_type, r.resource_name)
        (twice if key in seen else seen).add(key)
    return twice


def _common_checks(resource, *, incremental: bool) -> None:
    configs = resource.configs
    texts = [resource.resource_name] + [t for c in configs for t in (c.name, c.value)]
    if not all(fits_every_version(t) for t in texts):
        # stored names and values are answered again in every version (gateway.limits)
        raise KafkaError(ErrorCode.INVALID_REQUEST, "Resource names, config names and values longer than 32767 "
                                                    "bytes are not accepted.")
    names = [c.name for c in configs]
    if len(set(names)) != len(names):
        raise KafkaError(ErrorCode.INVALID_REQUEST, "Error due to duplicate config keys")
    nulls = [c.name for c in configs if c.value is None and not (incremental and c.config_operation == DELETE)]
    if nulls:
        raise KafkaError(ErrorCode.INVALID_REQUEST, "Null value not supported for : " + ", ".join(nulls))


def incremental_alter(broker, resource, validate_only: bool) -> None:
    """Apply one IncrementalAlterConfigs resource, or raise KafkaError (nothing changed)."""
    _common_checks(resource, incremental=True)
    kind, name = resource.resource_type, resource.resource_name
    ops = [(c.name, c.config_operation, c.value) for c in resource.configs]
    if kind == ResourceType.BROKER_LOGGER:
        return _alter_loggers(broker, name, ops, validate_only)
    if kind == ResourceType.BROKER:
        if name:
            _check_node(broker, name)
        current = broker.configs.dynamic(ResourceType.BROKER, name)
        new = _apply_ops(current, ops, _broker_key_type, _broker_default, broker_style=True)
        return _store_broker(broker, name, new, validate_only)
    if kind not in (ResourceType.TOPIC, ResourceType.GROUP, ResourceType.CLIENT_METRICS):
        raise KafkaError(ErrorCode.INVALID_REQUEST, f"Unknown resource type {kind}")
    if kind == ResourceType.TOPIC:
        _check_topic_name(name)
        topic = broker.logs.get(name)
        current = dict(topic.configs) if topic is not None else {}
        keys = TOPIC_CONFIGS
    elif kind == ResourceType.GROUP:
        current, keys = broker.configs.dynamic(kind, name), GROUP_CONFIGS
    else:
        current, keys = broker.configs.dynamic(kind, name), CLIENT_METRICS_CONFIGS
    new = _apply_ops(current, ops, lambda n: keys[n].type if n in keys else None,
                     lambda n: keys[n].default_string() if n in keys else None)
    _store(broker, kind, name, new, validate_only)


def legacy_alter(broker, resource, validate_only: bool) -> None:
    """Apply one AlterConfigs resource (its configs replace all of the resource's dynamic configs)."""
    _common_checks(resource, incremental=False)
    kind, name = resource.resource_type, resource.resource_name
    new = {c.name: c.value for c in resource.configs}
    if kind == ResourceType.BROKER:
        if name:
            _check_node(broker, name)
        return _store_broker(broker, name, new, validate_only)
    if kind not in (ResourceType.TOPIC, ResourceType.GROUP, ResourceType.CLIENT_METRICS):
        raise KafkaError(ErrorCode.INVALID_REQUEST, f"Unknown resource type {kind}")
    if kind == ResourceType.TOPIC:
        _check_topic_name(name)
    _store(broker, kind, name, new, validate_only)


def _check_node(broker, name: str) -> None:
    if node_id_of(name, broker.node_id, what="Node id") != broker.node_id:
        raise KafkaError(ErrorCode.INVALID_REQUEST, f"Unexpected broker id, expected {broker.node_id}, but "
                                                    f"received {name}")


def _check_topic_name(name: str) -> None:
    if not name:
        raise KafkaError(ErrorCode.INVALID_REQUEST, "Default topic resources are not allowed.")
    validate_topic_name(name)


def _broker_key_type(name: str) -> ConfigType | None:
    key = BROKER_CONFIGS.get(name)
    return key.type if key is not None else None


def _broker_default(name: str) -> str | None:
    key = BROKER_CONFIGS.get(name)
    return key.default_string() if key is not None else None


def _apply_ops(current: Mapping[str, str], ops, type_of, default_of, *, broker_style: bool = False) -> dict:
    """Kafka's incremental operations on a resource's stored configs (APPEND/SUBTRACT on LIST configs only)."""
    new = dict(current)
    for name, op, value in ops:
        if op == SET:
            new[name] = value
        elif op == DELETE:
            new.pop(name, None)
        elif op in (APPEND, SUBTRACT):
            if type_of(name) != ConfigType.LIST:
                if broker_style:
                    raise KafkaError(ErrorCode.INVALID_CONFIG, f"Config value {OP_NAMES[op].lower()} is not allowed "
                                                               f"for config key: {name}")
                raise KafkaError(ErrorCode.INVALID_CONFIG, f"Can't {OP_NAMES[op]} to key {name} because its type "
                                                           "is not LIST.")
            base = new.get(name)
            if base is None:
                base = default_of(name)
            parts = [p for p in (base or "").split(",") if p]
            if op == APPEND:
                parts += [v for v in value.split(",") if v not in parts]
            else:
                for v in value.split(","):
                    if v in parts:
                        parts.remove(v)
            new[name] = ",".join(parts)
        else:
            raise KafkaError(ErrorCode.INVALID_REQUEST, f"Unknown operations type {op}")
    return new


def _store_broker(broker, name: str, new: dict, validate_only: bool) -> None:
    """Kafka's DynamicBrokerConfig.validateConfigs, then store: topics and everything else see it at once."""
    fixed = sorted(n for n in new if n in BROKER_CONFIGS and BROKER_CONFIGS[n].dynamic is None)
    if fixed:
        raise KafkaError(ErrorCode.INVALID_REQUEST, f"Cannot update these configs dynamically: Set({', '.join(fixed)})")
    try:
        parsed = {n: BROKER_CONFIGS[n].parse(v) for n, v in new.items() if n in BROKER_CONFIGS}
    except KafkaError as exc:
        raise KafkaError(ErrorCode.INVALID_REQUEST, exc.message) from None
    per_broker = sorted(n for n in new if n in BROKER_CONFIGS and BROKER_CONFIGS[n].dynamic == PER_BROKER)
    if not name and per_broker:
        raise KafkaError(ErrorCode.INVALID_REQUEST, "Cannot update these configs at default cluster level, broker "
                                                    f"id must be specified: Set({', '.join(per_broker)})")
    if not validate_only:
        stored = {n: to_string(parsed[n]) if n in parsed else v for n, v in new.items()}
        broker.configs.replace(ResourceType.BROKER, name, stored)


def _store(broker, kind: int, name: str, new: dict, validate_only: bool) -> None:
    if kind == ResourceType.TOPIC:
        broker.logs.alter_topic_configs(name, new, validate_only=validate_only)
        return
    if kind == ResourceType.GROUP:
        if not name:
            raise KafkaError(ErrorCode.INVALID_REQUEST, "Default group resources are not allowed.")
        parsed: dict[str, Any] = validate_group_configs(new, broker.configs.broker)
        keys = GROUP_CONFIGS
    else:
        parsed = validate_client_metrics(name, new)
        keys = CLIENT_METRICS_CONFIGS
    if not validate_only:
        broker.configs.replace(kind, name, {n: to_string(keys[n].parse(new[n])) if n in keys else new[n]
                                            for n in parsed})


def _alter_loggers(broker, name: str, ops, validate_only: bool) -> None:
    """Kafka's RuntimeLoggerManager: SET or DELETE a logger's level (not persisted, as in Kafka)."""
    try:
        node = int(name)
    except ValueError:
        raise KafkaError(ErrorCode.INVALID_REQUEST, f"Node id must be an integer, but it is: {name}") from None
    if node != broker.node_id:
        # Kafka's message names its own node id twice
        raise KafkaError(ErrorCode.INVALID_REQUEST, f"Unexpected node id. Expected {broker.node_id}, but received "
                                                    f"{broker.node_id}")
    for logger, op, level in ops:
        if op in (APPEND, SUBTRACT):
            raise KafkaError(ErrorCode.INVALID_REQUEST, f"{OP_NAMES[op]} operation is not allowed for the "
                                                        "BROKER_LOGGER resource")
        if op not in (SET, DELETE):
            raise KafkaError(ErrorCode.INVALID_REQUEST, f"Unknown operation type {op} is not allowed for the "
                                                        "BROKER_LOGGER resource")
        if logger != ROOT_LOGGER:
            raise KafkaError(ErrorCode.INVALID_CONFIG, f"Logger {logger} does not exist!")
        if op == DELETE:
            raise KafkaError(ErrorCode.INVALID_REQUEST, f"Removing the log level of the {ROOT_LOGGER} logger is "
                                                        "not allowed")
        if level not in LOG4J_LEVELS:
            raise KafkaError(ErrorCode.INVALID_CONFIG, f"Cannot set the log level of {logger} to {level} as it is "
                                                       f"not a supported log level. Valid log levels are "
                                                       f"{VALID_LOG_LEVELS}")
    if not validate_only:
        for logger, op, level in ops:
            set_level(level)

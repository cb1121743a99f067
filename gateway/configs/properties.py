"""Kafka-style broker properties: `ottla serve --config server.properties --set key=value`.

The file is Java properties (key=value or key: value, # and ! comments, backslash continuations), with
Kafka's broker config names. Settings Ottla has a command-line flag for become that flag's value
(listeners -> --host/--port, log.dirs -> --data-dir, node.id, num.partitions, group.* ...); every other
name is kept as a STATIC_BROKER_CONFIG (validated; an unknown name is kept and reported, as Kafka warns
about it). Precedence, lowest first: Ottla's defaults, the --config file, command-line flags, --set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from gateway.configs.broker_defs import BROKER_CONFIGS
from gateway.java_properties import read_properties  # noqa: F401  (the serve path's reader, re-exported)
from gateway.listeners import ListenerError, parse_uris
from partitions.config_def import to_string
from wire.errors import KafkaError

# Config field -> the Kafka broker config it is
FIELDS = {
    "node_id": "node.id",
    "default_partitions": "num.partitions",
    "auto_create_topics": "auto.create.topics.enable",
    "max_request_size": "socket.request.max.bytes",
    "group_initial_rebalance_delay_ms": "group.initial.rebalance.delay.ms",
    "group_min_session_timeout_ms": "group.min.session.timeout.ms",
    "group_max_session_timeout_ms": "group.max.session.timeout.ms",
    "offsets_retention_minutes": "offsets.retention.minutes",
    "group_consumer_session_timeout_ms": "group.consumer.session.timeout.ms",
    "group_consumer_heartbeat_interval_ms": "group.consumer.heartbeat.interval.ms",
    "group_max_size": "group.max.size",
    "offset_metadata_max_bytes": "offset.metadata.max.bytes",
    "fetch_max_bytes": "fetch.max.bytes",
    "max_incremental_fetch_session_cache_slots": "max.incremental.fetch.session.cache.slots",
    "log_retention_check_interval_ms": "log.retention.check.interval.ms",
    "log_cleaner_backoff_ms": "log.cleaner.backoff.ms",
    "max_connections": "max.connections",
    "max_connections_per_ip": "max.connections.per.ip",
    "connections_max_idle_ms": "connections.max.idle.ms",
    "queued_max_request_bytes": "queued.max.request.bytes",
    "transaction_max_timeout_ms": "transaction.max.timeout.ms",
    "transactional_id_expiration_ms": "transactional.id.expiration.ms",
    "transaction_abort_timed_out_transaction_cleanup_interval_ms":
        "transaction.abort.timed.out.transaction.cleanup.interval.ms",
}
_LISTENER = re.compile(r"(?:[A-Za-z0-9_]+)://(\[[^\]]*\]|[^:,]*):([0-9]+)")
# A dev broker may ask for shorter KIP-848 timeouts than Kafka's minimums: the minimum follows
# (Kafka would refuse to start); group configs are then bounded by the lowered minimum.
_LOWERS_MINIMUM = {"group.consumer.session.timeout.ms": "group.consumer.min.session.timeout.ms",
                   "group.consumer.heartbeat.interval.ms": "group.consumer.min.heartbeat.interval.ms"}


class PropertiesError(ValueError):
    pass


def parse_set(items: Iterable[str]) -> dict[str, str]:
    """--set key=value (repeatable)."""
    props = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise PropertiesError(f"--set needs key=value, not {item!r}")
        props[key.strip()] = value.strip()
    return props


def _listener(value: str, name: str) -> tuple[str, int]:
    first = value.split(",")[0].strip()
    match = _LISTENER.fullmatch(first)
    if not match:
        raise PropertiesError(f"Invalid value {value} for configuration {name}: expected NAME://host:port")
    return match.group(1).strip("[]"), int(match.group(2))


def config_fields(props: Mapping[str, str]) -> dict[str, Any]:
    """The Config fields that Kafka-named properties set (validated with Kafka's messages)."""
    fields: dict[str, Any] = {}
    try:
        for field, name in FIELDS.items():
            if name in props:
                fields[field] = BROKER_CONFIGS[name].parse(props[name])
        if "broker.id" in props and "node.id" not in props:
            fields["node_id"] = BROKER_CONFIGS["broker.id"].parse(props["broker.id"])
        if "listeners" in props:
            host, port = _listener(props["listeners"], "listeners")
            fields["host"], fields["port"] = host or "0.0.0.0", port
            fields["listener_specs"] = tuple(f"{n}://{h}:{p}" for n, h, p in parse_uris(props["listeners"]))
        if "sasl.enabled.mechanisms" in props:
            fields["sasl_enabled_mechanisms"] = tuple(
                m.strip() for m in props["sasl.enabled.mechanisms"].split(",") if m.strip())
        for name, field in (("connections.max.reauth.ms", "connections_max_reauth_ms"),):
            if name in props:
                fields[field] = int(props[name])
        if "ssl.client.auth" in props:
            fields["ssl_client_auth"] = props["ssl.client.auth"].strip().lower()
        if "port" in props:  # pre-KIP-103 name, still common in dev setups
            fields["port"] = int(props["port"])
        if "advertised.listeners" in props:
            fields["advertised_host"], fields["advertised_port"] = _listener(props["advertised.listeners"],
                                                                             "advertised.listeners")
        for name in ("log.dirs", "log.dir"):
            if name in props:
                fields["data_dir"] = props[name].split(",")[0].strip()
                break
        if "log4j.root.loglevel" in props:
            fields["log_level"] = props["log4j.root.loglevel"].lower()
    except KafkaError as exc:
        raise PropertiesError(exc.message) from None
    except (ValueError, ListenerError) as exc:
        raise PropertiesError(str(exc)) from None
    return fields


def static_configs(config) -> dict[str, str]:
    """The broker's STATIC_BROKER_CONFIG layer: the properties given, plus every flag-backed setting whose
    value differs from Kafka's default (Ottla's own defaults count as its server.properties)."""
    static = dict(config.properties)
    for field, name in FIELDS.items():
        value = to_string(getattr(config, field))
        if name not in static and value != BROKER_CONFIGS[name].default_string():
            static[name] = value
    static.setdefault("listeners", ",".join(listener.uri() for listener in config.listeners))
    static.setdefault("advertised.listeners", ",".join(listener.uri(advertised=True) for listener in config.listeners))
    static.setdefault("listener.security.protocol.map",
                      ",".join(f"{listener.name}:{listener.security_protocol}" for listener in config.listeners))
    static.setdefault("sasl.enabled.mechanisms", ",".join(config.sasl_enabled_mechanisms))
    static.setdefault("connections.max.reauth.ms", str(config.connections_max_reauth_ms))
    static.setdefault("ssl.client.auth", config.ssl_client_auth)
    if not config.memory:
        static.setdefault("log.dirs", config.data_dir)
    static.setdefault("broker.id", str(config.node_id))
    static.setdefault("node.id", str(config.node_id))
    for name, minimum in _LOWERS_MINIMUM.items():
        if name in static and minimum not in static:
            value = BROKER_CONFIGS[name].parse(static[name])
            if value < BROKER_CONFIGS[minimum].default:
                static[minimum] = str(value)
    return static


def check_static(static: Mapping[str, str]) -> list[str]:
    """Validate the static configs (PropertiesError on a bad value); the names Kafka does not know."""
    unknown = []
    for name, value in static.items():
        key = BROKER_CONFIGS.get(name)
        if key is None:
            unknown.append(name)
            continue
        try:
            key.parse(value)
        except KafkaError as exc:
            raise PropertiesError(exc.message) from None
    return sorted(unknown)

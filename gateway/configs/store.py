"""The broker's configs as Kafka layers them (DynamicBrokerConfig), and the read API the rest of Ottla uses.

Broker configs resolve, highest first: DYNAMIC_BROKER_CONFIG (AlterConfigs on this node's id),
DYNAMIC_DEFAULT_BROKER_CONFIG (AlterConfigs on the cluster default, resource name ""),
STATIC_BROKER_CONFIG (server.properties / --config, --set, command-line flags), DEFAULT_CONFIG (Kafka's
default). Dynamic configs of BROKER, GROUP and CLIENT_METRICS resources are persisted through
storage.state() (keys: partitions.keys.config_state_key) and survive restarts; topic configs live with
their topic (partitions.logs).

Read API (all typed: int, float, bool, str, list[str], or None where Kafka has no default):
    configs.broker("log.retention.ms")                      this broker's effective value
    configs.group("my-group", "share.auto.offset.reset")   a group's value, else its broker default
    configs.topic_defaults()                                the broker's defaults for topic configs
    configs.listeners.append(fn)                            fn(resource_type, resource_name) after a change
Topics: `logs.get(name).config("retention.ms")` (partitions.topics.Topic.config).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from enum import IntEnum
from typing import Any

from gateway.configs.broker_defs import BROKER_CONFIGS, broker_synonyms
from gateway.configs.group_defs import CLIENT_METRICS_CONFIGS, GROUP_CONFIGS
from partitions.config_def import ConfigSource
from partitions.keys import CONFIG_STATE, config_state_key, parse_config_state_key
from partitions.topic_configs import TOPIC_CONFIGS, SynonymEntry, TopicDefault
from wire.errors import KafkaError


class ResourceType(IntEnum):
    """Kafka's ConfigResource.Type ids."""

    UNKNOWN = 0
    TOPIC = 2
    BROKER = 4
    BROKER_LOGGER = 8
    CLIENT_METRICS = 16
    GROUP = 32


_MISSING = object()


class DynamicConfigs:
    """Static and dynamic broker configs, group and client-metrics configs. Event-loop thread only."""

    def __init__(self, node_id: int, static: Mapping[str, str], store=None) -> None:
        self.node_id = node_id
        self.static = dict(static)
        self._store = store
        self._dynamic: dict[tuple[int, str], dict[str, str]] = {}
        self._cache: dict[str, Any] = {}
        self.listeners: list[Callable[[int, str], None]] = []
        if store is not None:
            for key, value in store.scan(CONFIG_STATE):
                self._dynamic[parse_config_state_key(key)] = json.loads(value)

    # --- stored dynamic configs ---

    def dynamic(self, resource_type: int, name: str) -> dict[str, str]:
        """A resource's dynamic configs as stored (strings), empty if none."""
        return dict(self._dynamic.get((resource_type, name), {}))

    def resources(self, resource_type: int) -> list[str]:
        """Names of the resources of a type that have dynamic configs."""
        return sorted(name for kind, name in self._dynamic if kind == resource_type)

    def replace(self, resource_type: int, name: str, configs: Mapping[str, str]) -> None:
        """Store a resource's whole set of dynamic configs (empty: none) durably, then tell the listeners."""
        key = (resource_type, name)
        if dict(configs) == self._dynamic.get(key, {}):
            return
        if configs:
            self._dynamic[key] = dict(configs)
            if self._store is not None:
                self._store.put(config_state_key(resource_type, name), json.dumps(dict(configs)).encode())
        else:
            self._dynamic.pop(key, None)
            if self._store is not None:
                self._store.delete(config_state_key(resource_type, name))
        self._cache.clear()
        for listener in list(self.listeners):
            listener(resource_type, name)

    # --- broker configs ---

    def layers(self) -> list[tuple[ConfigSource, Mapping[str, str]]]:
        """The broker's config layers, highest priority first (DEFAULT_CONFIG excluded)."""
        return [(ConfigSource.DYNAMIC_BROKER_CONFIG, self._dynamic.get((ResourceType.BROKER, str(self.node_id)), {})),
                (ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, self._dynamic.get((ResourceType.BROKER, ""), {})),
                (ConfigSource.STATIC_BROKER_CONFIG, self.static)]

    def broker(self, name: str) -> Any:
        """This broker's effective typed value of a broker config (a custom config: its string)."""
        value = self._cache.get(name, _MISSING)
        if value is _MISSING:
            value = self._cache[name] = self._resolve(name)
        return value

    def _resolve(self, name: str) -> Any:
        key = BROKER_CONFIGS.get(name)
        for _, layer in self.layers():
            if name in layer:
                if key is None:
                    return layer[name]
                try:
                    return key.parse(layer[name])
                except KafkaError:  # a stored value an older Ottla accepted: skipped, as Kafka skips it
                    continue
        return key.default if key is not None else None

    def broker_synonyms(self, name: str) -> list[SynonymEntry]:
        """Kafka's configSynonyms: every layer that sets this config or a synonym, in priority order,
        from the first entry naming the config itself (as Kafka drops the ones before it)."""
        names = broker_synonyms(name)
        entries = []
        for source, layer in self.layers():
            entries += [SynonymEntry(n, _shown(n, layer[n]), source) for n in names if n in layer]
        for n in names:
            key = BROKER_CONFIGS.get(n)
            if key is not None and key.default is not None:
                entries.append(SynonymEntry(n, _shown(n, key.default_string()), ConfigSource.DEFAULT_CONFIG))
        while entries and entries[0].name != name:
            entries.pop(0)
        return entries

    def topic_defaults(self) -> dict[str, TopicDefault]:
        """Each topic config's server default: the first of its broker synonyms that has a value."""
        defaults = {}
        for topic_name, topic_key in TOPIC_CONFIGS.items():
            if not topic_key.synonyms:
                continue
            value = topic_key.default
            for synonym in topic_key.synonyms:
                found = self.broker(synonym.name)
                if found is not None:
                    value = found * synonym.factor if synonym.factor != 1 else found
                    break
            defaults[topic_name] = TopicDefault(value, tuple(self.broker_synonyms(topic_key.synonyms[0].name)))
        return defaults

    # --- group and client-metrics configs ---

    def group(self, group_id: str, name: str) -> Any:
        """A group config's value for one group: its own override, else the broker's default."""
        override = self._dynamic.get((ResourceType.GROUP, group_id), {}).get(name)
        key = GROUP_CONFIGS[name]
        if override is not None:
            return key.parse(override)
        return self.broker(key.broker_default) if key.broker_default else key.default

    def client_metrics(self) -> dict[str, dict[str, Any]]:
        """Every CLIENT_METRICS subscription: name -> {"metrics", "interval.ms", "match"} typed."""
        subscriptions = {}
        for name in self.resources(ResourceType.CLIENT_METRICS):
            stored = self._dynamic[(ResourceType.CLIENT_METRICS, name)]
            subscriptions[name] = {k: key.parse(stored[k]) if k in stored else key.default
                                   for k, key in CLIENT_METRICS_CONFIGS.items()}
        return subscriptions


def _shown(name: str, value: str | None) -> str | None:
    key = BROKER_CONFIGS.get(name)
    return None if key is not None and key.sensitive else value


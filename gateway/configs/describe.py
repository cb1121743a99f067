"""DescribeConfigs answers per resource, as Kafka's ConfigHelper builds them: value, source, read-only and
sensitive flags, config type, synonyms (include_synonyms) and documentation (include_documentation)."""

from __future__ import annotations

from gateway.configs.broker_defs import BROKER_CONFIGS
from gateway.configs.group_defs import GROUP_CONFIGS
from gateway.configs.store import ResourceType
from gateway.limits import fit_message
from gateway.logs import ROOT_LOGGER, root_level
from partitions.config_def import ConfigSource, ConfigType, to_string
from partitions.topic_configs import SynonymEntry
from partitions.topics import validate_topic_name
from wire.errors import ErrorCode, KafkaError


def _entry(name, value, source, config_type, *, read_only=False, sensitive=False, synonyms=(), doc=None) -> dict:
    return {"name": name, "value": None if sensitive else value, "read_only": read_only,
            "is_default": source == ConfigSource.DEFAULT_CONFIG, "config_source": source, "is_sensitive": sensitive,
            "synonyms": [{"name": s.name, "value": s.value, "source": s.source} for s in synonyms],
            "config_type": config_type, "documentation": doc}


def node_id_of(name: str, node_id: int, *, what: str = "Broker id") -> int:
    try:
        return int(name)
    except ValueError:
        raise KafkaError(ErrorCode.INVALID_REQUEST, f"{what} must be an integer, but it is: {name}") from None


def _topic(broker, name: str) -> list[dict]:
    validate_topic_name(name)
    if broker.logs.get(name) is None:
        raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, None)
    return [_entry(c.name, c.value, c.source, c.config_type, synonyms=c.synonyms, doc=c.documentation)
            for c in broker.logs.describe_configs(name)]


def _broker(broker, name: str) -> list[dict]:
    configs = broker.configs
    if name == "":
        # the cluster default: only what is set there, with its DYNAMIC_DEFAULT_BROKER_CONFIG synonyms
        entries = []
        for config_name, value in sorted(configs.dynamic(ResourceType.BROKER, "").items()):
            key = BROKER_CONFIGS.get(config_name)
            synonyms = [s for s in configs.broker_synonyms(config_name)
                        if s.source == ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG]
            entries.append(_broker_entry(config_name, value, key, synonyms))
        return entries
    if node_id_of(name, broker.node_id) != broker.node_id:
        raise KafkaError(ErrorCode.INVALID_REQUEST, f"Unexpected broker id, expected {broker.node_id} or empty "
                                                    f"string, but received {name}")
    names = set(BROKER_CONFIGS)
    for _, layer in configs.layers():
        names.update(layer)  # custom configs set statically or dynamically are described too, as Kafka does
    return [_broker_entry(n, to_string(configs.broker(n)), BROKER_CONFIGS.get(n), configs.broker_synonyms(n))
            for n in sorted(names)]


def _broker_entry(name, value, key, synonyms) -> dict:
    source = synonyms[0].source if synonyms else ConfigSource.DEFAULT_CONFIG
    if key is None:
        return _entry(name, value, source, ConfigType.UNKNOWN, read_only=True, synonyms=synonyms)
    return _entry(name, value, source, key.type, read_only=key.dynamic is None, sensitive=key.sensitive,
                  synonyms=synonyms, doc=key.doc)


def _broker_logger(broker, name: str) -> list[dict]:
    if name == "":
        raise KafkaError(ErrorCode.INVALID_REQUEST, "Broker id must not be empty")
    if node_id_of(name, broker.node_id) != broker.node_id:
        raise KafkaError(ErrorCode.INVALID_REQUEST, f"Unexpected broker id, expected {broker.node_id} but "
                                                    f"received {name}")
    return [_entry(ROOT_LOGGER, root_level(), ConfigSource.DYNAMIC_BROKER_LOGGER_CONFIG, ConfigType.UNKNOWN)]


def _group(broker, name: str) -> list[dict]:
    if name == "":
        raise KafkaError(ErrorCode.INVALID_REQUEST, "Group name must not be empty")
    overrides = broker.configs.dynamic(ResourceType.GROUP, name)
    entries = []
    for config_name, key in GROUP_CONFIGS.items():
        value = to_string(broker.configs.group(name, config_name))
        source = ConfigSource.GROUP_CONFIG if config_name in overrides else ConfigSource.DEFAULT_CONFIG
        entries.append(_entry(config_name, value, source, key.type,
                              synonyms=(SynonymEntry(config_name, value, source),), doc=key.doc))
    return entries


def _client_metrics(broker, name: str) -> list[dict]:
    if name == "":
        raise KafkaError(ErrorCode.INVALID_REQUEST, "Client metrics subscription name must not be empty")
    return [_entry(k, v, ConfigSource.CLIENT_METRICS_CONFIG, ConfigType.UNKNOWN)
            for k, v in sorted(broker.configs.dynamic(ResourceType.CLIENT_METRICS, name).items())]


_DESCRIBERS = {ResourceType.TOPIC: _topic, ResourceType.BROKER: _broker, ResourceType.BROKER_LOGGER: _broker_logger,
               ResourceType.GROUP: _group, ResourceType.CLIENT_METRICS: _client_metrics}


def describe_resource(broker, resource, *, include_synonyms: bool, include_documentation: bool) -> dict:
    result = {"error_code": ErrorCode.NONE, "error_message": None, "resource_type": resource.resource_type,
              "resource_name": resource.resource_name, "configs": []}
    describer = _DESCRIBERS.get(resource.resource_type)
    try:
        if describer is None:
            kind = next((t.name for t in ResourceType if t == resource.resource_type), "UNKNOWN")
            raise KafkaError(ErrorCode.INVALID_REQUEST, f"Unexpected resource type {kind} for resource "
                                                        f"{resource.resource_name}")
        entries = describer(broker, resource.resource_name)
    except KafkaError as exc:
        result["error_code"], result["error_message"] = exc.code, fit_message(exc.message)
        return result
    keys = resource.configuration_keys
    if keys:
        wanted = set(keys)
        entries = [e for e in entries if e["name"] in wanted]
    for entry in entries:
        if not include_synonyms:
            entry["synonyms"] = []
        if not include_documentation:
            entry["documentation"] = None
    result["configs"] = entries
    return result

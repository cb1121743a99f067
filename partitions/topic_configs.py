"""Every topic config Kafka 4.x defines (Kafka's LogConfig): type, default, validator, documentation,
the broker configs that supply its server default (ServerTopicConfigSynonyms), and what Ottla does with it.

`ignored` says why Ottla accepts a config without acting on it (as Kafka itself ignores flush.* and
preallocate); None means the broker acts on it. A helper that starts acting on a config sets its
`ignored` to None here. Dropped in Kafka 4.0 and refused as unknown, as Kafka refuses them:
message.format.version, message.downconversion.enable, message.timestamp.difference.max.ms.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from partitions.config_def import (
    INT64_MAX,
    ConfigKey,
    ConfigSource,
    ConfigType,
    at_least,
    between,
    each_one_of,
    invalid,
    one_of,
    parse_all,
    to_string,
)
from wire.errors import ErrorCode, KafkaError

MIB = 1024 * 1024
HOUR_MS = 3_600_000
MINUTE_MS = 60_000
SINGLE_BROKER = "one broker holds the only replica"
NO_SEGMENT_FILES = "Ottla stores batches in RocksDB, not in segment and index files"
NO_REMOTE_STORAGE = "Ottla has no tiered storage"

# DescribeConfigs config_source ids, kept as names for existing callers.
DYNAMIC_TOPIC_CONFIG = ConfigSource.DYNAMIC_TOPIC_CONFIG
STATIC_BROKER_CONFIG = ConfigSource.STATIC_BROKER_CONFIG
DEFAULT_CONFIG = ConfigSource.DEFAULT_CONFIG


class Synonym(NamedTuple):
    """A broker config that supplies a topic config's server default, and the factor to the topic's unit."""

    name: str
    factor: int = 1  # log.retention.hours -> retention.ms: 3,600,000


@dataclass(frozen=True)
class TopicConfigKey(ConfigKey):
    """A topic config: its Kafka definition, broker synonyms and what Ottla ignores."""

    synonyms: tuple[Synonym, ...] = ()  # in Kafka's priority order; the first is the "server default property"
    ignored: str | None = None


class SynonymEntry(NamedTuple):
    """A DescribeConfigs synonym: a config that supplies the value, its value as a string, and its source."""

    name: str
    value: str | None
    source: ConfigSource


class TopicDefault(NamedTuple):
    """A topic config's server default, as the broker's configs resolve it (see gateway/configs/broker.py)."""

    value: Any  # typed, already in the topic config's unit
    synonyms: tuple[SynonymEntry, ...]  # what DescribeConfigs lists under include_synonyms (Kafka's order)


class ConfigEntry(NamedTuple):
    name: str
    value: str | None
    is_default: bool
    read_only: bool
    sensitive: bool
    source: int = DEFAULT_CONFIG
    config_type: int = ConfigType.UNKNOWN
    synonyms: tuple[SynonymEntry, ...] = ()
    documentation: str | None = None


_THROTTLED_REPLICA = re.compile(r"[0-9]+:[0-9]+")


def _throttled_replicas(name: str, value: Any) -> None:
    """Kafka's ThrottledReplicaListValidator: "*", or partition:broker pairs."""
    items = value or []
    if items == ["*"] or all(_THROTTLED_REPLICA.fullmatch(item) for item in items):
        return
    raise invalid(name, value, "must be the literal '*' or a list of replicas in the following format: "
                               "[partitionId]:[brokerId],[partitionId]:[brokerId],...")


def _compression_level(low: int, high: int, default: int):
    def check(name: str, value: Any) -> None:
        if value > high or (value < low and value != default):
            raise invalid(name, value, f"Value must be between {low} and {high} or equal to {default}")
    return check


def _key(name, config_type, default, doc, validator=None, synonyms=(), ignored=None) -> TopicConfigKey:
    return TopicConfigKey(name, config_type, default, doc, validator, synonyms=tuple(
        Synonym(*s) if isinstance(s, tuple) else Synonym(s) for s in synonyms), ignored=ignored)


_L, _I, _S, _B, _D, _LIST = ConfigType.LONG, ConfigType.INT, ConfigType.STRING, ConfigType.BOOLEAN, \
    ConfigType.DOUBLE, ConfigType.LIST

TOPIC_CONFIGS: dict[str, TopicConfigKey] = {k.name: k for k in sorted([
    _key("cleanup.policy", _LIST, ["delete"], "The retention policy of old log segments: \"delete\" removes "
         "segments past their retention time or size, \"compact\" keeps the latest value of each key; both may "
         "be given, and an empty list keeps everything.", each_one_of("compact", "delete"),
         ["log.cleanup.policy"]),
    _key("compression.type", _S, "producer", "The final compression codec of the topic's batches: gzip, snappy, "
         "lz4, zstd, uncompressed, or producer to keep the codec the producer chose.",
         one_of("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"), ["compression.type"],
         "batches are stored as the producer compressed them"),
    _key("compression.gzip.level", _I, -1, "The gzip level used when compression.type is gzip.",
         _compression_level(1, 9, -1), ["compression.gzip.level"], "batches are never recompressed"),
    _key("compression.lz4.level", _I, 9, "The lz4 level used when compression.type is lz4.", between(1, 17),
         ["compression.lz4.level"], "batches are never recompressed"),
    _key("compression.zstd.level", _I, 3, "The zstd level used when compression.type is zstd.",
         between(-131072, 22), ["compression.zstd.level"], "batches are never recompressed"),
    _key("delete.retention.ms", _L, 86_400_000, "How long delete tombstones are kept on compacted topics, so that "
         "a consumer reading from the start sees them.", at_least(0), ["log.cleaner.delete.retention.ms"]),
    _key("file.delete.delay.ms", _L, 60_000, "How long to wait before deleting a removed segment file.",
         at_least(0), ["log.segment.delete.delay.ms"], NO_SEGMENT_FILES),
    _key("flush.messages", _L, INT64_MAX, "Force an fsync after this many messages (the default leaves flushing "
         "to the operating system).", at_least(1), ["log.flush.interval.messages"],
         "ignored as Kafka advises: durability comes from RocksDB's write-ahead log"),
    _key("flush.ms", _L, INT64_MAX, "Force an fsync when data is older than this (the default leaves flushing to "
         "the operating system).", at_least(0), ["log.flush.interval.ms", "log.flush.scheduler.interval.ms"],
         "ignored as Kafka advises: durability comes from RocksDB's write-ahead log"),
    _key("follower.replication.throttled.replicas", _LIST, [], "Replicas whose follower replication is throttled: "
         "[partitionId]:[brokerId],... or *.", _throttled_replicas, (), SINGLE_BROKER),
    _key("index.interval.bytes", _I, 4096, "How often an offset index entry is added.", at_least(0),
         ["log.index.interval.bytes"], NO_SEGMENT_FILES),
    _key("leader.replication.throttled.replicas", _LIST, [], "Replicas whose leader replication is throttled: "
         "[partitionId]:[brokerId],... or *.", _throttled_replicas, (), SINGLE_BROKER),
    _key("local.retention.bytes", _L, -2, "The most bytes kept locally before tiered storage deletes a "
         "partition's local segments (-2: retention.bytes).", at_least(-2), ["log.local.retention.bytes"],
         NO_REMOTE_STORAGE),
    _key("local.retention.ms", _L, -2, "How long segments are kept locally before tiered storage deletes them "
         "(-2: retention.ms).", at_least(-2), ["log.local.retention.ms"], NO_REMOTE_STORAGE),
    _key("max.compaction.lag.ms", _L, INT64_MAX, "The longest a message stays uncompacted.", at_least(1),
         ["log.cleaner.max.compaction.lag.ms"]),
    _key("max.message.bytes", _I, 1_048_588, "The largest record batch size the topic accepts (after "
         "compression).", at_least(0), ["message.max.bytes"]),
    _key("message.timestamp.after.max.ms", _L, HOUR_MS, "How far a CreateTime timestamp may be ahead of the "
         "broker's clock.", at_least(0), ["log.message.timestamp.after.max.ms"]),
    _key("message.timestamp.before.max.ms", _L, INT64_MAX, "How far a CreateTime timestamp may be behind the "
         "broker's clock.", at_least(0), ["log.message.timestamp.before.max.ms"]),
    _key("message.timestamp.type", _S, "CreateTime", "Whether a record's timestamp is the producer's "
         "(CreateTime) or the broker's append time (LogAppendTime).", one_of("CreateTime", "LogAppendTime"),
         ["log.message.timestamp.type"]),
    _key("min.cleanable.dirty.ratio", _D, 0.5, "The share of the log that must be uncompacted before the "
         "cleaner compacts it.", between(0, 1), ["log.cleaner.min.cleanable.ratio"]),
    _key("min.compaction.lag.ms", _L, 0, "The shortest time a message stays uncompacted.", at_least(0),
         ["log.cleaner.min.compaction.lag.ms"]),
    _key("min.insync.replicas", _I, 1, "The fewest in-sync replicas that must acknowledge an acks=all write.",
         at_least(1), ["min.insync.replicas"]),  # above 1, acks=all writes get NOT_ENOUGH_REPLICAS
    _key("preallocate", _B, False, "Preallocate segment files when they are created.", None,
         ["log.preallocate"], NO_SEGMENT_FILES),
    _key("remote.log.copy.disable", _B, False, "Stop copying segments to tiered storage (reads stay possible).",
         None, (), NO_REMOTE_STORAGE),
    _key("remote.log.delete.on.disable", _B, False, "Delete the tiered data when tiered storage is turned off.",
         None, (), NO_REMOTE_STORAGE),
    _key("remote.storage.enable", _B, False, "Keep this topic's older segments in tiered storage.", None, (),
         NO_REMOTE_STORAGE),
    _key("retention.bytes", _L, -1, "The most bytes a partition keeps before old data is deleted "
         "(cleanup.policy delete; -1: no limit).", None, ["log.retention.bytes"]),
    _key("retention.ms", _L, 7 * 24 * HOUR_MS, "How long data is kept before it is deleted (cleanup.policy "
         "delete; -1: no limit).", at_least(-1),
         ["log.retention.ms", ("log.retention.minutes", MINUTE_MS), ("log.retention.hours", HOUR_MS)]),
    _key("segment.bytes", _I, 1024 * MIB, "The largest segment size; retention and compaction work a segment at "
         "a time.", at_least(MIB), ["log.segment.bytes"]),
    _key("segment.index.bytes", _I, 10 * MIB, "The size of a segment's offset index.", at_least(4),
         ["log.index.size.max.bytes"], NO_SEGMENT_FILES),
    _key("segment.jitter.ms", _L, 0, "A random amount subtracted from segment.ms so that segments do not all "
         "roll at once.", at_least(0), ["log.roll.jitter.ms", ("log.roll.jitter.hours", HOUR_MS)],
         NO_SEGMENT_FILES),
    _key("segment.ms", _L, 7 * 24 * HOUR_MS, "The longest time before a segment is rolled, even if it is not "
         "full.", at_least(1), ["log.roll.ms", ("log.roll.hours", HOUR_MS)]),
    _key("unclean.leader.election.enable", _B, False, "Allow an out-of-sync replica to become leader.", None,
         ["unclean.leader.election.enable"], SINGLE_BROKER),
    # KIP-1191: a share group may only dead-letter into a topic that allows it.
    _key("errors.deadletterqueue.group.enable", _B, False, "Allow share groups to write dead-letter records to "
         "this topic (KIP-1191).", None, (), "read by share groups' dead-letter queues"),
], key=lambda k: k.name)}


def parse_configs(configs: Mapping[str, str | None]) -> dict[str, Any]:
    """Every config parsed and validated (typed values), or KafkaError(INVALID_CONFIG) naming the first bad one."""
    parsed = parse_all(configs, TOPIC_CONFIGS, "topic")
    _check_together(parsed)
    return parsed


def _check_together(parsed: Mapping[str, Any]) -> None:
    """Kafka's LogConfig.validateValues: the checks across configs."""
    low = parsed.get("min.compaction.lag.ms", TOPIC_CONFIGS["min.compaction.lag.ms"].default)
    high = parsed.get("max.compaction.lag.ms", TOPIC_CONFIGS["max.compaction.lag.ms"].default)
    if low > high:
        raise KafkaError(ErrorCode.INVALID_CONFIG, "conflict topic config setting min.compaction.lag.ms "
                         f"({low}) > max.compaction.lag.ms ({high})")
    if parsed.get("remote.storage.enable"):
        raise KafkaError(ErrorCode.INVALID_CONFIG, "Tiered Storage functionality is disabled in the broker. "
                         "Topic cannot be configured with remote log storage.")


def validate_configs(configs: Mapping[str, str | None]) -> dict[str, str]:
    """The configs as a plain dict of canonical strings (what is stored), or KafkaError(INVALID_CONFIG)."""
    return {name: to_string(value) for name, value in parse_configs(configs).items()}


def effective(name: str, explicit: Mapping[str, Any], defaults: Mapping[str, TopicDefault]) -> Any:
    """A config's typed value: the topic's own, else the broker's default for topics, else Kafka's default."""
    if name in explicit:
        return explicit[name]
    server = defaults.get(name)
    return server.value if server is not None else TOPIC_CONFIGS[name].default


def describe(explicit: Mapping[str, str], defaults: Mapping[str, TopicDefault]) -> list[ConfigEntry]:
    """Every topic config with its value, source, type, synonyms (Kafka's order) and documentation."""
    entries = []
    for name, key in TOPIC_CONFIGS.items():
        server = defaults.get(name)
        synonyms = server.synonyms if server is not None else ()
        if name in explicit:
            value = to_string(key.parse(explicit[name]))
            synonyms = (SynonymEntry(name, value, ConfigSource.DYNAMIC_TOPIC_CONFIG),) + synonyms
        else:
            value = to_string(server.value if server is not None else key.default)
        source = synonyms[0].source if synonyms else ConfigSource.DEFAULT_CONFIG
        entries.append(ConfigEntry(name, value, source == ConfigSource.DEFAULT_CONFIG, False, False, source,
                                   key.type, synonyms, key.doc))
    return entries

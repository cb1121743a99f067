"""Logs: the broker's topics and their partition logs over one storage engine (the gateway's facade)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from partitions.config_def import ConfigSource
from partitions.log import PartitionLog
from partitions.storage import Storage, StorageError
from partitions.topic_configs import (
    TOPIC_CONFIGS,
    ConfigEntry,
    SynonymEntry,
    TopicDefault,
    describe,
    parse_configs,
    validate_configs,
)
from partitions.topics import Topic, is_internal_topic, new_topic_id, unify_collision_chars, validate_topic_name
from wire.errors import ErrorCode, KafkaError

MAX_PARTITIONS_PER_TOPIC = 10_000  # Kafka's MAX_PARTITIONS_PER_BATCH for one CreateTopics request


class Logs:
    """All topics, loaded from storage on open. Not thread-safe: used from the event-loop thread only."""

    def __init__(self, storage: Storage, *, auto_create_topics: bool = True, default_partitions: int = 1,
                 default_configs: Mapping[str, str] | None = None) -> None:
        if default_partitions < 1:
            raise ValueError(f"default_partitions must be at least 1, not {default_partitions}")
        self.storage = storage
        self.auto_create_topics = auto_create_topics
        self.default_partitions = default_partitions
        # The broker's defaults for topic configs (gateway.configs resolves them from broker configs);
        # default_configs (topic config names) stand for static broker settings, as in tests.
        self.topic_defaults: dict[str, TopicDefault] = static_topic_defaults(default_configs or {})
        # Called with the topic whose configs changed, or None when the broker's defaults changed.
        self.config_listeners: list[Callable[[Topic | None], None]] = []
        self.topics: dict[str, Topic] = {}
        self._by_id: dict[bytes, Topic] = {}
        self._collision_names: dict[str, str] = {}
        for record in storage.load_topics():
            topic = Topic(record.name, record.topic_id, record.configs, self.topic_defaults,
                          is_internal=record.is_internal)
            topic.partitions = [PartitionLog(topic, i, storage, storage.load_partition(record.topic_id, i))
                                for i in range(record.num_partitions)]
            self._register(topic)

    def get(self, name: str) -> Topic | None:
        return self.topics.get(name)

    def get_by_id(self, topic_id: bytes) -> Topic | None:
        return self._by_id.get(topic_id)

    def create_topic(self, name: str, num_partitions: int = -1, configs: Mapping[str, str | None] | None = None,
                     *, validate_only: bool = False) -> Topic:
        """Create a topic (num_partitions -1: the broker default), checked as Kafka's controller does.

        Raises KafkaError: INVALID_TOPIC_EXCEPTION (name rules, or a '.'/'_' collision with an existing
        topic), TOPIC_ALREADY_EXISTS, INVALID_CONFIG, INVALID_PARTITIONS. With validate_only the
        returned topic is not registered or stored (its partitions must not be used).
        """
        validate_topic_name(name)
        if name in self.topics:
            raise KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, f"Topic '{name}' already exists.")
        checked = validate_configs(configs or {})
        if num_partitions == -1:
            num_partitions = self.default_partitions
        if num_partitions < 1:
            raise KafkaError(ErrorCode.INVALID_PARTITIONS,
                             "Number of partitions was set to an invalid non-positive value.")
        if num_partitions > MAX_PARTITIONS_PER_TOPIC:
            raise KafkaError(ErrorCode.INVALID_PARTITIONS, "Excessively large number of partitions per request.")
        clash = self._collision_names.get(unify_collision_chars(name))
        if clash is not None:
            raise KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, f"Topic '{name}' collides with existing topic: {clash}")
        topic_id = new_topic_id()
        while topic_id in self._by_id:
            topic_id = new_topic_id()
        topic = Topic(name, topic_id, checked, self.topic_defaults, is_internal=is_internal_topic(name))
        topic.partitions = [PartitionLog(topic, i, self.storage) for i in range(num_partitions)]
        if not validate_only:
            self.storage.save_topic(topic.record())
            self._register(topic)
        return topic

    def add_partitions(self, name: str, count: int, *, validate_only: bool = False) -> Topic:
        """Grow a topic to `count` partitions (CreatePartitions), checked as Kafka's controller does.

        Raises KafkaError: UNKNOWN_TOPIC_OR_PARTITION, INVALID_PARTITIONS (not an increase, or too many).
        """
        topic = self.topics.get(name)
        if topic is None:
            raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, None)
        current = len(topic.partitions)
        if count == current:
            raise KafkaError(ErrorCode.INVALID_PARTITIONS, f"Topic already has {current} partition(s).")
        if count < current:
            raise KafkaError(ErrorCode.INVALID_PARTITIONS,
                             f"The topic {name} currently has {current} partition(s); {count} would not be an increase.")
        if count - current > MAX_PARTITIONS_PER_TOPIC:
            raise KafkaError(ErrorCode.INVALID_PARTITIONS, "Excessively large number of partitions per request.")
        if not validate_only:
            self.storage.save_topic(topic.record()._replace(num_partitions=count))  # stored first, then served
            topic.partitions.extend(PartitionLog(topic, i, self.storage) for i in range(current, count))
        return topic

    def ensure_internal_topic(self, name: str, num_partitions: int,
                              configs: Mapping[str, str] | None = None) -> Topic:
        """The internal topic `name` (is_internal, shown in Metadata), created with these partitions if missing."""
        topic = self.topics.get(name)
        return topic if topic is not None else self.create_topic(name, num_partitions, configs)

    def delete_topic(self, name: str) -> None:
        """Remove a topic with all its batches and producer state (UNKNOWN_TOPIC_OR_PARTITION if absent)."""
        topic = self.topics.get(name)
        if topic is None:
            raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"Topic '{name}' does not exist.")
        self.storage.delete_topic(topic.record())
        topic.deleted = True
        del self.topics[name]
        del self._by_id[topic.topic_id]
        del self._collision_names[unify_collision_chars(name)]
        for log in topic.partitions:
            for listener in list(log.listeners):
                listener(log)  # waiting fetches look again and find the topic gone

    def partition(self, name: str, index: int) -> PartitionLog:
        topic = self.topics.get(name)
        log = topic.partition(index) if topic is not None else None
        if log is None:
            raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"{name}-{index} does not exist")
        return log

    def describe_configs(self, name: str) -> list[ConfigEntry]:
        topic = self.topics.get(name)
        if topic is None:
            raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"Topic '{name}' does not exist.")
        return describe(topic.configs, self.topic_defaults)

    def alter_topic_configs(self, name: str, configs: Mapping[str, str], *, validate_only: bool = False) -> None:
        """Replace a topic's explicit configs (persisted with the topic), validated as Kafka's controller does.

        Raises KafkaError: UNKNOWN_TOPIC_OR_PARTITION, INVALID_CONFIG. Nothing changes on error.
        """
        checked = validate_configs(configs)  # Kafka's controller validates before it looks the topic up
        topic = self.topics.get(name)
        if topic is None:
            raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"The topic '{name}' does not exist.")
        if validate_only or checked == topic.configs:
            return
        topic.configs = checked
        self.storage.save_topic(topic.record())
        topic.refresh()
        for listener in list(self.config_listeners):
            listener(topic)

    def set_topic_defaults(self, defaults: Mapping[str, TopicDefault]) -> None:
        """The broker's defaults for topic configs changed (a dynamic broker config): every topic re-reads."""
        if dict(defaults) == self.topic_defaults:
            return
        self.topic_defaults.clear()
        self.topic_defaults.update(defaults)
        for topic in self.topics.values():
            topic.refresh()
        for listener in list(self.config_listeners):
            listener(None)

    def next_producer_id(self) -> int:
        return self.storage.next_producer_id()

    def close(self) -> None:
        # every active segment's summary whole first (partitions/segments.py SAVE_EVERY): a cleanly closed data dir
        # then needs nothing added back on open, and a broker from before SAVE_EVERY opens it as it was
        writes = [write for topic in self.topics.values() for log in topic.partitions
                  if (write := log.unsaved_segments()) is not None]
        if writes:
            try:
                self.storage.append_many(writes)
            except StorageError:  # (a full disk: opening adds the batches back from the index anyway)
                pass
        self.storage.close()

    def _register(self, topic: Topic) -> None:
        self.topics[topic.name] = topic
        self._by_id[topic.topic_id] = topic
        self._collision_names[unify_collision_chars(topic.name)] = topic.name


def static_topic_defaults(configs: Mapping[str, str]) -> dict[str, TopicDefault]:
    """Topic-config-named broker defaults as if set in server.properties under their first synonym."""
    parsed = parse_configs(configs)
    defaults = {}
    for name, value in parsed.items():
        synonyms = TOPIC_CONFIGS[name].synonyms
        entry = (SynonymEntry(synonyms[0].name, configs[name].strip(), ConfigSource.STATIC_BROKER_CONFIG),) \
            if synonyms else ()
        defaults[name] = TopicDefault(value, entry)
    return defaults

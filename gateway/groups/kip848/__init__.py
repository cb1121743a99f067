"""KIP-848 consumer groups ("consumer" group protocol): server-side assignment driven by ConsumerGroupHeartbeat."""

from gateway.groups.kip848.coordinator import ConsumerGroupCoordinator
from gateway.groups.kip848.group import ConsumerGroup, ConsumerGroupState
from gateway.groups.kip848.topics import LogsTopics, MemoryTopics, TopicInfo, TopicMetadata

__all__ = [
    "ConsumerGroup", "ConsumerGroupCoordinator", "ConsumerGroupState", "LogsTopics", "MemoryTopics", "TopicInfo",
    "TopicMetadata",
]

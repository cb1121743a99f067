"""Kafka's internal topics: created on first use, shown in Metadata with is_internal=true, never produced to.

Kafka creates `__consumer_offsets` when the first FindCoordinator for a group arrives, and likewise
`__transaction_state` (transactions) and `__share_group_state` (share groups); so does Ottla, through
`ensure_internal_topic(broker, name)`. Their data lives in the coordinators' state store, not in
these logs: the topics exist so that admin tools see what they see on Kafka.
"""

from __future__ import annotations

from partitions.topics import is_internal_topic

GROUP_METADATA_TOPIC = "__consumer_offsets"
TRANSACTION_STATE_TOPIC = "__transaction_state"
SHARE_GROUP_STATE_TOPIC = "__share_group_state"

# Kafka's defaults: offsets.topic.num.partitions, transaction.state.log.num.partitions,
# share.coordinator.state.topic.num.partitions (all 50); all three are compacted.
INTERNAL_TOPICS: dict[str, int] = {
    GROUP_METADATA_TOPIC: 50,
    TRANSACTION_STATE_TOPIC: 50,
    SHARE_GROUP_STATE_TOPIC: 50,
}
_CONFIGS = {"cleanup.policy": "compact"}


def is_internal(name: str) -> bool:
    return is_internal_topic(name)


def ensure_internal_topic(broker, name: str, partitions: int | None = None):
    """The internal topic `name`, created (Kafka's partition count unless given) when it does not exist yet."""
    logs = broker.logs
    topic = logs.get(name)
    if topic is None:
        topic = logs.ensure_internal_topic(name, partitions or INTERNAL_TOPICS[name], _CONFIGS)
    return topic

"""Topic auto-creation (auto.create.topics.enable), shared by Metadata and Produce."""

from gateway.internal_topics import ensure_internal_topic, is_internal
from wire.errors import ErrorCode, KafkaError


def get_or_create(ctx, name: str, allowed: bool = True):
    """(topic, ErrorCode.NONE), or (None, why): UNKNOWN_TOPIC_OR_PARTITION, or the creation's error."""
    logs = ctx.broker.logs
    topic = logs.get(name)
    if topic is not None:
        return topic, ErrorCode.NONE
    if not (allowed and logs.auto_create_topics):
        return None, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    if is_internal(name):  # Kafka creates these with their own partition count and configs
        return ensure_internal_topic(ctx.broker, name), ErrorCode.NONE
    try:
        topic = logs.create_topic(name)
    except KafkaError as exc:
        return None, exc.code
    ctx.log.info("topic_auto_created", topic=name, partitions=len(topic.partitions))
    return topic, ErrorCode.NONE

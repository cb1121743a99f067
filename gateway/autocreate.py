"""Topic auto-creation (auto.create.topics.enable), shared by Metadata and Produce."""

from wire.errors import ErrorCode, KafkaError


def get_or_create(ctx, name: str, allowed: bool = True):
    """(topic, ErrorCode.NONE), or (None, why): UNKNOWN_TOPIC_OR_PARTITION, or the creation's error."""
    logs = ctx.broker.logs
    topic = logs.get(name)
    if topic is not None:
        return topic, ErrorCode.NONE
    if not (allowed and logs.auto_create_topics):
        return None, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    try:
        topic = logs.create_topic(name)
    except KafkaError as exc:
        return None, exc.code
    ctx.log.info("topic_auto_created", topic=name, partitions=len(topic.partitions))
    return topic, ErrorCode.NONE

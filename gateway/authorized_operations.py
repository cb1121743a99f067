"""KIP-430 authorized operations: the bit sets Metadata, DescribeCluster, DescribeGroups,
ConsumerGroupDescribe, ShareGroupDescribe and DescribeTopicPartitions report.

With no authorizer every operation a resource type supports is allowed, so the answer is Kafka's
supported-operations set for that type (AclEntry.supportedOperations), one bit per AclOperation
code; with one, each supported operation is asked of it (gateway.security.authorizer). A client that
did not ask gets Kafka's "not requested" value, INT32_MIN.
"""

from __future__ import annotations

NOT_REQUESTED = -(2**31)

# AclOperation codes
READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE = \
    3, 4, 5, 6, 7, 8, 9, 10, 11, 12
TWO_PHASE_COMMIT = 15
TOPIC_TYPE, GROUP_TYPE, CLUSTER_TYPE, TRANSACTIONAL_ID_TYPE = 2, 3, 4, 5  # ResourceType codes


def _bits(*operations: int) -> int:
    value = 0
    for operation in operations:
        value |= 1 << operation
    return value


TOPIC = _bits(READ, WRITE, CREATE, DESCRIBE, DELETE, ALTER, DESCRIBE_CONFIGS, ALTER_CONFIGS)
GROUP = _bits(READ, DESCRIBE, DELETE, DESCRIBE_CONFIGS, ALTER_CONFIGS)
CLUSTER = _bits(CREATE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE, ALTER, DESCRIBE)
_SUPPORTED = {TOPIC_TYPE: TOPIC, GROUP_TYPE: GROUP, CLUSTER_TYPE: CLUSTER,
              TRANSACTIONAL_ID_TYPE: _bits(DESCRIBE, WRITE, TWO_PHASE_COMMIT)}


def authorized(operations: int, requested: bool) -> int:
    """The bit set to report: `operations` when the client asked for it, else INT32_MIN."""
    return operations if requested else NOT_REQUESTED


def authorized_operations(ctx, resource_type: int, name: str, requested: bool) -> int:
    """What ctx's principal may do on one resource, as the bit set (INT32_MIN when not requested)."""
    if not requested:
        return NOT_REQUESTED
    authorizer = ctx.broker.authorizer
    if authorizer is None:
        return _SUPPORTED[resource_type]
    from gateway.security.acls import host_of
    return authorizer.authorized_operations(ctx.principal, host_of(ctx.peer), resource_type, name)


def topic_operations(ctx, request, operations: int):
    """name -> the topic's bit set for a Metadata response: the constant `operations` with no
    authorizer (or when not requested), else the authorizer's answer per topic."""
    if operations == NOT_REQUESTED or ctx.broker.authorizer is None:
        return lambda name: operations
    return lambda name: authorized_operations(ctx, TOPIC_TYPE, name, True)


def visible_topics(ctx, topics) -> list:
    """The topics (objects with .name) ctx's principal may DESCRIBE: what "all topics" lists show it."""
    topics = list(topics)
    allowed = ctx.authorized(DESCRIBE, TOPIC_TYPE, [t.name for t in topics])
    return [t for t in topics if t.name in allowed]

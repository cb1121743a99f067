"""KIP-430 authorized operations: the bit sets Metadata, DescribeCluster and DescribeGroups report.

With no authorizer (Ottla has none yet) every operation a resource type supports is allowed, so
the answer is Kafka's supported-operations set for that type (AclEntry.supportedOperations), one
bit per AclOperation code. A client that did not ask gets Kafka's "not requested" value, INT32_MIN.
"""

from __future__ import annotations

NOT_REQUESTED = -(2**31)

# AclOperation codes
READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE = \
    3, 4, 5, 6, 7, 8, 9, 10, 11, 12


def _bits(*operations: int) -> int:
    value = 0
    for operation in operations:
        value |= 1 << operation
    return value


TOPIC = _bits(READ, WRITE, CREATE, DESCRIBE, DELETE, ALTER, DESCRIBE_CONFIGS, ALTER_CONFIGS)
GROUP = _bits(READ, DESCRIBE, DELETE, DESCRIBE_CONFIGS, ALTER_CONFIGS)
CLUSTER = _bits(CREATE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE, ALTER, DESCRIBE)


def authorized(operations: int, requested: bool) -> int:
    """The bit set to report: `operations` when the client asked for it, else INT32_MIN."""
    return operations if requested else NOT_REQUESTED

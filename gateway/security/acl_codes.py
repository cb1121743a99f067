"""Kafka's ACL codes (resource types, operations, pattern types, permissions) and their names: plain ints, no
dataclasses, so a handler that only names them (Metadata's authorized operations) does not import the ACL store
and its bindings (gateway/security/acls.py, which re-exports all of these)."""

from __future__ import annotations


class ResourceType:  # org.apache.kafka.common.resource.ResourceType codes (plain ints: cheap to read)
    UNKNOWN, ANY, TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID, DELEGATION_TOKEN, USER = range(8)


class Operation:  # AclOperation codes
    UNKNOWN, ANY, ALL, READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, \
        ALTER_CONFIGS, IDEMPOTENT_WRITE, CREATE_TOKENS, DESCRIBE_TOKENS, TWO_PHASE_COMMIT = range(16)


class PatternType:  # PatternType codes
    UNKNOWN, ANY, MATCH, LITERAL, PREFIXED = range(5)


class Permission:  # AclPermissionType codes
    UNKNOWN, ANY, DENY, ALLOW = range(4)


def _names(cls) -> dict[int, str]:
    return {v: k for k, v in vars(cls).items() if k.isupper() and isinstance(v, int)}


RESOURCE_NAMES, OPERATION_NAMES, PATTERN_NAMES, PERMISSION_NAMES = (
    _names(ResourceType), _names(Operation), _names(PatternType), _names(Permission))
WILDCARD = "*"  # ResourcePattern.WILDCARD_RESOURCE, and the host that matches every host
CLUSTER_NAME = "kafka-cluster"

# ALLOW ACLs for these imply DESCRIBE / DESCRIBE_CONFIGS (StandardAuthorizerData.IMPLIES_*); DENY never implies
IMPLIES_DESCRIBE = frozenset({Operation.DESCRIBE, Operation.READ, Operation.WRITE, Operation.DELETE, Operation.ALTER})
IMPLIES_DESCRIBE_CONFIGS = frozenset({Operation.DESCRIBE_CONFIGS, Operation.ALTER_CONFIGS})

"""The authorizer: Kafka's StandardAuthorizer decisions over the ACLs in gateway.security.acls.

On when `--authorizer` is given or `authorizer.class.name` is set (any class name: Ottla has one
authorizer); with it off, `broker.authorizer` is None and `RequestContext.authorize` answers True after
one attribute check. Rules (StandardAuthorizerData.authorize / findResult):
- a super user (`super.users`, `--super-user`) may do everything;
- otherwise the ACLs of every pattern covering the resource are consulted (the literal name, the
  literal wildcard "*", each PREFIXED prefix of the name), for the principal and its type's wildcard
  (User:*), and the host ("*" or the client's address): any matching DENY denies; else any matching
  ALLOW allows (an ALLOW of READ/WRITE/DELETE/ALTER implies DESCRIBE, ALTER_CONFIGS implies
  DESCRIBE_CONFIGS, ALL implies everything; a DENY implies nothing but ALL denies everything);
- a resource no ACL covers at all is allowed only with `allow.everyone.if.no.acl.found`.
"""

from __future__ import annotations

import structlog

from gateway.security.authorizer_settings import settings
from gateway.security.acls import (
    IMPLIES_DESCRIBE,
    IMPLIES_DESCRIBE_CONFIGS,
    OPERATION_NAMES,
    RESOURCE_NAMES,
    WILDCARD,
    AclStore,
    Operation,
    PatternType,
    Permission,
    ResourceType,
)

log = structlog.get_logger("ottla.authorizer")
_ALLOW, _DENY = Permission.ALLOW, Permission.DENY
_ALL, _DESCRIBE, _DESCRIBE_CONFIGS = Operation.ALL, Operation.DESCRIBE, Operation.DESCRIBE_CONFIGS

# AclEntry.supportedOperations: what each resource type's authorized-operations bit set may hold
SUPPORTED_OPERATIONS = {
    ResourceType.TOPIC: (Operation.READ, Operation.WRITE, Operation.CREATE, Operation.DESCRIBE, Operation.DELETE,
                         Operation.ALTER, Operation.DESCRIBE_CONFIGS, Operation.ALTER_CONFIGS),
    ResourceType.GROUP: (Operation.READ, Operation.DESCRIBE, Operation.DELETE, Operation.DESCRIBE_CONFIGS,
                         Operation.ALTER_CONFIGS),
    ResourceType.CLUSTER: (Operation.CREATE, Operation.CLUSTER_ACTION, Operation.DESCRIBE_CONFIGS,
                           Operation.ALTER_CONFIGS, Operation.IDEMPOTENT_WRITE, Operation.ALTER, Operation.DESCRIBE),
    ResourceType.TRANSACTIONAL_ID: (Operation.DESCRIBE, Operation.WRITE, Operation.TWO_PHASE_COMMIT),
    ResourceType.DELEGATION_TOKEN: (Operation.DESCRIBE,),
    ResourceType.USER: (Operation.CREATE_TOKENS, Operation.DESCRIBE_TOKENS),
}


def from_config(config, store) -> "Authorizer | None":
    enabled, supers, allow_everyone = settings(config)
    if not enabled:
        return None
    authorizer = Authorizer(AclStore(store), supers, allow_everyone)
    log.info("authorizer_enabled", super_users=sorted(supers), allow_everyone_if_no_acl_found=allow_everyone,
             acls=len(authorizer.acls))
    return authorizer


class Authorizer:
    def __init__(self, acls: AclStore, super_users=frozenset(), allow_everyone_if_no_acl_found: bool = False) -> None:
        self.acls = acls
        self.super_users = frozenset(super_users)
        self.allow_everyone_if_no_acl_found = allow_everyone_if_no_acl_found

    def authorize(self, principal: str, host: str, operation: int, resource_type: int, name: str) -> bool:
        if principal in self.super_users:
            return True
        wildcard_principal = principal.partition(":")[0] + ":*"
        found = allowed = False
        for bucket in self.acls.buckets(resource_type, name):
            found = True
            for who in (principal, wildcard_principal):
                entries = bucket.get(who)
                if entries is None:
                    continue
                for acl in entries:
                    if acl.host != WILDCARD and acl.host != host:
                        continue
                    op = acl.operation
                    if acl.permission == _DENY:
                        if op == operation or op == _ALL:
                            return False
                    elif not allowed and (op == operation or op == _ALL
                                          or (operation == _DESCRIBE and op in IMPLIES_DESCRIBE)
                                          or (operation == _DESCRIBE_CONFIGS and op in IMPLIES_DESCRIBE_CONFIGS)):
                        allowed = True
        if allowed:
            return True
        return not found and self.allow_everyone_if_no_acl_found

    def authorize_by_resource_type(self, principal: str, host: str, operation: int, resource_type: int) -> bool:
        """Kafka's Authorizer.authorizeByResourceType: whether some resource of this type allows the
        operation (used by InitProducerId without a transactional id: any topic WRITE will do)."""
        if self.authorize(principal, host, operation, resource_type, "hardcode"):
            return True
        wildcard_principal = principal.partition(":")[0] + ":*"
        deny = {PatternType.LITERAL: set(), PatternType.PREFIXED: set()}
        allow = {PatternType.LITERAL: set(), PatternType.PREFIXED: set()}
        for b in self.acls.bindings:
            if b.resource_type != resource_type or b.host not in (WILDCARD, host):
                continue
            if b.principal not in (principal, wildcard_principal) or b.operation not in (operation, _ALL):
                continue
            if b.permission == _DENY:
                if b.pattern_type == PatternType.LITERAL and b.resource_name == WILDCARD:
                    return False
                deny[b.pattern_type].add(b.resource_name)
            elif b.pattern_type == PatternType.LITERAL and b.resource_name == WILDCARD:
                return True
            else:
                allow[b.pattern_type].add(b.resource_name)
        for pattern_type, names in allow.items():
            for name in names:
                if pattern_type == PatternType.LITERAL and name in deny[PatternType.LITERAL]:
                    continue
                if not any(name[:i] in deny[PatternType.PREFIXED] for i in range(1, len(name) + 1)):
                    return True
        return False

    def authorized_operations(self, principal: str, host: str, resource_type: int, name: str) -> int:
        """KIP-430's bit set: one bit per AclOperation code the principal may perform on the resource."""
        bits = 0
        for operation in SUPPORTED_OPERATIONS[resource_type]:
            if self.authorize(principal, host, operation, resource_type, name):
                bits |= 1 << operation
        return bits

    def denied_log(self, ctx, operation: int, resource_type: int, name: str) -> None:
        ctx.log.info("authorization_denied", principal=ctx.principal, operation=OPERATION_NAMES[operation],
                     resource_type=RESOURCE_NAMES[resource_type], resource=name)

"""ACL bindings as Kafka defines them (org.apache.kafka.common.acl / resource), their validation
(AclControlManager.validateNewAcl / validateFilter), filters (AclBindingFilter.matches), and the store:
persisted through storage.state() (keys: partitions.keys ACL_STATE) and indexed for the authorizer.

Index (what StandardAuthorizerData's sorted set gives Kafka, in dicts): LITERAL bindings by
(resource type, name), PREFIXED ones by resource type then prefix, each bucket by principal; plus the
set of prefix lengths present per resource type. A check looks up the resource's name, the wildcard
"*" and one slice per distinct prefix length: its cost depends on the name, never on how many ACLs
exist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Iterator

from partitions.keys import ACL_STATE
from wire.errors import ErrorCode, KafkaError


from gateway.security.acl_codes import (  # noqa: F401 (re-exported: handlers import them from here)
    CLUSTER_NAME,
    IMPLIES_DESCRIBE,
    IMPLIES_DESCRIBE_CONFIGS,
    OPERATION_NAMES,
    PATTERN_NAMES,
    PERMISSION_NAMES,
    RESOURCE_NAMES,
    WILDCARD,
    Operation,
    PatternType,
    Permission,
    ResourceType,
)


def _known(code: int, names: dict[int, str]) -> int:
    """A code we do not know is UNKNOWN, as Kafka's fromCode makes it."""
    return code if code in names else 0


@dataclass(frozen=True, slots=True)
class AclBinding:
    resource_type: int
    resource_name: str
    pattern_type: int
    principal: str
    host: str
    operation: int
    permission: int

    def key(self) -> bytes:
        return ACL_STATE + json.dumps([self.resource_type, self.resource_name, self.pattern_type, self.principal,
                                       self.host, self.operation, self.permission]).encode()

    @classmethod
    def from_key(cls, key: bytes) -> "AclBinding":
        return cls(*json.loads(key[len(ACL_STATE):].decode()))

    def describe(self) -> dict:
        return {"resource_type": RESOURCE_NAMES[self.resource_type], "resource_name": self.resource_name,
                "pattern_type": PATTERN_NAMES[self.pattern_type], "principal": self.principal, "host": self.host,
                "operation": OPERATION_NAMES[self.operation], "permission": PERMISSION_NAMES[self.permission]}


def _invalid(message: str) -> KafkaError:
    return KafkaError(ErrorCode.INVALID_REQUEST, message)


def new_binding(c) -> AclBinding:
    """A CreateAcls creation as a binding, or INVALID_REQUEST with AclControlManager.validateNewAcl's message."""
    binding = AclBinding(_known(c.resource_type, RESOURCE_NAMES), c.resource_name,
                         _known(c.resource_pattern_type, PATTERN_NAMES), c.principal, c.host,
                         _known(c.operation, OPERATION_NAMES), _known(c.permission_type, PERMISSION_NAMES))
    if binding.resource_type in (ResourceType.UNKNOWN, ResourceType.ANY):
        raise _invalid(f"Invalid resourceType {RESOURCE_NAMES[binding.resource_type]}")
    if binding.pattern_type not in (PatternType.LITERAL, PatternType.PREFIXED):
        raise _invalid(f"Invalid patternType {PATTERN_NAMES[binding.pattern_type]}")
    if binding.operation in (Operation.UNKNOWN, Operation.ANY):
        raise _invalid(f"Invalid operation {OPERATION_NAMES[binding.operation]}")
    if binding.permission not in (Permission.DENY, Permission.ALLOW):
        raise _invalid(f"Invalid permissionType {PERMISSION_NAMES[binding.permission]}")
    if not binding.resource_name:
        raise _invalid("Resource name should not be empty")
    if ":" not in binding.principal:
        raise _invalid(f"Could not parse principal from `{binding.principal}` (no colon is present separating the "
                       "principal type from the principal name)")
    return binding


@dataclass(frozen=True, slots=True)
class AclFilter:
    """AclBindingFilter: None name/principal/host match anything; ANY codes match every value."""

    resource_type: int
    resource_name: str | None
    pattern_type: int
    principal: str | None
    host: str | None
    operation: int
    permission: int

    @classmethod
    def of(cls, resource_type, resource_name, pattern_type, principal, host, operation, permission) -> "AclFilter":
        f = cls(_known(resource_type, RESOURCE_NAMES), resource_name, _known(pattern_type, PATTERN_NAMES),
                principal, host, _known(operation, OPERATION_NAMES), _known(permission, PERMISSION_NAMES))
        if f.resource_type == ResourceType.UNKNOWN or f.pattern_type == PatternType.UNKNOWN:
            raise _invalid("Unknown patternFilter.")
        if f.operation == Operation.UNKNOWN or f.permission == Permission.UNKNOWN:
            raise _invalid("Unknown entryFilter.")
        return f

    def matches(self, b: AclBinding) -> bool:
        # ResourcePatternFilter.matches
        if self.resource_type != ResourceType.ANY and self.resource_type != b.resource_type:
            return False
        if self.pattern_type not in (PatternType.ANY, PatternType.MATCH) and self.pattern_type != b.pattern_type:
            return False
        name = self.resource_name
        if name is not None:
            if self.pattern_type in (PatternType.ANY, b.pattern_type):
                if name != b.resource_name:
                    return False
            elif b.pattern_type == PatternType.LITERAL:  # MATCH
                if name != b.resource_name and b.resource_name != WILDCARD:
                    return False
            elif not name.startswith(b.resource_name):  # MATCH against PREFIXED
                return False
        # AccessControlEntryFilter.matches
        if self.principal is not None and self.principal != b.principal:
            return False
        if self.host is not None and self.host != b.host:
            return False
        if self.operation != Operation.ANY and self.operation != b.operation:
            return False
        return self.permission == Permission.ANY or self.permission == b.permission


def _bucket_add(index: dict, key, binding: AclBinding) -> None:
    index.setdefault(key, {}).setdefault(binding.principal, []).append(binding)


def _bucket_remove(index: dict, key, binding: AclBinding) -> None:
    bucket = index[key]
    entries = bucket[binding.principal]
    entries.remove(binding)
    if not entries:
        del bucket[binding.principal]
        if not bucket:
            del index[key]


class AclStore:
    """Every ACL binding, in memory (indexed) and in the state store."""

    def __init__(self, store=None) -> None:
        self._store = store
        self.bindings: set[AclBinding] = set()
        self.literal: dict[tuple[int, str], dict[str, list[AclBinding]]] = {}
        self.prefixed: dict[int, dict[str, dict[str, list[AclBinding]]]] = {}
        self.prefix_lengths: dict[int, list[int]] = {}  # sorted distinct prefix lengths per resource type
        self.version = 0  # bumped on every change
        if store is not None:
            for key, _ in store.scan(ACL_STATE):
                self._index(AclBinding.from_key(key))

    def __len__(self) -> int:
        return len(self.bindings)

    def _index(self, b: AclBinding) -> None:
        self.bindings.add(b)
        if b.pattern_type == PatternType.LITERAL:
            _bucket_add(self.literal, (b.resource_type, b.resource_name), b)
        else:
            by_prefix = self.prefixed.setdefault(b.resource_type, {})
            _bucket_add(by_prefix, b.resource_name, b)
            lengths = self.prefix_lengths.setdefault(b.resource_type, [])
            if len(b.resource_name) not in lengths:
                lengths.append(len(b.resource_name))
                lengths.sort()
        self.version += 1

    def _unindex(self, b: AclBinding) -> None:
        self.bindings.discard(b)
        if b.pattern_type == PatternType.LITERAL:
            _bucket_remove(self.literal, (b.resource_type, b.resource_name), b)
        else:
            by_prefix = self.prefixed[b.resource_type]
            _bucket_remove(by_prefix, b.resource_name, b)
            if not any(len(p) == len(b.resource_name) for p in by_prefix):  # the rare delete may scan prefixes
                self.prefix_lengths[b.resource_type].remove(len(b.resource_name))
        self.version += 1

    def add(self, bindings: Iterable[AclBinding]) -> None:
        new = [b for b in dict.fromkeys(bindings) if b not in self.bindings]
        if self._store is not None and new:
            self._store.put_many([(b.key(), b"") for b in new])
        for b in new:
            self._index(b)

    def remove(self, bindings: Iterable[AclBinding]) -> None:
        for b in bindings:
            if b in self.bindings:
                if self._store is not None:
                    self._store.delete(b.key())
                self._unindex(b)

    def matching(self, f: AclFilter) -> list[AclBinding]:
        """Bindings matching a describe/delete filter (a scan, as Kafka's acls(filter) is)."""
        return sorted((b for b in self.bindings if f.matches(b)), key=_order)

    def buckets(self, resource_type: int, name: str) -> Iterator[dict[str, list[AclBinding]]]:
        """The per-principal buckets of every pattern that covers (resource_type, name): the literal
        name, the literal wildcard, and each prefix of the name that has PREFIXED bindings."""
        literal = self.literal
        bucket = literal.get((resource_type, name))
        if bucket is not None:
            yield bucket
        if name != WILDCARD:
            bucket = literal.get((resource_type, WILDCARD))
            if bucket is not None:
                yield bucket
        lengths = self.prefix_lengths.get(resource_type)
        if lengths:
            by_prefix = self.prefixed[resource_type]
            size = len(name)
            for length in lengths:
                if length > size:
                    break
                bucket = by_prefix.get(name[:length])
                if bucket is not None:
                    yield bucket


def _order(b: AclBinding):
    return (b.resource_type, b.pattern_type, b.resource_name, b.principal, b.host, b.operation, b.permission)


def host_of(peer: str) -> str:
    """The client's address in "host:port" (an IPv6 peer may be bracketed), as ACL hosts name it."""
    host = peer.rpartition(":")[0] if ":" in peer else peer
    return host[1:-1] if host.startswith("[") else host

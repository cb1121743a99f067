"""Client quotas (AlterClientQuotas / DescribeClientQuotas): stored and described with Kafka's entity
rules (ClientQuotaControlManager, ClientQuotasImage.describe); persisted through storage.state()
(keys: partitions.keys QUOTA_STATE); enforced by gateway.quota_enforcement.

An entity is a set of (entity type, name) pairs: user and/or client-id, or ip alone; a None name is
the type's default entity.
"""

from __future__ import annotations

import json
import math
import re

from partitions.config_def import ConfigType
from partitions.keys import QUOTA_STATE
from wire.errors import ErrorCode, KafkaError

USER, CLIENT_ID, IP = "user", "client-id", "ip"
EXACT, DEFAULT, SPECIFIED = 0, 1, 2
INT32_MAX, INT64_MAX, INT16_MAX = 2**31 - 1, 2**63 - 1, 2**15 - 1
USER_CLIENT_KEYS = {"producer_byte_rate": ConfigType.LONG, "consumer_byte_rate": ConfigType.LONG,
                    "request_percentage": ConfigType.DOUBLE, "controller_mutation_rate": ConfigType.DOUBLE}
IP_KEYS = {"connection_creation_rate": ConfigType.INT}

Entity = tuple[tuple[str, str | None], ...]  # sorted (type, name) pairs


def _invalid(message: str) -> KafkaError:
    return KafkaError(ErrorCode.INVALID_REQUEST, message)


_HOST_NAME = re.compile(r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}"
                        r"[A-Za-z0-9])?)*\.?")


def _valid_ip(name: str | None) -> bool:
    """An IP literal or a host name. Kafka resolves host names (InetAddress.getByName); Ottla does not
    block its event loop on DNS, so it accepts any well-formed host name."""
    if name is None:
        return True
    import ipaddress  # (only IP quota entities need it: not imported at start-up)

    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return bool(_HOST_NAME.fullmatch(name))


def validate_entity(pairs) -> Entity:
    """Kafka's validateEntity and configKeysForEntityType (INVALID_REQUEST with its messages)."""
    if not pairs:
        raise _invalid("Invalid empty client quota entity")
    seen: dict[str, str | None] = {}
    for entity_type, name in pairs:
        if entity_type in seen:
            raise _invalid(f"Invalid client quota entity, duplicate entity entry {entity_type}")
        if entity_type not in (USER, CLIENT_ID, IP):
            raise _invalid(f"Unhandled client quota entity type: {entity_type}")
        seen[entity_type] = name
        if name is not None and name == "":
            raise _invalid(f"Empty {entity_type} not supported")
    if IP in seen:
        if USER in seen or CLIENT_ID in seen:
            raise _invalid("Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId")
        if not _valid_ip(seen[IP]):
            raise _invalid(f"{seen[IP]} is not a valid IP or resolvable host.")
    return tuple(sorted(seen.items()))


def validate_value(entity: Entity, key: str, value: float) -> None:
    keys = IP_KEYS if entity[0][0] == IP else USER_CLIENT_KEYS
    config_type = keys.get(key)
    if config_type is None:
        raise _invalid(f"Invalid configuration key {key}")
    if not value > 0.0:
        raise _invalid(f"Quota {key} must be greater than 0")
    limits = {ConfigType.INT: (INT32_MAX, "an INT"), ConfigType.LONG: (INT64_MAX, "a LONG"),
              ConfigType.SHORT: (INT16_MAX, "a SHORT")}
    if config_type in limits:
        limit, name = limits[config_type]
        if value > limit:
            raise _invalid(f"Proposed value for {key} is too large for {name}.")
        if math.isfinite(value) and abs(math.fmod(value, 1.0)) > 1e-6:
            raise _invalid(f"{key} cannot be a fractional value.")


class ClientQuotas:
    """Every entity's quotas, kept in memory and in the state store."""

    def __init__(self, store=None) -> None:
        self._store = store
        self.entities: dict[Entity, dict[str, float]] = {}
        self.version = 0  # bumped on every change (gateway.quota_enforcement caches resolutions by it)
        if store is not None:
            for key, value in store.scan(QUOTA_STATE):
                entity = tuple((t, n) for t, n in json.loads(key[len(QUOTA_STATE):].decode()))
                self.entities[entity] = json.loads(value)

    def alter(self, pairs, ops, *, validate_only: bool) -> None:
        """Validate one AlterClientQuotas entry and, unless validate_only, apply it (all or nothing)."""
        entity = validate_entity([(p.entity_type, p.entity_name) for p in pairs])
        current = dict(self.entities.get(entity, {}))
        for op in ops:
            if op.remove:
                current.pop(op.key, None)
            else:
                validate_value(entity, op.key, op.value)
                current[op.key] = op.value
        if validate_only or current == self.entities.get(entity, {}):
            return
        key = QUOTA_STATE + json.dumps([list(p) for p in entity]).encode()
        self.version += 1
        if current:
            self.entities[entity] = current
            if self._store is not None:
                self._store.put(key, json.dumps(current).encode())
        else:
            self.entities.pop(entity, None)
            if self._store is not None:
                self._store.delete(key)

    def describe(self, components, strict: bool) -> list[tuple[Entity, dict[str, float]]]:
        """Kafka's ClientQuotasImage.describe filter (INVALID_REQUEST / UNSUPPORTED_VERSION on a bad one)."""
        exact: dict[str, str | None] = {}
        types: set[str] = set()
        for c in components:
            if not c.entity_type:
                raise _invalid("Invalid empty entity type.")
            if c.entity_type in exact or c.entity_type in types:
                raise _invalid(f"Entity type {c.entity_type} cannot appear more than once in the filter.")
            if c.entity_type not in (IP, USER, CLIENT_ID):
                raise KafkaError(ErrorCode.UNSUPPORTED_VERSION, f"Unsupported entity type {c.entity_type}")
            if c.match_type == EXACT:
                if c.match is None:
                    raise _invalid("Request specified MATCH_TYPE_EXACT, but set match string to null.")
                exact[c.entity_type] = c.match
            elif c.match_type == DEFAULT:
                if c.match is not None:
                    raise _invalid("Request specified MATCH_TYPE_DEFAULT, but also specified a match string.")
                exact[c.entity_type] = None
            elif c.match_type == SPECIFIED:
                if c.match is not None:
                    raise _invalid("Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.")
                types.add(c.entity_type)
            else:
                raise _invalid(f"Unknown match type {c.match_type}")
        wanted = set(exact) | types
        if IP in wanted and (USER in wanted or CLIENT_ID in wanted):
            raise _invalid("Invalid entity filter component combination. IP filter component should not be used "
                           "with user or clientId filter component.")
        found = []
        for entity, values in sorted(self.entities.items(), key=lambda item: repr(item[0])):
            names = dict(entity)
            if strict and len(names) != len(wanted):
                continue
            if all(t in names and names[t] == n for t, n in exact.items()) and all(t in names for t in types):
                found.append((entity, values))
        return found

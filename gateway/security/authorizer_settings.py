"""Whether the authorizer is on, and its settings, read without importing it (gateway.security.acls' tables): a
broker without `--authorizer` / `authorizer.class.name` never imports either (gateway/security/authorizer.py)."""

from __future__ import annotations


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def settings(config) -> tuple[bool, frozenset[str], bool]:
    """(enabled, super users, allow everyone if no ACL found) from the flags and Kafka's properties."""
    props = dict(config.properties)
    enabled = bool(getattr(config, "authorizer", False)) or bool(props.get("authorizer.class.name", "").strip())
    supers = set(getattr(config, "super_users", ()) or ())
    supers.update(p.strip() for p in props.get("super.users", "").split(";") if p.strip())
    allow_everyone = bool(getattr(config, "allow_everyone_if_no_acl_found", False)) or \
        _truthy(props.get("allow.everyone.if.no.acl.found"))
    return enabled, frozenset(supers), allow_everyone


def from_config(config, store):
    """gateway.security.authorizer.from_config when the authorizer is on, else None (allow all)."""
    if not settings(config)[0]:
        return None
    from gateway.security.authorizer import from_config as build

    return build(config, store)

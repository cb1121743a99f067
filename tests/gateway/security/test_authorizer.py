"""StandardAuthorizer's decisions: patterns, principals, hosts, implied operations, DENY over ALLOW."""

from __future__ import annotations

import pytest

from gateway.security.acls import AclBinding, AclFilter, AclStore, Operation as Op, PatternType as P, \
    Permission as Perm, ResourceType as R
from gateway.security.authorizer import Authorizer
from partitions.memory import MemoryStorage

ALICE, BOB = "User:alice", "User:bob"


def acl(name, op, perm=Perm.ALLOW, principal=ALICE, host="*", rtype=R.TOPIC, pattern=P.LITERAL):
    return AclBinding(rtype, name, pattern, principal, host, op, perm)


def authorizer(*bindings, supers=(), allow_everyone=False) -> Authorizer:
    store = AclStore()
    store.add(bindings)
    return Authorizer(store, frozenset(supers), allow_everyone)


def test_no_acl_denies_unless_allow_everyone():
    assert not authorizer().authorize(ALICE, "1.2.3.4", Op.READ, R.TOPIC, "t")
    assert authorizer(allow_everyone=True).authorize(ALICE, "1.2.3.4", Op.READ, R.TOPIC, "t")
    # allow.everyone applies only where no ACL covers the resource at all (any principal)
    a = authorizer(acl("t", Op.READ, principal=BOB), allow_everyone=True)
    assert not a.authorize(ALICE, "h", Op.READ, R.TOPIC, "t")
    assert a.authorize(ALICE, "h", Op.READ, R.TOPIC, "other")


def test_literal_prefixed_and_wildcard_resources():
    a = authorizer(acl("orders", Op.WRITE), acl("logs-", Op.READ, pattern=P.PREFIXED), acl("*", Op.DESCRIBE))
    assert a.authorize(ALICE, "h", Op.WRITE, R.TOPIC, "orders")
    assert not a.authorize(ALICE, "h", Op.WRITE, R.TOPIC, "orders2")
    assert a.authorize(ALICE, "h", Op.READ, R.TOPIC, "logs-app")
    assert a.authorize(ALICE, "h", Op.READ, R.TOPIC, "logs-")
    assert not a.authorize(ALICE, "h", Op.READ, R.TOPIC, "logs")
    assert a.authorize(ALICE, "h", Op.DESCRIBE, R.TOPIC, "anything")
    assert not a.authorize(ALICE, "h", Op.DESCRIBE, R.GROUP, "anything")  # resource types do not mix


def test_deny_beats_allow_and_deny_implies_nothing():
    a = authorizer(acl("t", Op.ALL), acl("t", Op.WRITE, Perm.DENY))
    assert a.authorize(ALICE, "h", Op.READ, R.TOPIC, "t")
    assert not a.authorize(ALICE, "h", Op.WRITE, R.TOPIC, "t")
    # a DENY of READ does not deny DESCRIBE; an ALLOW of READ implies it
    b = authorizer(acl("t", Op.READ), acl("t", Op.READ, Perm.DENY))
    assert not b.authorize(ALICE, "h", Op.READ, R.TOPIC, "t")
    assert b.authorize(ALICE, "h", Op.DESCRIBE, R.TOPIC, "t")
    # DENY through a prefix beats a literal ALLOW; DENY ALL denies everything
    c = authorizer(acl("secret", Op.READ), acl("sec", Op.ALL, Perm.DENY, pattern=P.PREFIXED))
    assert not c.authorize(ALICE, "h", Op.READ, R.TOPIC, "secret")
    assert not c.authorize(ALICE, "h", Op.DESCRIBE, R.TOPIC, "secret")


@pytest.mark.parametrize("granted,implied", [(Op.READ, Op.DESCRIBE), (Op.WRITE, Op.DESCRIBE), (Op.DELETE, Op.DESCRIBE),
                                             (Op.ALTER, Op.DESCRIBE), (Op.ALTER_CONFIGS, Op.DESCRIBE_CONFIGS)])
def test_implied_operations(granted, implied):
    a = authorizer(acl("t", granted))
    assert a.authorize(ALICE, "h", implied, R.TOPIC, "t")
    assert not a.authorize(ALICE, "h", Op.CREATE, R.TOPIC, "t")


def test_describe_implies_nothing_else():
    a = authorizer(acl("t", Op.DESCRIBE))
    assert not a.authorize(ALICE, "h", Op.READ, R.TOPIC, "t")
    assert not a.authorize(ALICE, "h", Op.DESCRIBE_CONFIGS, R.TOPIC, "t")


def test_principals_and_hosts():
    a = authorizer(acl("t", Op.READ, principal="User:*"), acl("t", Op.WRITE, host="10.0.0.1"))
    assert a.authorize(BOB, "h", Op.READ, R.TOPIC, "t")
    assert a.authorize(ALICE, "10.0.0.1", Op.WRITE, R.TOPIC, "t")
    assert not a.authorize(ALICE, "10.0.0.2", Op.WRITE, R.TOPIC, "t")
    assert not a.authorize("Group:x", "h", Op.READ, R.TOPIC, "t")  # User:* is the User type's wildcard


def test_super_users_may_do_everything_despite_deny():
    a = authorizer(acl("t", Op.ALL, Perm.DENY, principal="User:*"), supers={"User:admin"})
    assert a.authorize("User:admin", "h", Op.DELETE, R.TOPIC, "t")
    assert not a.authorize(ALICE, "h", Op.DELETE, R.TOPIC, "t")


def test_authorize_by_resource_type():
    a = authorizer(acl("orders", Op.WRITE))
    assert a.authorize_by_resource_type(ALICE, "h", Op.WRITE, R.TOPIC)
    assert not a.authorize_by_resource_type(BOB, "h", Op.WRITE, R.TOPIC)
    b = authorizer(acl("orders", Op.WRITE), acl("ord", Op.WRITE, Perm.DENY, pattern=P.PREFIXED))
    assert not b.authorize_by_resource_type(ALICE, "h", Op.WRITE, R.TOPIC)
    c = authorizer(acl("*", Op.WRITE, Perm.DENY), acl("x", Op.WRITE))
    assert not c.authorize_by_resource_type(ALICE, "h", Op.WRITE, R.TOPIC)


def test_authorized_operations_bits():
    a = authorizer(acl("t", Op.READ))
    assert a.authorized_operations(ALICE, "h", R.TOPIC, "t") == (1 << Op.READ) | (1 << Op.DESCRIBE)


def test_filters_match_as_kafka():
    lit, pre, star = acl("orders", Op.READ), acl("ord", Op.WRITE, pattern=P.PREFIXED), acl("*", Op.READ)
    f = AclFilter.of(R.TOPIC, "orders", P.MATCH, None, None, Op.ANY, Perm.ANY)
    assert [f.matches(b) for b in (lit, pre, star)] == [True, True, True]
    f = AclFilter.of(R.TOPIC, "orders", P.LITERAL, None, None, Op.ANY, Perm.ANY)
    assert [f.matches(b) for b in (lit, pre, star)] == [True, False, False]
    f = AclFilter.of(R.ANY, None, P.ANY, ALICE, None, Op.WRITE, Perm.ALLOW)
    assert [f.matches(b) for b in (lit, pre, star)] == [False, True, False]
    with pytest.raises(Exception):
        AclFilter.of(0, None, P.ANY, None, None, Op.ANY, Perm.ANY)


def test_store_persists_and_unindexes():
    storage = MemoryStorage()
    store = AclStore(storage.state())
    store.add([acl("a", Op.READ), acl("pre", Op.READ, pattern=P.PREFIXED), acl("a", Op.READ)])
    assert len(store) == 2
    reloaded = AclStore(storage.state())
    assert reloaded.bindings == store.bindings
    reloaded.remove([acl("pre", Op.READ, pattern=P.PREFIXED)])
    assert not reloaded.prefix_lengths[R.TOPIC] and not reloaded.prefixed[R.TOPIC]
    assert len(AclStore(storage.state())) == 1


def test_check_visits_only_covering_patterns():
    """10,000 ACLs on other resources: a check looks at a fixed handful of buckets, not at them."""
    store = AclStore()
    store.add([acl(f"topic-{i}", Op.READ) for i in range(5000)] +
              [acl(f"p{i}-", Op.READ, pattern=P.PREFIXED) for i in range(5000)])
    buckets = list(store.buckets(R.TOPIC, "topic-77"))
    assert len(buckets) == 1
    assert len(store.prefix_lengths[R.TOPIC]) == 4  # "p0-" .. "p4999-": lengths 3 to 6
    assert Authorizer(store).authorize(ALICE, "h", Op.READ, R.TOPIC, "p12-x")

"""ACLs through confluent-kafka's admin client, enforced on producers and consumers authenticated with
SASL/PLAIN: no ACL, nothing; WRITE produces; READ on the topic and the group consumes in a group;
DENY beats ALLOW; PREFIXED patterns; a transactional producer needs WRITE on its TRANSACTIONAL_ID;
super users may do everything; ACLs survive a restart."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
)

from compat_tests import samples
from compat_tests.acl_broker import ADMIN, ALICE, sasl, acl_broker  # noqa: F401  (the module fixture)

pytestmark = pytest.mark.timeout(120)
ALLOW, DENY = AclPermissionType.ALLOW, AclPermissionType.DENY


def client_config(broker, user) -> dict:
    return {"bootstrap.servers": broker.bootstrap, **sasl(user)}


@pytest.fixture(scope="module")
def admin(acl_broker):
    return AdminClient(client_config(acl_broker, ADMIN))


def create_topic(admin, name: str) -> str:
    for future in admin.create_topics([NewTopic(name, 1, 1)]).values():
        future.result(30)
    return name


def grant(admin, resource_type, name, operation, permission=ALLOW, pattern=ResourcePatternType.LITERAL,
          principal="User:alice") -> AclBinding:
    binding = AclBinding(resource_type, name, pattern, principal, "*", operation, permission)
    for future in admin.create_acls([binding]).values():
        future.result(30)
    return binding


def produce_error(broker, topic: str, user=ALICE) -> KafkaError | None:
    """The delivery error of one record (None: delivered)."""
    errors = []
    producer = Producer({**client_config(broker, user), "linger.ms": 0, "message.timeout.ms": 10000,
                         "enable.idempotence": False})
    producer.produce(topic, b"v", on_delivery=lambda err, msg: errors.append(err))
    producer.flush(20)
    assert errors, "no delivery report"
    return errors[0]


def test_a_user_without_acls_can_do_nothing_and_write_lets_it_produce(acl_broker, admin):
    topic = create_topic(admin, samples.unique_name("acl-write"))
    err = produce_error(acl_broker, topic)
    assert err is not None and err.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    alice = AdminClient(client_config(acl_broker, ALICE))
    assert topic not in alice.list_topics(timeout=10).topics  # Metadata hides what alice may not DESCRIBE
    grant(admin, ResourceType.TOPIC, topic, AclOperation.WRITE)
    assert produce_error(acl_broker, topic) is None
    assert topic in alice.list_topics(timeout=10).topics  # WRITE implies DESCRIBE


def test_read_on_topic_and_group_lets_it_consume_in_a_group(acl_broker, admin):
    topic = create_topic(admin, samples.unique_name("acl-read"))
    assert produce_error(acl_broker, topic, ADMIN) is None  # a super user may do everything
    group = samples.unique_name("acl-group")

    def consume() -> tuple[bytes | None, int | None]:
        consumer = Consumer({**client_config(acl_broker, ALICE), "group.id": group, "auto.offset.reset": "earliest",
                             "enable.auto.commit": False})
        consumer.subscribe([topic])
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                msg = consumer.poll(0.5)
                if msg is None:
                    continue
                if msg.error():
                    return None, msg.error().code()
                return msg.value(), None
            return None, None
        finally:
            consumer.close()

    grant(admin, ResourceType.TOPIC, topic, AclOperation.READ)
    value, code = consume()
    assert value is None and code == KafkaError.GROUP_AUTHORIZATION_FAILED
    grant(admin, ResourceType.GROUP, group, AclOperation.READ)
    assert consume() == (b"v", None)


def test_deny_beats_allow_and_prefixed_patterns(acl_broker, admin):
    prefix = samples.unique_name("acl-pre") + "-"
    allowed, denied = create_topic(admin, prefix + "a"), create_topic(admin, prefix + "b")
    elsewhere = create_topic(admin, samples.unique_name("acl-other"))
    grant(admin, ResourceType.TOPIC, prefix, AclOperation.WRITE, pattern=ResourcePatternType.PREFIXED)
    assert produce_error(acl_broker, allowed) is None
    assert produce_error(acl_broker, elsewhere).code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    grant(admin, ResourceType.TOPIC, denied, AclOperation.ALL, permission=DENY)
    assert produce_error(acl_broker, denied).code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert produce_error(acl_broker, allowed) is None


def test_a_transactional_producer_needs_write_on_its_transactional_id(acl_broker, admin):
    topic = create_topic(admin, samples.unique_name("acl-txn"))
    txn_id = samples.unique_name("acl-txn-id")
    grant(admin, ResourceType.TOPIC, topic, AclOperation.WRITE)

    def producer():
        return Producer({**client_config(acl_broker, ALICE), "transactional.id": txn_id,
                         "transaction.timeout.ms": 30000})

    refused = producer()
    with pytest.raises(KafkaException) as info:
        refused.init_transactions(20)
    assert info.value.args[0].code() == KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    grant(admin, ResourceType.TRANSACTIONAL_ID, txn_id, AclOperation.WRITE)
    allowed = producer()
    allowed.init_transactions(20)
    allowed.begin_transaction()
    allowed.produce(topic, b"in-txn")
    allowed.commit_transaction(20)


def test_describe_and_delete_acls_then_they_survive_a_restart(acl_broker, admin):
    topic = samples.unique_name("acl-keep")
    kept = grant(admin, ResourceType.TOPIC, topic, AclOperation.READ, principal="User:carol")
    gone = grant(admin, ResourceType.TOPIC, topic, AclOperation.WRITE, principal="User:carol")
    by_carol = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, "User:carol", None,
                                AclOperation.ANY, AclPermissionType.ANY)
    assert set(admin.describe_acls(by_carol).result(30)) == {kept, gone}
    write_only = AclBindingFilter(ResourceType.TOPIC, topic, ResourcePatternType.LITERAL, "User:carol", None,
                                  AclOperation.WRITE, AclPermissionType.ANY)
    deleted = list(admin.delete_acls([write_only]).values())[0].result(30)
    assert deleted == [gone]
    alice = AdminClient(client_config(acl_broker, ALICE))
    # DescribeAcls needs CLUSTER DESCRIBE: librdkafka drops that response's error code and shows an empty list
    assert alice.describe_acls(by_carol).result(30) == []
    with pytest.raises(KafkaException) as info:  # CreateAcls needs CLUSTER ALTER, and librdkafka reports it
        for future in alice.create_acls([kept]).values():
            future.result(30)
    assert info.value.args[0].code() == KafkaError.CLUSTER_AUTHORIZATION_FAILED
    acl_broker.restart()
    after = AdminClient(client_config(acl_broker, ADMIN))
    assert after.describe_acls(by_carol).result(30) == [kept]

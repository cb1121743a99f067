"""ACLs through kafka-python's KafkaAdminClient (create_acls / describe_acls / delete_acls) over
SASL/PLAIN, and a kafka-python producer and group consumer held to them."""

from __future__ import annotations

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    NewTopic,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
)
from kafka.errors import ClusterAuthorizationFailedError, TopicAuthorizationFailedError

from compat_tests import samples
from compat_tests.acl_broker import ADMIN, BOB, acl_broker  # noqa: F401  (the module fixture)

pytestmark = pytest.mark.timeout(120)


def settings(broker, user) -> dict:
    return {"bootstrap_servers": broker.bootstrap, "security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN",
            "sasl_plain_username": user[0], "sasl_plain_password": user[1]}


@pytest.fixture(scope="module")
def admin(acl_broker):
    client = KafkaAdminClient(**settings(acl_broker, ADMIN))
    yield client
    client.close()


def acl(resource_type, name, operation, pattern=ACLResourcePatternType.LITERAL, permission=ACLPermissionType.ALLOW):
    return ACL("User:bob", "*", operation, permission, ResourcePattern(resource_type, name, pattern))


def test_create_describe_delete_and_enforce(acl_broker, admin):
    topic, group = samples.unique_name("kp-acl"), samples.unique_name("kp-acl-group")
    admin.create_topics([NewTopic(topic, 1, 1)])
    producer = KafkaProducer(**settings(acl_broker, BOB), max_block_ms=10000, retries=0)
    with pytest.raises(TopicAuthorizationFailedError):
        producer.send(topic, b"refused").get(timeout=20)
    producer.close()
    write, read = acl(ResourceType.TOPIC, topic, ACLOperation.WRITE), acl(ResourceType.TOPIC, topic, ACLOperation.READ)
    group_read = acl(ResourceType.GROUP, group[:12], ACLOperation.READ, ACLResourcePatternType.PREFIXED)
    created = admin.create_acls([write, read, group_read])
    assert not created["failed"] and len(created["succeeded"]) == 3
    listed, error = admin.describe_acls(ACLFilter("User:bob", None, ACLOperation.ANY, ACLPermissionType.ANY,
                                                  ResourcePatternFilter(ResourceType.ANY, None,
                                                                        ACLResourcePatternType.ANY)))
    assert not error.errno and {(a.operation, a.resource_pattern.resource_name) for a in listed} == {
        (ACLOperation.WRITE, topic), (ACLOperation.READ, topic), (ACLOperation.READ, group[:12])}
    producer = KafkaProducer(**settings(acl_broker, BOB), max_block_ms=10000)
    producer.send(topic, b"allowed").get(timeout=20)
    producer.close()
    consumer = KafkaConsumer(topic, **settings(acl_broker, BOB), group_id=group, auto_offset_reset="earliest",
                             consumer_timeout_ms=15000, enable_auto_commit=False)
    values = [m.value for m in consumer]
    consumer.close()
    assert b"allowed" in values
    deleted = admin.delete_acls([ACLFilter("User:bob", None, ACLOperation.WRITE, ACLPermissionType.ANY,
                                           ResourcePatternFilter(ResourceType.TOPIC, topic,
                                                                 ACLResourcePatternType.LITERAL))])
    (_, matched, delete_error), = deleted
    assert delete_error.errno == 0 and [(m[0] if isinstance(m, tuple) else m).operation for m in matched] == [ACLOperation.WRITE]
    producer = KafkaProducer(**settings(acl_broker, BOB), max_block_ms=10000, retries=0)
    with pytest.raises(TopicAuthorizationFailedError):
        producer.send(topic, b"refused again").get(timeout=20)
    producer.close()


def test_describe_acls_needs_cluster_describe(acl_broker):
    bob = KafkaAdminClient(**settings(acl_broker, BOB))
    try:
        with pytest.raises(ClusterAuthorizationFailedError):
            bob.describe_acls(ACLFilter(None, None, ACLOperation.ANY, ACLPermissionType.ANY,
                                        ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)))
    finally:
        bob.close()

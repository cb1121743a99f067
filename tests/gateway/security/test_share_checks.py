"""Share groups with an authorizer (in-process, memory engine): the topic checks KafkaApis makes besides
the group's (handleShareFetchRequest, handleShareAcknowledgeRequest,
handleDescribe/Alter/DeleteShareGroupOffsetsRequest)."""

from __future__ import annotations

import pytest

from gateway.security.acls import AclBinding, Operation as Op, PatternType as P, Permission as Perm, ResourceType as R
from tests.gateway.inprocess import call, new_broker
from wire.errors import ErrorCode
from wire.schema import ZERO_UUID

DESCRIBE_OFFSETS, ALTER_OFFSETS, DELETE_OFFSETS = 90, 91, 92
ADMIN, ALICE = "User:admin", "User:alice"
ANONYMOUS = "User:ANONYMOUS"  # what the share test client (tests.gateway.share.support) connects as
DENIED = ErrorCode.TOPIC_AUTHORIZATION_FAILED


def allow(broker, *acls):
    broker.authorizer.acls.add([AclBinding(rt, name, P.LITERAL, who, "*", op, Perm.ALLOW)
                                for rt, name, who, op in acls])


@pytest.fixture
def broker():
    b = new_broker(authorizer=True, super_users=(ADMIN,))
    for name in ("readable", "hidden"):
        b.logs.create_topic(name, 2)
    allow(b, (R.GROUP, "g", ALICE, Op.READ), (R.GROUP, "g", ALICE, Op.DELETE), (R.TOPIC, "readable", ALICE, Op.READ))
    return b


def alter(broker, principal, names):
    return call(broker, ALTER_OFFSETS, 0, {"group_id": "g", "topics": [
        {"topic_name": n, "partitions": [{"partition_index": 0, "start_offset": 0}]} for n in names]},
        principal=principal)


def describe(broker, principal, names):
    topics = None if names is None else [{"topic_name": n, "partitions": [0, 1]} for n in names]
    response = call(broker, DESCRIBE_OFFSETS, 1, {"groups": [{"group_id": "g", "topics": topics}]}, principal=principal)
    return response.groups[0]


def test_alter_needs_read_on_each_topic_and_answers_the_refused_first(broker):
    response = alter(broker, ALICE, ["readable", "hidden"])
    assert response.error_code == ErrorCode.NONE
    got = [(t.topic_name, [(p.partition_index, p.error_code) for p in t.partitions]) for t in response.responses]
    assert got == [("hidden", [(0, DENIED)]), ("readable", [(0, ErrorCode.NONE)])]
    assert response.responses[0].partitions[0].error_message == "Topic authorization failed."
    admin_view = describe(broker, ADMIN, None)
    assert [(t.topic_name, t.partitions[0].start_offset) for t in admin_view.topics] == [("readable", 0)]


def test_describe_filters_all_topics_and_refuses_named_ones_per_partition(broker):
    alter(broker, ADMIN, ["readable", "hidden"])
    assert sorted(t.topic_name for t in describe(broker, ADMIN, None).topics) == ["hidden", "readable"]
    assert [t.topic_name for t in describe(broker, ALICE, None).topics] == ["readable"]
    named = describe(broker, ALICE, ["hidden", "readable"])
    assert named.error_code == ErrorCode.NONE
    assert [t.topic_name for t in named.topics] == ["readable", "hidden"]  # the refused appended, as Kafka does
    hidden = named.topics[1]
    assert bytes(hidden.topic_id) == bytes(ZERO_UUID)
    assert [(p.partition_index, p.start_offset, p.error_code) for p in hidden.partitions] == [(0, -1, DENIED),
                                                                                               (1, -1, DENIED)]
    assert all(p.error_code == ErrorCode.NONE for p in named.topics[0].partitions)


def test_delete_needs_read_on_each_topic_and_keeps_the_refused_topics_state(broker):
    alter(broker, ADMIN, ["readable", "hidden"])
    response = call(broker, DELETE_OFFSETS, 0, {"group_id": "g", "topics": [
        {"topic_name": "readable"}, {"topic_name": "hidden"}]}, principal=ALICE)
    assert response.error_code == ErrorCode.NONE
    assert [(t.topic_name, t.error_code) for t in response.responses] == [("hidden", DENIED),
                                                                           ("readable", ErrorCode.NONE)]
    assert [t.topic_name for t in describe(broker, ADMIN, None).topics] == ["hidden"]


def test_group_refusal_comes_before_the_topics(broker):
    response = call(broker, DELETE_OFFSETS, 0, {"group_id": "other", "topics": [{"topic_name": "readable"}]},
                    principal=ALICE)
    assert response.error_code == ErrorCode.GROUP_AUTHORIZATION_FAILED and not response.responses


def test_without_an_authorizer_every_topic_is_answered():
    broker = new_broker()
    broker.logs.create_topic("hidden", 1)
    response = alter(broker, ALICE, ["hidden"])
    assert response.responses[0].partitions[0].error_code == ErrorCode.NONE
    assert [t.topic_name for t in describe(broker, ALICE, ["hidden"]).topics] == ["hidden"]


def share_member(*topic_operations):
    """A broker with one record in topic t, and a share member of group g (READ on g) subscribed to t
    whose principal has `topic_operations` on t."""
    from tests.gateway.share.support import Member, produce as share_produce, set_group_configs

    broker = new_broker(authorizer=True)
    broker.logs.create_topic("t", 1)
    set_group_configs(broker, "g", {"share.auto.offset.reset": "earliest"})
    share_produce(broker, "t", [b"a"])
    allow(broker, (R.GROUP, "g", ANONYMOUS, Op.READ), *[(R.TOPIC, "t", ANONYMOUS, op) for op in topic_operations])
    member = Member(broker, "g", ["t"])
    assert member.heartbeat().error_code == ErrorCode.NONE
    return broker, member


def test_share_fetch_needs_read_on_each_topic():
    broker, member = share_member(Op.DESCRIBE)
    fetched = member.fetch()
    assert fetched.error_code == ErrorCode.NONE
    assert fetched.responses[0].partitions[0].error_code == DENIED
    allow(broker, (R.TOPIC, "t", ANONYMOUS, Op.READ))
    allowed = member.fetch().responses[0].partitions[0]
    assert allowed.error_code == ErrorCode.NONE and allowed.acquired_records


def test_share_acknowledge_needs_read_on_the_topic():
    from tests.gateway.share.support import acquired

    broker, member = share_member(Op.DESCRIBE)
    assert member.fetch().responses[0].partitions[0].error_code == DENIED  # opens the share session
    refused = member.acknowledge({("t", 0): [(0, 0, [1])]})
    assert refused.error_code == ErrorCode.NONE
    assert refused.responses[0].partitions[0].error_code == DENIED
    allow(broker, (R.TOPIC, "t", ANONYMOUS, Op.READ))
    assert acquired(member.fetch()) == [(0, 0, 1)]
    accepted = member.acknowledge({("t", 0): [(0, 0, [1])]})
    assert accepted.responses[0].partitions[0].error_code == ErrorCode.NONE

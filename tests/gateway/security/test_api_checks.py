"""Per-API authorization with ctx.principal set (in-process, memory engine): the ACL APIs and the
checks of Kafka's "Operations and resources on protocols" table, with Kafka's error codes."""

from __future__ import annotations

import pytest

from gateway.security.acls import Operation as Op, PatternType as P, Permission as Perm, ResourceType as R
from partitions.memory import MemoryStorage
from tests.gateway.inprocess import call, new_broker
from wire.errors import ErrorCode
from wire.records import build_batch
from wire.schema import ZERO_UUID

ADMIN, ALICE = "User:admin", "User:alice"
PRODUCE, FETCH, METADATA, OFFSET_COMMIT, OFFSET_FETCH, FIND_COORDINATOR, JOIN = 0, 1, 3, 8, 9, 10, 11
CREATE_TOPICS, DELETE_TOPICS, INIT_PID, DESCRIBE_CONFIGS = 19, 20, 22, 32
DESCRIBE_ACLS, CREATE_ACLS, DELETE_ACLS, DESCRIBE_GROUPS, LIST_GROUPS, DESCRIBE_CLUSTER = 29, 30, 31, 15, 16, 60


@pytest.fixture
def storage():
    return MemoryStorage()


@pytest.fixture
def broker(storage):
    b = new_broker(storage, authorizer=True, super_users=(ADMIN,))
    call(b, CREATE_TOPICS, 7, {"topics": [{"name": n, "num_partitions": 1, "replication_factor": 1, "assignments": [],
                                            "configs": []} for n in ("orders", "logs-app", "secret")],
                               "timeout_ms": 1000, "validate_only": False}, principal=ADMIN)
    return b


def grant(broker, *acls, principal=ADMIN):
    creations = [{"resource_type": rt, "resource_name": name, "resource_pattern_type": pattern, "principal": who,
                  "host": "*", "operation": op, "permission_type": perm} for rt, name, pattern, who, op, perm in acls]
    response = call(broker, CREATE_ACLS, 3, {"creations": creations}, principal=principal)
    return [r.error_code for r in response.results]


def produce(broker, topic, principal=ALICE, transactional_id=None):
    batch = build_batch([(None, b"v", [], 1)])
    response = call(broker, PRODUCE, 9, {"transactional_id": transactional_id, "acks": 1, "timeout_ms": 1000,
                                         "topic_data": [{"name": topic, "partition_data": [{"index": 0, "records": batch}]}]},
                    principal=principal)
    return response.responses[0].partition_responses[0].error_code


def fetch_error(broker, topic, principal=ALICE):
    response = call(broker, FETCH, 12, {"replica_id": -1, "max_wait_ms": 0, "min_bytes": 0, "max_bytes": 1 << 20,
                                        "isolation_level": 0, "session_id": 0, "session_epoch": -1, "topics": [
                                            {"topic": topic, "partitions": [{"partition": 0, "fetch_offset": 0,
                                                                             "partition_max_bytes": 1 << 20}]}],
                                        "forgotten_topics_data": [], "rack_id": ""}, principal=principal)
    return response.responses[0].partitions[0].error_code


def metadata(broker, topics, principal=ALICE, auto_create=False, version=12, **flags):
    body = {"topics": None if topics is None else [{"name": t} for t in topics],
            "allow_auto_topic_creation": auto_create, **flags}
    return call(broker, METADATA, version, body, principal=principal)


def test_acl_apis_need_an_authorizer_and_cluster_alter(storage):
    plain = new_broker()
    assert call(plain, DESCRIBE_ACLS, 3, {"resource_type_filter": 1, "resource_name_filter": None,
                                          "pattern_type_filter": 1, "principal_filter": None, "host_filter": None,
                                          "operation": 1, "permission_type": 1}).error_code == ErrorCode.SECURITY_DISABLED
    assert grant(plain, (R.TOPIC, "t", P.LITERAL, ALICE, Op.READ, Perm.ALLOW)) == [ErrorCode.SECURITY_DISABLED]
    secured = new_broker(storage, authorizer=True, super_users=(ADMIN,))
    assert grant(secured, (R.TOPIC, "t", P.LITERAL, ALICE, Op.READ, Perm.ALLOW), principal=ALICE) == \
        [ErrorCode.CLUSTER_AUTHORIZATION_FAILED]


def test_create_validates_each_acl_and_describe_delete_filter(broker):
    codes = grant(broker, (R.TOPIC, "orders", P.LITERAL, ALICE, Op.WRITE, Perm.ALLOW),
                  (R.ANY, "x", P.LITERAL, ALICE, Op.READ, Perm.ALLOW),
                  (R.TOPIC, "x", P.MATCH, ALICE, Op.READ, Perm.ALLOW),
                  (R.TOPIC, "x", P.LITERAL, "alice", Op.READ, Perm.ALLOW),
                  (R.TOPIC, "logs-", P.PREFIXED, ALICE, Op.READ, Perm.ALLOW))
    assert codes == [ErrorCode.NONE, ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST,
                     ErrorCode.NONE]
    described = call(broker, DESCRIBE_ACLS, 3, {"resource_type_filter": R.TOPIC, "resource_name_filter": "logs-app",
                                                "pattern_type_filter": P.MATCH, "principal_filter": None,
                                                "host_filter": None, "operation": Op.ANY, "permission_type": Perm.ANY},
                     principal=ADMIN)
    assert [(r.resource_name, r.pattern_type, [a.operation for a in r.acls]) for r in described.resources] == \
        [("logs-", P.PREFIXED, [Op.READ])]
    deleted = call(broker, DELETE_ACLS, 3, {"filters": [
        {"resource_type_filter": R.ANY, "resource_name_filter": None, "pattern_type_filter": P.ANY,
         "principal_filter": ALICE, "host_filter": None, "operation": Op.WRITE, "permission_type": Perm.ANY}]},
        principal=ADMIN)
    assert [m.resource_name for m in deleted.filter_results[0].matching_acls] == ["orders"]
    assert produce(broker, "orders") == ErrorCode.TOPIC_AUTHORIZATION_FAILED


def test_produce_and_fetch_need_write_and_read(broker):
    assert produce(broker, "orders") == ErrorCode.TOPIC_AUTHORIZATION_FAILED
    assert fetch_error(broker, "orders") == ErrorCode.TOPIC_AUTHORIZATION_FAILED
    grant(broker, (R.TOPIC, "orders", P.LITERAL, ALICE, Op.WRITE, Perm.ALLOW))
    assert produce(broker, "orders") == ErrorCode.NONE
    assert fetch_error(broker, "orders") == ErrorCode.TOPIC_AUTHORIZATION_FAILED
    grant(broker, (R.TOPIC, "orders", P.LITERAL, ALICE, Op.READ, Perm.ALLOW))
    assert fetch_error(broker, "orders") == ErrorCode.NONE
    grant(broker, (R.TOPIC, "ord", P.PREFIXED, ALICE, Op.WRITE, Perm.DENY))  # DENY beats ALLOW
    assert produce(broker, "orders") == ErrorCode.TOPIC_AUTHORIZATION_FAILED
    assert produce(broker, "orders", principal=ADMIN) == ErrorCode.NONE  # super users ignore ACLs


def test_transactional_produce_needs_transactional_id_write(broker):
    grant(broker, (R.TOPIC, "orders", P.LITERAL, ALICE, Op.WRITE, Perm.ALLOW))
    assert produce(broker, "orders", transactional_id="tx") == ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    body = {"transactional_id": "tx", "transaction_timeout_ms": 60000, "producer_id": -1, "producer_epoch": -1}
    assert call(broker, INIT_PID, 4, body, principal=ALICE).error_code == ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    grant(broker, (R.TRANSACTIONAL_ID, "tx", P.LITERAL, ALICE, Op.WRITE, Perm.ALLOW))
    assert call(broker, INIT_PID, 4, body, principal=ALICE).error_code == ErrorCode.NONE
    # idempotent (no transactional id): CLUSTER IDEMPOTENT_WRITE or WRITE on some topic
    idempotent = {**body, "transactional_id": None}
    assert call(broker, INIT_PID, 4, idempotent, principal=ALICE).error_code == ErrorCode.NONE
    assert call(broker, INIT_PID, 4, idempotent, principal="User:bob").error_code == ErrorCode.CLUSTER_AUTHORIZATION_FAILED


def test_metadata_filters_unauthorized_topics_and_auto_create_needs_create(broker):
    grant(broker, (R.TOPIC, "logs-", P.PREFIXED, ALICE, Op.READ, Perm.ALLOW))
    listed = metadata(broker, None)
    assert sorted(t.name for t in listed.topics) == ["logs-app"]
    named = metadata(broker, ["orders", "logs-app"])
    assert [(t.name, t.error_code) for t in named.topics] == [("orders", ErrorCode.TOPIC_AUTHORIZATION_FAILED),
                                                              ("logs-app", ErrorCode.NONE)]
    created = metadata(broker, ["logs-new"], auto_create=True)
    assert created.topics[0].error_code == ErrorCode.TOPIC_AUTHORIZATION_FAILED  # DESCRIBE but no CREATE
    assert broker.logs.get("logs-new") is None
    grant(broker, (R.TOPIC, "logs-", P.PREFIXED, ALICE, Op.CREATE, Perm.ALLOW))
    assert metadata(broker, ["logs-new"], auto_create=True).topics[0].error_code == ErrorCode.NONE
    ops = metadata(broker, ["logs-app"], version=10, include_topic_authorized_operations=True,
                   include_cluster_authorized_operations=True)
    assert ops.topics[0].topic_authorized_operations == (1 << Op.READ) | (1 << Op.DESCRIBE) | (1 << Op.CREATE)
    assert ops.cluster_authorized_operations == 0


def test_offset_commit_needs_group_read_and_topic_read(broker):
    body = {"group_id": "g", "generation_id_or_member_epoch": -1, "member_id": "", "group_instance_id": None,
            "retention_time_ms": -1, "topics": [{"name": "orders", "partitions": [
                {"partition_index": 0, "committed_offset": 1, "committed_leader_epoch": -1, "committed_metadata": ""}]}]}
    def commit():
        return call(broker, OFFSET_COMMIT, 8, body, principal=ALICE).topics[0].partitions[0].error_code
    assert commit() == ErrorCode.GROUP_AUTHORIZATION_FAILED
    grant(broker, (R.GROUP, "g", P.LITERAL, ALICE, Op.READ, Perm.ALLOW))
    assert commit() == ErrorCode.TOPIC_AUTHORIZATION_FAILED
    grant(broker, (R.TOPIC, "orders", P.LITERAL, ALICE, Op.READ, Perm.ALLOW))
    assert commit() == ErrorCode.NONE
    fetched = call(broker, OFFSET_FETCH, 7, {"group_id": "g", "topics": None, "require_stable": False}, principal=ALICE)
    assert [t.name for t in fetched.topics] == ["orders"]


def test_group_apis_and_coordinator_lookup(broker):
    join = {"group_id": "g", "session_timeout_ms": 10000, "rebalance_timeout_ms": 10000, "member_id": "",
            "group_instance_id": None, "protocol_type": "consumer", "protocols": [{"name": "range", "metadata": b""}],
            "reason": None}
    assert call(broker, JOIN, 9, join, principal=ALICE).error_code == ErrorCode.GROUP_AUTHORIZATION_FAILED
    found = call(broker, FIND_COORDINATOR, 4, {"key_type": 0, "coordinator_keys": ["g"]}, principal=ALICE)
    assert found.coordinators[0].error_code == ErrorCode.GROUP_AUTHORIZATION_FAILED
    txn = call(broker, FIND_COORDINATOR, 4, {"key_type": 1, "coordinator_keys": ["tx"]}, principal=ALICE)
    assert txn.coordinators[0].error_code == ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    described = call(broker, DESCRIBE_GROUPS, 5, {"groups": ["g", "h"], "include_authorized_operations": True},
                     principal=ALICE)
    assert [g.error_code for g in described.groups] == [ErrorCode.GROUP_AUTHORIZATION_FAILED] * 2


def test_topic_admin_and_configs(broker):
    created = call(broker, CREATE_TOPICS, 7, {"topics": [{"name": "new", "num_partitions": 1, "replication_factor": 1,
                                                          "assignments": [], "configs": []}],
                                              "timeout_ms": 1000, "validate_only": False}, principal=ALICE)
    assert created.topics[0].error_code == ErrorCode.TOPIC_AUTHORIZATION_FAILED
    deleted = call(broker, DELETE_TOPICS, 6, {"topics": [{"name": "orders", "topic_id": ZERO_UUID}], "timeout_ms": 1000},
                   principal=ALICE)
    assert deleted.responses[0].error_code == ErrorCode.TOPIC_AUTHORIZATION_FAILED
    assert broker.logs.get("orders") is not None
    described = call(broker, DESCRIBE_CONFIGS, 4, {"resources": [
        {"resource_type": 2, "resource_name": "orders", "configuration_keys": None},
        {"resource_type": 4, "resource_name": "1", "configuration_keys": None}],
        "include_synonyms": False, "include_documentation": False}, principal=ALICE)
    assert [r.error_code for r in described.results] == [ErrorCode.TOPIC_AUTHORIZATION_FAILED,
                                                         ErrorCode.CLUSTER_AUTHORIZATION_FAILED]
    grant(broker, (R.TOPIC, "orders", P.LITERAL, ALICE, Op.ALTER_CONFIGS, Perm.ALLOW))  # implies DESCRIBE_CONFIGS
    again = call(broker, DESCRIBE_CONFIGS, 4, {"resources": [
        {"resource_type": 2, "resource_name": "orders", "configuration_keys": None}],
        "include_synonyms": False, "include_documentation": False}, principal=ALICE)
    assert again.results[0].error_code == ErrorCode.NONE and again.results[0].configs


def test_cluster_operations_and_acls_survive_restart(storage, broker):
    grant(broker, (R.CLUSTER, "kafka-cluster", P.LITERAL, ALICE, Op.DESCRIBE, Perm.ALLOW))
    cluster = call(broker, DESCRIBE_CLUSTER, 1, {"include_cluster_authorized_operations": True}, principal=ALICE)
    assert cluster.cluster_authorized_operations == 1 << Op.DESCRIBE
    restarted = new_broker(storage, authorizer=True)
    assert len(restarted.authorizer.acls) == 1
    assert call(restarted, DESCRIBE_CLUSTER, 1, {"include_cluster_authorized_operations": True},
                principal=ALICE).cluster_authorized_operations == 1 << Op.DESCRIBE


def test_no_authorizer_allows_everything_and_reports_every_operation():
    plain = new_broker()
    assert produce(plain, "anything") == ErrorCode.NONE
    assert metadata(plain, ["anything"], include_topic_authorized_operations=True).topics[0] \
        .topic_authorized_operations == 0b110111111000


def test_whole_request_checks_answer_the_apis_error_response(broker):
    heartbeat = call(broker, 12, 4, {"group_id": "g", "generation_id": 1, "member_id": "m", "group_instance_id": None},
                     principal=ALICE)
    assert heartbeat.error_code == ErrorCode.GROUP_AUTHORIZATION_FAILED
    quotas = call(broker, 48, 1, {"components": [], "strict": False}, principal=ALICE)
    assert quotas.error_code == ErrorCode.CLUSTER_AUTHORIZATION_FAILED
    elect = call(broker, 43, 2, {"election_type": 0, "topic_partitions": [{"topic": "orders", "partitions": [0]}],
                                 "timeout_ms": 1000}, principal=ALICE)
    assert elect.error_code == ErrorCode.CLUSTER_AUTHORIZATION_FAILED
    assert elect.replica_election_results[0].partition_result[0].error_code == ErrorCode.CLUSTER_AUTHORIZATION_FAILED
    end = call(broker, 26, 3, {"transactional_id": "tx", "producer_id": 1, "producer_epoch": 0, "committed": True},
               principal=ALICE)
    assert end.error_code == ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    assert call(broker, 12, 4, {"group_id": "g", "generation_id": 1, "member_id": "m", "group_instance_id": None},
                principal=ADMIN).error_code != ErrorCode.GROUP_AUTHORIZATION_FAILED


def test_describe_share_group_offsets_needs_group_describe(broker):
    grant(broker, (R.GROUP, "mine", P.LITERAL, ALICE, Op.DESCRIBE, Perm.ALLOW))
    response = call(broker, 90, 1, {"groups": [{"group_id": "other", "topics": None},
                                               {"group_id": "mine", "topics": None}]}, principal=ALICE)
    assert response.groups[0].error_code == ErrorCode.GROUP_AUTHORIZATION_FAILED
    assert response.groups[1].error_code != ErrorCode.GROUP_AUTHORIZATION_FAILED

"""Error answers built from the declarations: every API and version encodes, the error sits where
Kafka puts it, and the answer mirrors the request's topics and partitions."""

from __future__ import annotations

import uuid

import pytest

from gateway.faults.requests import request_facts
from gateway.faults.responses import error_response
from wire.codec import decode, encode
from wire.errors import ErrorCode
from wire.messages import APIS

NL = ErrorCode.NOT_LEADER_OR_FOLLOWER


def answer(key: int, version: int, body: dict, error=NL, message=None):
    api = APIS[key]
    request = decode(api.request, version, encode(api.request, version, body))
    response = error_response(key, api.request, api.response, version, request, error, message)
    if response is None:
        return None
    return decode(api.response, version, encode(api.response, version, response))


ALL_VERSIONS = [(key, v) for key, api in sorted(APIS.items())
                for v in range(api.request.valid_versions.low, api.request.valid_versions.high + 1)]


@pytest.mark.parametrize("key,version", ALL_VERSIONS, ids=[f"{APIS[k].name}-v{v}" for k, v in ALL_VERSIONS])
def test_every_api_and_version_gets_an_encodable_error_answer(key, version):
    response = answer(key, version, {"acks": 1} if key == 0 else {}, ErrorCode.UNKNOWN_SERVER_ERROR)
    assert response is not None
    top = [f for f in APIS[key].response.fields if f.present_in(version) and f.name == "error_code"]
    if top:
        assert response.error_code == ErrorCode.UNKNOWN_SERVER_ERROR


def test_produce_answers_every_partition_with_the_error_and_unknown_offsets():
    body = {"acks": -1, "timeout_ms": 1000, "topic_data": [
        {"name": "t", "partition_data": [{"index": 0, "records": b""}, {"index": 3, "records": b""}]},
        {"name": "u", "partition_data": [{"index": 1, "records": b""}]},
    ]}
    for version in (3, 8, 9, 12):
        response = answer(0, version, body, NL, "moved")
        got = [(t.name, p.index, p.error_code, p.base_offset) for t in response.responses for p in t.partition_responses]
        assert got == [("t", 0, NL, -1), ("t", 3, NL, -1), ("u", 1, NL, -1)]
        if version >= 8:
            assert response.responses[0].partition_responses[0].error_message == "moved"


def test_produce_with_acks_0_gets_no_answer_as_from_kafka():
    assert answer(0, 9, {"acks": 0, "topic_data": [{"name": "t", "partition_data": [{"index": 0}]}]}) is None


def test_produce_v13_keeps_topic_ids():
    tid = uuid.uuid4().bytes
    response = answer(0, 13, {"acks": 1, "topic_data": [{"topic_id": tid, "partition_data": [{"index": 2}]}]})
    assert bytes(response.responses[0].topic_id) == tid
    assert response.responses[0].partition_responses[0].index == 2


def test_fetch_sets_the_top_level_and_every_partition_as_kafka_does():
    body = {"max_wait_ms": 500, "session_id": 7, "topics": [
        {"topic": "t", "partitions": [{"partition": 0, "fetch_offset": 5}, {"partition": 1, "fetch_offset": 9}]}],
        "forgotten_topics_data": [{"topic": "old", "partitions": [4]}]}
    response = answer(1, 11, body)
    assert response.error_code == NL and response.session_id == 7
    assert [(r.topic, p.partition_index, p.error_code, p.high_watermark)
            for r in response.responses for p in r.partitions] == [("t", 0, NL, -1), ("t", 1, NL, -1)]


def test_group_apis_get_the_top_level_error():
    join = answer(11, 5, {"group_id": "g", "session_timeout_ms": 10000, "rebalance_timeout_ms": 10000,
                          "member_id": "", "protocol_type": "consumer", "protocols": []},
                  ErrorCode.COORDINATOR_NOT_AVAILABLE)
    assert join.error_code == ErrorCode.COORDINATOR_NOT_AVAILABLE and join.members == []
    heartbeat = answer(12, 4, {"group_id": "g", "generation_id": 1, "member_id": "m"}, ErrorCode.REBALANCE_IN_PROGRESS)
    assert heartbeat.error_code == ErrorCode.REBALANCE_IN_PROGRESS


def test_scalar_request_arrays_fill_the_key_of_each_answer():
    described = answer(15, 5, {"groups": ["a", "b"]}, ErrorCode.NOT_COORDINATOR)
    assert [(g.group_id, g.error_code) for g in described.groups] == [("a", 16), ("b", 16)]
    found = answer(10, 4, {"key_type": 0, "coordinator_keys": ["g1", "g2"]}, ErrorCode.COORDINATOR_NOT_AVAILABLE)
    assert [(c.key, c.error_code, c.node_id) for c in found.coordinators] == [("g1", 15, 0), ("g2", 15, 0)]
    fetched = answer(9, 5, {"group_id": "g", "topics": [{"name": "t", "partition_indexes": [0, 2]}]},
                     ErrorCode.NOT_COORDINATOR)
    assert fetched.error_code == ErrorCode.NOT_COORDINATOR
    assert [(p.partition_index, p.error_code, p.committed_offset) for p in fetched.topics[0].partitions] == [
        (0, 16, -1), (2, 16, -1)]


def test_offset_commit_answers_per_partition():
    response = answer(8, 8, {"group_id": "g", "generation_id_or_member_epoch": 1, "member_id": "m", "topics": [
        {"name": "t", "partitions": [{"partition_index": 1, "committed_offset": 4}]}]}, ErrorCode.NOT_COORDINATOR)
    assert [(t.name, p.partition_index, p.error_code) for t in response.topics for p in t.partitions] == [("t", 1, 16)]


def facts(key, version, body, topic_name=lambda b: None):
    api = APIS[key]
    request = decode(api.request, version, encode(api.request, version, body))
    return request_facts(api.request, version, request, api_key=key, broker=2, client_id="c", topic_name=topic_name)


def test_facts_name_topics_partitions_and_groups():
    produced = facts(0, 9, {"acks": 1, "topic_data": [{"name": "t", "partition_data": [{"index": 0}, {"index": 2}]}]})
    assert produced.topics == {"t": frozenset({0, 2})} and produced.broker == 2 and produced.client_id == "c"
    tid = uuid.uuid4().bytes
    fetched = facts(1, 13, {"topics": [{"topic_id": tid, "partitions": [{"partition": 1}]}]},
                    topic_name=lambda b: "byid" if b == tid else None)
    assert fetched.topics == {"byid": frozenset({1})}
    offsets = facts(9, 8, {"groups": [{"group_id": "g", "topics": [{"name": "t", "partition_indexes": [3]}]}]})
    assert offsets.groups == {"g"} and offsets.topics == {"t": frozenset({3})}
    assert facts(10, 4, {"key_type": 0, "coordinator_keys": ["a", "b"]}).groups == {"a", "b"}
    assert facts(10, 4, {"key_type": 1, "coordinator_keys": ["txn"]}).groups == frozenset()
    assert facts(3, 12, {"topics": [{"name": "m"}]}).topics == {"m": None}
    assert facts(15, 5, {"groups": ["x"]}).groups == {"x"}

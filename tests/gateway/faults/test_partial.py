"""Faults with a topic/partition matcher on per-partition APIs: only the matched partitions get the
error, the others are handled for real, and what is answered as failed is not applied."""

from __future__ import annotations

import pytest

from gateway.faults.partial import shape
from tests.gateway.faults.test_pipeline_faults import wait_for
from tests.gateway.test_pipeline import FETCH, PRODUCE, make, request, run, settle
from wire.errors import ErrorCode
from wire.messages import APIS
from wire.records import build_batch

LIST_OFFSETS, OFFSET_COMMIT = 2, 8


def _produce(topic: str, partitions, correlation_id: int) -> bytes:
    return request(PRODUCE, 9, {"transactional_id": None, "acks": 1, "timeout_ms": 1000, "topic_data": [
        {"name": topic, "partition_data": [{"index": p, "records": build_batch([(None, b"v%d" % p, [], 1000)])}
                                           for p in partitions]},
        {"name": "other", "partition_data": [{"index": 0, "records": build_batch([(None, b"o", [], 1000)])}]}]},
        correlation_id)


def _fetch(topic: str, partitions, correlation_id: int) -> bytes:
    return request(FETCH, 11, {
        "replica_id": -1, "max_wait_ms": 0, "min_bytes": 0, "max_bytes": 1 << 20, "isolation_level": 0,
        "session_id": 0, "session_epoch": -1, "rack_id": "", "forgotten_topics_data": [],
        "topics": [{"topic": topic, "partitions": [{"partition": p, "fetch_offset": 0, "partition_max_bytes": 1 << 20,
                                                    "current_leader_epoch": -1, "log_start_offset": -1}
                                                   for p in partitions]}]}, correlation_id)


async def _answers(transport, pipeline, api, version, n):
    """The next n responses (taken from what was sent)."""
    got = []
    while len(got) < n:
        await wait_for(lambda: len(transport.sent) > 0)
        await settle()
        got += [r for _, r in transport.responses(api, version)]
    await wait_for(lambda: pipeline.idle)
    return got


def test_produce_fault_on_one_partition_errors_only_it_and_does_not_append_it():
    async def main():
        broker, transport, pipeline = make()
        broker.logs.create_topic("t", 3)
        broker.logs.create_topic("other", 1)
        fault = broker.faults.add({"api": "Produce", "error": "NOT_LEADER_OR_FOLLOWER", "topic": "t", "partition": 1,
                                   "count": 1})
        pipeline.receive_data(_produce("t", [2, 1, 0], 1))
        (answer,) = await _answers(transport, pipeline, PRODUCE, 9, 1)
        assert [t.name for t in answer.responses] == ["t", "other"]
        codes = [(p.index, p.error_code, p.base_offset) for p in answer.responses[0].partition_responses]
        assert codes == [(2, 0, 0), (1, ErrorCode.NOT_LEADER_OR_FOLLOWER, -1), (0, 0, 0)]  # the request's order
        assert answer.responses[1].partition_responses[0].error_code == 0
        assert [broker.logs.partition("t", p).log_end_offset for p in (0, 1, 2)] == [1, 0, 1]
        assert broker.logs.partition("other", 0).log_end_offset == 1
        assert fault.fired == 1
        pipeline.receive_data(_produce("t", [1], 2))  # count used up: handled for real
        answers = await _answers(transport, pipeline, PRODUCE, 9, 1)
        assert answers[0].responses[0].partition_responses[0].error_code == 0
        assert broker.logs.partition("t", 1).log_end_offset == 1
    run(main())


def test_a_topic_matcher_without_partition_errors_every_partition_of_that_topic_only():
    async def main():
        broker, transport, pipeline = make()
        broker.logs.create_topic("t", 2)
        broker.logs.create_topic("other", 1)
        fault = broker.faults.add({"api": "Produce", "error": "NOT_ENOUGH_REPLICAS", "topic": "t"})
        pipeline.receive_data(_produce("t", [0, 1], 1))
        (answer,) = await _answers(transport, pipeline, PRODUCE, 9, 1)
        assert [p.error_code for p in answer.responses[0].partition_responses] == [ErrorCode.NOT_ENOUGH_REPLICAS] * 2
        assert answer.responses[1].partition_responses[0].error_code == 0
        assert broker.logs.partition("other", 0).log_end_offset == 1
        assert broker.logs.partition("t", 0).log_end_offset == 0
        assert fault.fired == 1  # once per request, not per partition
    run(main())


def test_fetch_fault_on_one_partition_leaves_the_others_data_and_the_top_level_error_alone():
    async def main():
        broker, transport, pipeline = make()
        broker.logs.create_topic("t", 2)
        broker.logs.create_topic("other", 1)
        pipeline.receive_data(_produce("t", [0, 1], 1))
        await _answers(transport, pipeline, PRODUCE, 9, 1)
        broker.faults.add({"api": "Fetch", "error": "NOT_LEADER_OR_FOLLOWER", "topic": "t", "partition": 0})
        pipeline.receive_data(_fetch("t", [0, 1], 2))
        (answer,) = await _answers(transport, pipeline, FETCH, 11, 1)
        assert answer.error_code == 0
        parts = [(p.partition_index, p.error_code, p.high_watermark, bool(p.records))
                 for p in answer.responses[0].partitions]
        assert parts == [(0, ErrorCode.NOT_LEADER_OR_FOLLOWER, -1, False), (1, 0, 1, True)]
    run(main())


def test_a_request_with_only_matched_partitions_is_answered_without_the_handler():
    async def main():
        broker, transport, pipeline = make()
        broker.logs.create_topic("t", 2)
        broker.faults.add({"api": "Fetch", "error": "NOT_LEADER_OR_FOLLOWER", "topic": "t", "partition": 0})
        pipeline.receive_data(_fetch("t", [0], 1))
        (answer,) = await _answers(transport, pipeline, FETCH, 11, 1)
        assert answer.error_code == 0  # the error is the partition's
        assert [(p.partition_index, p.error_code) for p in answer.responses[0].partitions] == [
            (0, ErrorCode.NOT_LEADER_OR_FOLLOWER)]
    run(main())


def test_offset_commit_fault_on_one_partition_does_not_commit_it():
    async def main():
        broker, transport, pipeline = make()
        broker.logs.create_topic("t", 2)
        broker.faults.add({"api": "OffsetCommit", "error": "REQUEST_TIMED_OUT", "topic": "t", "partition": 1})
        pipeline.receive_data(request(OFFSET_COMMIT, 2, {
            "group_id": "g", "generation_id_or_member_epoch": -1, "member_id": "", "retention_time_ms": -1,
            "topics": [{"name": "t", "partitions": [
                {"partition_index": p, "committed_offset": 5, "committed_metadata": ""} for p in (0, 1)]}]}, 1))
        (answer,) = await _answers(transport, pipeline, OFFSET_COMMIT, 2, 1)
        assert [(p.partition_index, p.error_code) for p in answer.topics[0].partitions] == [
            (0, 0), (1, ErrorCode.REQUEST_TIMED_OUT)]
        broker.faults.clear()
        pipeline.receive_data(request(9, 1, {"group_id": "g", "topics": [{"name": "t", "partition_indexes": [0, 1]}]},
                                      2))
        (fetched,) = await _answers(transport, pipeline, 9, 1, 1)
        assert [(p.partition_index, p.committed_offset) for p in fetched.topics[0].partitions] == [(0, 5), (1, -1)]
    run(main())


PER_PARTITION = {"Produce": None, "Fetch": None, "ListOffsets": None, "OffsetCommit": None,
                 "OffsetFetch": range(0, 8), "TxnOffsetCommit": None, "AddPartitionsToTxn": range(0, 4),
                 "DeleteRecords": None, "OffsetForLeaderEpoch": None, "ShareFetch": None}


@pytest.mark.parametrize("name", sorted(PER_PARTITION))
def test_the_per_partition_apis_are_found_from_their_declarations(name):
    api = next(a for a in APIS.values() if a.name == name)
    versions = PER_PARTITION[name] or range(0, 20)
    for version in versions:
        if api.request.decodable(version):
            assert shape(api.request, api.response, version) is not None, (name, version)


@pytest.mark.parametrize("name", ["JoinGroup", "Metadata", "CreateTopics", "DescribeGroups", "FindCoordinator"])
def test_other_apis_are_answered_as_a_whole(name):
    api = next(a for a in APIS.values() if a.name == name)
    assert all(shape(api.request, api.response, v) is None for v in range(0, 20) if api.request.decodable(v))

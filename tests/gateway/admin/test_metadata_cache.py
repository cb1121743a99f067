"""Metadata's encoded topic entries: the same bytes as encoding afresh, at every version, and never stale."""

import asyncio

import pytest
import structlog

from gateway.handlers.metadata import topic_entry
from gateway.registry import RequestContext, lookup
from tests.gateway.inprocess import call, new_broker
from wire.codec import decode, encode

METADATA, CREATE_PARTITIONS = 3, 37


def _raw(broker, version, body):
    registration = lookup(METADATA, version)
    request = decode(registration.api.request, version, encode(registration.api.request, version, body))
    ctx = RequestContext(broker, METADATA, version, 1, "t", structlog.get_logger())
    return encode(registration.api.response, version, asyncio.run(registration.handler(ctx, request)))


@pytest.mark.parametrize("version", range(0, 14))
def test_cached_entries_encode_exactly_as_fresh_ones(version):
    broker = new_broker()
    broker.logs.create_topic("a", 3)
    broker.logs.create_topic("b", 1)
    body = {"topics": None if version else [], "allow_auto_topic_creation": False,
            "include_topic_authorized_operations": version >= 8, "include_cluster_authorized_operations": False}
    first, second = _raw(broker, version, body), _raw(broker, version, body)
    registration = lookup(METADATA, version)
    response = decode(registration.api.response, version, first)
    fresh = dict(response)
    fresh["topics"] = []
    for name in ("a", "b"):
        entry = topic_entry(broker.logs.get(name), broker.node_id)
        entry["topic_authorized_operations"] = response.topics[0].get("topic_authorized_operations", -(2**31))
        fresh["topics"].append(entry)
    assert first == second == encode(registration.api.response, version, fresh)


def test_more_partitions_are_seen_by_the_next_metadata():
    broker = new_broker()
    broker.logs.create_topic("t", 1)
    body = {"topics": [{"name": "t", "topic_id": bytes(16)}], "allow_auto_topic_creation": False,
            "include_topic_authorized_operations": False}
    assert len(call(broker, METADATA, 12, body).topics[0].partitions) == 1
    call(broker, CREATE_PARTITIONS, 3, {"timeout_ms": 1000, "validate_only": False,
                                        "topics": [{"name": "t", "count": 4, "assignments": None}]})
    assert len(call(broker, METADATA, 12, body).topics[0].partitions) == 4


def test_describe_topic_partitions_sees_new_partitions_too():
    broker = new_broker()
    broker.logs.create_topic("t", 2)
    body = {"topics": [{"name": "t"}], "response_partition_limit": 2000, "cursor": None}
    assert len(call(broker, 75, 0, body).topics[0].partitions) == 2
    broker.logs.add_partitions("t", 5)
    assert [p.partition_index for p in call(broker, 75, 0, body).topics[0].partitions] == [0, 1, 2, 3, 4]

"""Incremental fetch sessions (KIP-227): over the wire, and the cache's eviction rules directly."""

import asyncio

import pytest
from construct import Container

from gateway.fetch_sessions import FetchSessionCache
from tests.gateway.test_handlers import create, produce
from wire.errors import ErrorCode
from wire.records import build_batch
from wire.schema import ZERO_UUID

FETCH = 1


@pytest.fixture
def client(broker):
    c = broker.client()
    yield c
    c.close()


def fetch(client, session_id, epoch, partitions, forgotten=(), version=12):
    """partitions: [(topic, partition, fetch_offset)]; forgotten: [(topic, [partitions])]."""
    topics = {}
    for name, index, offset in partitions:
        topics.setdefault(name, []).append({"partition": index, "current_leader_epoch": -1, "fetch_offset": offset,
                                            "last_fetched_epoch": -1, "log_start_offset": -1,
                                            "partition_max_bytes": 1 << 20})
    return client.request(FETCH, version, {
        "replica_id": -1, "max_wait_ms": 0, "min_bytes": 0, "max_bytes": 1 << 20, "isolation_level": 0,
        "session_id": session_id, "session_epoch": epoch,
        "topics": [{"topic": name, "topic_id": ZERO_UUID, "partitions": ps} for name, ps in topics.items()],
        "forgotten_topics_data": [{"topic": name, "topic_id": ZERO_UUID, "partitions": ps} for name, ps in forgotten],
        "rack_id": ""})


def answered(response):
    return sorted((t.topic, p.partition_index) for t in response.responses for p in t.partitions)


def test_an_incremental_session_answers_only_partitions_with_news(client):
    create(client, "sess", 4)
    for index in range(4):
        produce(client, "sess", build_batch([(b"k", b"v", [], 1000)]), partition=index)
    full = fetch(client, 0, 0, [("sess", i, 0) for i in range(4)])
    assert full.error_code == ErrorCode.NONE and full.session_id != 0
    assert answered(full) == [("sess", i) for i in range(4)]
    session = full.session_id
    # the consumer advanced on every partition: it sends the new offsets; nothing new, so nothing back
    quiet = fetch(client, session, 1, [("sess", i, 1) for i in range(4)])
    assert (quiet.error_code, quiet.session_id, answered(quiet)) == (ErrorCode.NONE, session, [])
    produce(client, "sess", build_batch([(b"k", b"w", [], 1001)]), partition=2)
    news = fetch(client, session, 2, [])  # no partition changed on the consumer's side
    assert answered(news) == [("sess", 2)] and news.responses[0].partitions[0].records
    assert news.responses[0].partitions[0].high_watermark == 2
    # forgetting a partition: a later append there is not reported
    forgot = fetch(client, session, 3, [("sess", 2, 2)], forgotten=[("sess", [3])])
    assert answered(forgot) == []
    produce(client, "sess", build_batch([(b"k", b"x", [], 1002)]), partition=3)
    assert answered(fetch(client, session, 4, [])) == []


def test_session_errors_and_closing(client):
    create(client, "sess-errors", 1)
    session = fetch(client, 0, 0, [("sess-errors", 0, 0)]).session_id
    assert fetch(client, session, 5, []).error_code == ErrorCode.INVALID_FETCH_SESSION_EPOCH
    assert fetch(client, session, 1, []).error_code == ErrorCode.NONE  # a wrong epoch does not end it
    assert fetch(client, 123456789, 1, []).error_code == ErrorCode.FETCH_SESSION_ID_NOT_FOUND
    closed = fetch(client, session, -1, [("sess-errors", 0, 0)])  # FINAL: close, answer sessionless
    assert (closed.error_code, closed.session_id, answered(closed)) == (ErrorCode.NONE, 0, [("sess-errors", 0)])
    assert fetch(client, session, 2, []).error_code == ErrorCode.FETCH_SESSION_ID_NOT_FOUND
    sessionless = fetch(client, 0, -1, [("sess-errors", 0, 0)])
    assert sessionless.session_id == 0


def test_session_by_topic_id(client):
    topic_id = create(client, "sess-ids", 2).topic_id
    request = {"replica_id": -1, "max_wait_ms": 0, "min_bytes": 0, "max_bytes": 1 << 20, "isolation_level": 0,
               "session_id": 0, "session_epoch": 0, "forgotten_topics_data": [], "rack_id": "",
               "topics": [{"topic_id": topic_id, "partitions": [
                   {"partition": i, "current_leader_epoch": -1, "fetch_offset": 0, "last_fetched_epoch": -1,
                    "log_start_offset": -1, "partition_max_bytes": 1024} for i in range(2)]}]}
    full = client.request(FETCH, 13, request)
    assert full.session_id != 0 and len(full.responses[0].partitions) == 2
    produce(client, "sess-ids", build_batch([(b"k", b"v", [], 1000)]), partition=1)
    later = client.request(FETCH, 13, {**request, "session_id": full.session_id, "session_epoch": 1, "topics": []})
    assert [(t.topic_id, [p.partition_index for p in t.partitions]) for t in later.responses] == [(topic_id, [1])]


def _request(partitions: int, epoch: int = 0, session_id: int = 0) -> Container:
    return Container(session_id=session_id, session_epoch=epoch, forgotten_topics_data=[], topics=[
        Container(topic="t", topic_id=ZERO_UUID, partitions=[
            Container(partition=i, fetch_offset=0, partition_max_bytes=1) for i in range(partitions)])])


def _fetch(cache: FetchSessionCache, request: Container, now_ms: int) -> int:
    """The session id a Fetch answers (what fetch.py does around its reads, without the reads)."""
    async def go():
        context = await cache.new_context(request, 12, now_ms)
        await context.respond([], [(t, list(t.partitions)) for t in context.topics])
        return context.session_id
    return asyncio.run(go())


def test_the_cache_is_bounded_and_evicts_stale_then_smaller_sessions():
    cache = FetchSessionCache(max_slots=2)
    small = _fetch(cache, _request(1), now_ms=0)
    large = _fetch(cache, _request(5), now_ms=0)
    assert small and large and len(cache.sessions) == 2
    assert _fetch(cache, _request(1), now_ms=1000) == 0  # full, nothing smaller to evict
    bigger = _fetch(cache, _request(3), now_ms=1000)  # evicts the 1-partition session
    assert bigger and set(cache.sessions) == {large, bigger}
    _fetch(cache, _request(0, epoch=1, session_id=bigger), now_ms=100_000)  # keeps `bigger` fresh
    stale_replacement = _fetch(cache, _request(1), now_ms=121_001)  # `large` unused 121 s
    assert stale_replacement and set(cache.sessions) == {bigger, stale_replacement}
    assert _fetch(FetchSessionCache(max_slots=0), _request(1), now_ms=0) == 0

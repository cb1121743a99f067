"""Incremental fetch sessions (KIP-227) with a real client.

kafka-python implements KIP-227 (its FetchSessionHandler). librdkafka does not: its INTRODUCTION.md
lists "KIP-227 - Consumer Incremental Fetch: Not supported", and it always sends session id 0 with
epoch -1, so a librdkafka consumer can only be checked for full fetches working (every other
compat test does that).
"""

from __future__ import annotations

import time

from kafka import KafkaConsumer
from kafka.structs import TopicPartition

from compat_tests import samples, topics

PARTITIONS = 100
READ_TIMEOUT_S = 20


def _produce_to(bootstrap: str, topic: str, partitions) -> None:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "client.id": "compat-sessions"})
    for p in partitions:
        producer.produce(topic, value=b"v%d" % p, key=b"k", partition=p)
    assert producer.flush(20) == 0


def _consume(consumer: KafkaConsumer, count: int, *, at_least_s: float = 0.0) -> list:
    """Poll until `count` records came (at most 20 s), and for at least `at_least_s`."""
    got = []
    start = time.monotonic()
    while (len(got) < count and time.monotonic() < start + READ_TIMEOUT_S) or time.monotonic() < start + at_least_s:
        for records in consumer.poll(timeout_ms=200).values():
            got.extend(records)
    return got


def test_kafka_python_consumer_of_100_partitions_sends_only_changed_partitions(bootstrap):
    topic = samples.unique_name("compat-sessions")
    topics.create_topic(bootstrap, topic, partitions=PARTITIONS)
    _produce_to(bootstrap, topic, range(PARTITIONS))
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="compat-sessions", enable_auto_commit=False,
                             auto_offset_reset="earliest", fetch_max_wait_ms=100)
    sent = []  # (session id, epoch, partitions in the request) of every Fetch the consumer builds
    offsets = []  # and per Fetch: ({partition: fetch offset} sent, the partitions the session is to hold)
    build = consumer._fetcher._create_fetch_requests

    def recording():
        requests = build()
        for request, fetch_offsets in requests.values():
            sent.append((request.session_id, request.session_epoch,
                         sum(len(t.partitions) for t in request.topics)))
            offsets.append(({p.partition: p.fetch_offset for t in request.topics for p in t.partitions},
                             {tp.partition for tp in fetch_offsets}))
        return requests

    consumer._fetcher._create_fetch_requests = recording
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
        assert len(_consume(consumer, PARTITIONS)) == PARTITIONS
        _consume(consumer, 0, at_least_s=1.0)  # idle polls: the session settles
        assert sent[0] == (0, 0, PARTITIONS)  # the first fetch is full and asks for a session
        settled = len(sent)
        _produce_to(bootstrap, topic, [3, 50, 97])
        changed = _consume(consumer, 3)
        assert sorted(r.partition for r in changed) == [3, 50, 97]
        _consume(consumer, 0, at_least_s=0.5)
        later = sent[settled:]
        session_ids = {session_id for session_id, _, _ in sent[1:]}
        assert len(session_ids) == 1, session_ids  # one session throughout
        epochs = [epoch for _, epoch, _ in sent[1:]]
        assert epochs == list(range(1, len(epochs) + 1))  # each incremental request takes the next epoch
        assert max(count for _, _, count in later) <= 3, later  # only partitions whose offset moved
        assert any(count == 0 for _, _, count in later)  # nothing changed: an empty request
        # each moved offset was sent, and nothing else: a partition is sent again only when its offset
        # moved since it was last sent, or when it comes back to the session. kafka-python leaves out of
        # the next Fetch (forgets) a partition whose fetched data it has not handed out yet, and adds it
        # back after; a loaded machine does that more often (a partition reported with a new high
        # watermark before its records came is forgotten, re-added, then sent at its new offset)
        last_sent = {p: 0 for p in range(PARTITIONS)}
        for p, offset in offsets[0][0].items():
            last_sent[p] = offset
        unjustified, moved = [], set()
        for i, (partitions, _) in enumerate(offsets[1:], start=1):
            for p, offset in partitions.items():
                if p not in offsets[i - 1][1]:
                    pass  # back in the session after being forgotten
                elif offset == last_sent[p]:
                    unjustified.append((sent[i][1], p, offset))
                last_sent[p] = offset
                if i >= settled:
                    moved.add((p, offset))
        assert not unjustified, unjustified  # (epoch, partition, offset) sent though unchanged
        assert {(p, 2) for p in (3, 50, 97)} <= moved, moved  # each moved offset was sent
        assert {p for p, _ in moved} == {3, 50, 97}, moved  # and no other partition
    finally:
        consumer.close()

"""Topics' partition arrays (and Metadata's topic entries) kept encoded between requests.

Metadata and DescribeTopicPartitions answer with every partition's leader, leader epoch, replicas,
ISR and offline replicas: encoding 100,000 of them takes the codec about a second of CPU. What a
partition shows changes rarely, so each handler keeps the bytes it encoded per topic, under a key
of its choosing (the API and the version family: versions whose partition struct encodes the same
share one entry), stamped with what the bytes were built from. A lookup whose stamp differs is a
miss: the caller encodes afresh and stores the new bytes.

Invalidation contract (the stamp, `stamp(broker, topic)`):
- the Topic object: a deleted topic's entries go with it (weak keys); a topic created again under the
  same name is a new object, so nothing of the old one is ever served for it;
- the partition count (CreatePartitions appends to `topic.partitions`);
- the broker's node id and whether it consults replica states (`broker.multi`): a single broker
  shows itself as leader, sole replica and ISR of every partition at the partition's leader epoch,
  and the leader epoch moves only through gateway/cluster.py, which turns `multi` on first;
- with `multi`, `Cluster.shown_version(topic_id)`: the topic's count of replica state changes (leader,
  epoch, ISR, replicas, placement of its partitions: `Cluster._saved`) and the brokers' liveness
  count (stop, start, fence, resume: offline replicas and offline leaders anywhere). Code that changes what a partition shows without
  moving one of these serves stale leaders: clients would produce to the wrong broker.
What depends on the request (authorized operations, the listener's broker addresses, error entries)
is never in a cached part, or is part of the key.

Bounds: at most MAX_KEYS_PER_TOPIC encodings per topic (the least recently used is dropped past it),
each the size of that topic's part of a response; freed with the topic.
"""

from __future__ import annotations

import weakref

MAX_KEYS_PER_TOPIC = 16

_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # Topic -> {key: (stamp, bytes)}


def stamp(broker, topic) -> tuple:
    """What a topic's cached partition bytes depend on besides the key (see the module docstring)."""
    multi = broker.multi
    return (multi, broker.node_id, broker.shown_version(topic.topic_id) if multi else 0, len(topic.partitions))


def lookup(topic, key, current: tuple):
    """The bytes stored for (topic, key) if they were built at `current`, else None."""
    entries = _CACHE.get(topic)
    if entries is None:
        return None
    hit = entries.get(key)
    if hit is None or hit[0] != current:
        return None
    if len(entries) >= MAX_KEYS_PER_TOPIC // 2:  # many keys: the ones in use move to the back (dropped last)
        entries[key] = entries.pop(key)
    return hit[1]


def store(topic, key, built_at: tuple, data: bytes) -> bytes:
    """Keep `data`, built from the state `built_at` (the stamp taken before building: a change while
    building leaves the stored stamp behind, so the next lookup misses)."""
    entries = _CACHE.get(topic)
    if entries is None:
        entries = _CACHE[topic] = {}
    entries.pop(key, None)
    if len(entries) >= MAX_KEYS_PER_TOPIC:
        del entries[next(iter(entries))]
    entries[key] = (built_at, data)
    return data


def clear() -> None:
    """Forget every encoding (tests compare cached answers with fresh ones)."""
    _CACHE.clear()

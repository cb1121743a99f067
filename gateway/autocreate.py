"""Topic auto-creation (auto.create.topics.enable), shared by Metadata and Produce, and its bounds.

Kafka creates only valid names (Topic.validate) and puts every creation through the controller,
where one operation may write at most MAX_RECORDS_PER_USER_OP (10,000) records and a
`controller_mutation_rate` quota can meter partitions created per second (KIP-599). Ottla applies the
same two bounds to what a client can make it create without asking: at most
`MAX_AUTO_CREATED_PARTITIONS_PER_REQUEST` partitions per request, and broker-wide a bucket of
`AUTO_CREATE_BURST` partitions refilled at `AUTO_CREATE_RATE` per second. A topic over either
bound is not created and is answered UNKNOWN_TOPIC_OR_PARTITION, Kafka's answer for a topic whose
creation is still pending: the client retries, and a later request creates it.
"""

from __future__ import annotations

import time
import weakref

from gateway.internal_topics import ensure_internal_topic, is_internal
from wire.errors import ErrorCode, KafkaError

CREATE, TOPIC = 5, 2  # AclOperation.CREATE, ResourceType.TOPIC (gateway.security.acls)

MAX_AUTO_CREATED_PARTITIONS_PER_REQUEST = 10_000  # Kafka's MAX_RECORDS_PER_USER_OP
AUTO_CREATE_BURST = 10_000  # partitions the broker creates for clients at once
AUTO_CREATE_RATE = 1_000.0  # partitions per second, refilling the burst


class PartitionBucket:
    """A token bucket of partitions: `take(n)` is True (and spends n) when n are available."""

    def __init__(self, burst: int = AUTO_CREATE_BURST, rate: float = AUTO_CREATE_RATE, clock=time.monotonic) -> None:
        self.burst, self.rate, self._clock = burst, rate, clock
        self._tokens = float(burst)
        self._at = clock()

    def take(self, n: int) -> bool:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if n > self._tokens:
            return False
        self._tokens -= n
        return True


class RequestBudget:
    """What one request may still auto-create."""

    __slots__ = ("partitions_left",)

    def __init__(self, partitions: int = MAX_AUTO_CREATED_PARTITIONS_PER_REQUEST) -> None:
        self.partitions_left = partitions


_buckets: "weakref.WeakKeyDictionary[object, PartitionBucket]" = weakref.WeakKeyDictionary()


def bucket_for(broker) -> PartitionBucket:
    """The broker's auto-creation bucket (one per broker object)."""
    bucket = _buckets.get(broker)
    if bucket is None:
        bucket = _buckets[broker] = PartitionBucket()
    return bucket


def may_create(ctx, name: str) -> bool:
    """Whether ctx's principal may create the topic (CLUSTER CREATE, else TOPIC CREATE on its name)."""
    return ctx.broker.authorizer is None or ctx.authorize_cluster(CREATE, log=False) or ctx.authorize(CREATE, TOPIC, name)


def get_or_create(ctx, name: str, allowed: bool = True, budget: RequestBudget | None = None):
    """(topic, ErrorCode.NONE), or (None, why): UNKNOWN_TOPIC_OR_PARTITION, or the creation's error."""
    logs = ctx.broker.logs
    topic = logs.get(name)
    if topic is not None:
        return topic, ErrorCode.NONE
    if not (allowed and logs.auto_create_topics):
        return None, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    if not may_create(ctx, name):  # Kafka: CLUSTER CREATE or TOPIC CREATE on the name
        return None, ErrorCode.TOPIC_AUTHORIZATION_FAILED
    if is_internal(name):  # Kafka creates these with their own partition count and configs
        return ensure_internal_topic(ctx.broker, name), ErrorCode.NONE
    partitions = logs.default_partitions
    if budget is not None and budget.partitions_left < partitions:
        return None, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION  # this request has created its share
    try:
        logs.create_topic(name, validate_only=True)  # an invalid name costs no token
    except KafkaError as exc:
        return None, exc.code
    if not bucket_for(ctx.broker).take(partitions):
        ctx.log.info("topic_auto_create_deferred", topic=name, reason="auto-creation rate")
        return None, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    try:
        topic = logs.create_topic(name)
    except KafkaError as exc:
        return None, exc.code
    if budget is not None:
        budget.partitions_left -= len(topic.partitions)
    ctx.log.info("topic_auto_created", topic=name, partitions=len(topic.partitions))
    return topic, ErrorCode.NONE

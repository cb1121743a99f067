"""Drive share-group handlers in-process against a memory broker: requests and responses go through the
codecs (so both must be encodable at the version), time is the wall clock."""

from __future__ import annotations

import asyncio
import uuid

import structlog

from gateway import handlers  # noqa: F401  (fills the registry)
from gateway.broker import Broker
from gateway.config import Config
from gateway.configs import ResourceType
from gateway.registry import HANDLERS, RequestContext
from partitions.memory import MemoryStorage
from wire.codec import decode, encode
from wire.messages import APIS
from wire.records import build_batch

HEARTBEAT, DESCRIBE, SHARE_FETCH, SHARE_ACK = 76, 77, 78, 79
DESCRIBE_OFFSETS, ALTER_OFFSETS, DELETE_OFFSETS = 90, 91, 92
LIST_GROUPS, DESCRIBE_GROUPS, DELETE_GROUPS = 16, 15, 42


def new_broker(storage=None) -> Broker:
    return Broker(Config(memory=True, port=9092), storage or MemoryStorage())


def call(broker: Broker, api_key: int, version: int, body: dict):
    api = APIS[api_key]
    request = decode(api.request, version, encode(api.request, version, body))
    ctx = RequestContext(broker, api_key, version, 1, "share-test", structlog.get_logger("test"), "127.0.0.1:5555")
    response = asyncio.run(HANDLERS[api_key].handler(ctx, request))
    return decode(api.response, version, encode(api.response, version, response))


class Member:
    """A share consumer speaking raw protocol: heartbeat, fetch, acknowledge. `broker` is an in-process
    Broker, or anything with `request(api_key, version, body)` and `topic_id(name)` (a socket client)."""

    def __init__(self, broker, group: str, topics: list[str], member_id: str | None = None) -> None:
        self.broker, self.group, self.topics = broker, group, topics
        self.member_id = str(uuid.uuid4()) if member_id is None else member_id
        self.epoch = 0
        self.session_epoch = 0
        self.assignment = None

    def heartbeat(self, epoch: int | None = None):
        response = self._call(HEARTBEAT, 1, {
            "group_id": self.group, "member_id": self.member_id, "member_epoch": self.epoch if epoch is None else epoch,
            "rack_id": None, "subscribed_topic_names": self.topics if (epoch if epoch is not None else self.epoch) == 0
            else None})
        if response.error_code == 0:
            self.epoch = response.member_epoch
            if response.assignment is not None:
                self.assignment = response.assignment
        return response

    def fetch(self, partitions=None, acks=None, *, version=1, max_records=500, max_wait_ms=0, mode=0,
              renew=False, epoch=None, max_bytes=1 << 20, batch_size=None):
        """partitions: [(topic name, index)] (default: partition 0 of each topic); acks: {(topic, p): [(f, l, [t])]}"""
        partitions = partitions or [(t, 0) for t in self.topics]
        acks = acks or {}
        topics = {}
        for name, index in list(partitions) + [k for k in acks if k not in partitions]:
            topic_id = self._topic_id(name)
            topics.setdefault(topic_id, []).append({
                "partition_index": index, "partition_max_bytes": 0,
                "acknowledgement_batches": [{"first_offset": f, "last_offset": l, "acknowledge_types": t}
                                            for f, l, t in acks.get((name, index), [])]})
        body = {"group_id": self.group, "member_id": self.member_id,
                "share_session_epoch": self.session_epoch if epoch is None else epoch,
                "max_wait_ms": max_wait_ms, "min_bytes": 1, "max_bytes": max_bytes, "max_records": max_records,
                "batch_size": max_records if batch_size is None else batch_size, "share_acquire_mode": mode, "is_renew_ack": renew,
                "topics": [{"topic_id": t, "partitions": ps} for t, ps in topics.items()],
                "forgotten_topics_data": []}
        response = self._call(SHARE_FETCH, version, body)
        if response.error_code == 0:
            self.session_epoch = 1 if body["share_session_epoch"] == 0 else body["share_session_epoch"] + 1
        return response

    def acknowledge(self, acks, *, version=1, renew=False, epoch=None):
        topics = {}
        for (name, index), batches in acks.items():
            topic_id = self._topic_id(name)
            topics.setdefault(topic_id, []).append({"partition_index": index, "acknowledgement_batches": [
                {"first_offset": f, "last_offset": l, "acknowledge_types": t} for f, l, t in batches]})
        body = {"group_id": self.group, "member_id": self.member_id,
                "share_session_epoch": self.session_epoch if epoch is None else epoch, "is_renew_ack": renew,
                "topics": [{"topic_id": t, "partitions": ps} for t, ps in topics.items()]}
        response = self._call(SHARE_ACK, version, body)
        if response.error_code == 0 and body["share_session_epoch"] > 0:
            self.session_epoch = body["share_session_epoch"] + 1
        return response

    def _call(self, api_key: int, version: int, body: dict):
        if isinstance(self.broker, Broker):
            return call(self.broker, api_key, version, body)
        return self.broker.request(api_key, version, body)

    def _topic_id(self, name: str) -> bytes:
        if isinstance(self.broker, Broker):
            return self.broker.logs.get(name).topic_id
        return self.broker.topic_id(name)


def acquired(response) -> list[tuple[int, int, int]]:
    return [(a.first_offset, a.last_offset, a.delivery_count)
            for t in response.responses for p in t.partitions for a in p.acquired_records]


def produce(broker: Broker, topic: str, values: list[bytes], partition: int = 0, now_ms: int = 1000) -> None:
    log = broker.logs.partition(topic, partition)
    log.append(build_batch([(None, v, [], now_ms) for v in values]), now_ms)


def set_group_configs(broker: Broker, group: str, configs: dict[str, str]) -> None:
    """Group configs as IncrementalAlterConfigs on the GROUP resource stores them."""
    current = broker.configs.dynamic(ResourceType.GROUP, group)
    broker.configs.replace(ResourceType.GROUP, group, {**current, **configs})

"""What console pages change, done as Kafka requests to the broker's own handlers.

Each action builds the request a Kafka admin client or producer would send, encodes it and decodes
it with the wire codec (so it is checked as a client's would be), runs the registered handler with a
RequestContext of its own (client id "ottla-console", listener "HTTP") and returns the decoded
response. The console therefore cannot change state in a way a Kafka client could not, and
whatever a handler checks, logs, counts or (later) authorizes applies to it too.
"""

from __future__ import annotations

import random
import time

import structlog

from gateway import registry
from gateway.registry import RequestContext
from wire.codec import decode, encode
from wire.errors import ErrorCode
from wire.records import build_batch
from wire.schema import ZERO_UUID

CLIENT_ID = "ottla-console"
LISTENER = "HTTP"
PRINCIPAL = "User:ANONYMOUS"
TIMEOUT_MS = 30000
TOPIC_RESOURCE = 2  # ConfigResource.Type.TOPIC
SET, DELETE = 0, 1  # IncrementalAlterConfigs operations
log = structlog.get_logger("ottla.console")
_correlation = iter(range(1, 2**31))


class ActionError(Exception):
    """A Kafka error a handler answered: its name (ErrorCode) and message, shown on the page."""

    def __init__(self, code: int, message: str | None = None) -> None:
        self.code = ErrorCode(code)
        super().__init__(f"{self.code.name}: {message}" if message else self.code.name)


async def call(broker, api_key: int, body: dict, version: int | None = None):
    reg = registry.HANDLERS[api_key]
    version = reg.max_version if version is None else version
    api = reg.api
    request = decode(api.request, version, encode(api.request, version, body))
    ctx = RequestContext(broker=broker, api_key=api_key, api_version=version, correlation_id=next(_correlation),
                         client_id=CLIENT_ID, log=log.bind(client_id=CLIENT_ID, api=api.name, api_version=version),
                         peer="console", connection_id="console", principal=PRINCIPAL, listener_name=LISTENER)
    response = await reg.handler(ctx, request)
    return decode(api.response, version, encode(api.response, version, response)) if response is not None else None


def _check(code: int, message: str | None = None) -> None:
    if code != ErrorCode.NONE:
        raise ActionError(code, message)


async def create_topic(broker, name: str, partitions: int = -1, configs: dict[str, str] | None = None) -> None:
    response = await call(broker, 19, {"topics": [{
        "name": name, "num_partitions": partitions, "replication_factor": -1, "assignments": [],
        "configs": [{"name": k, "value": v} for k, v in (configs or {}).items()]}],
        "timeout_ms": TIMEOUT_MS, "validate_only": False})
    result = response.topics[0]
    _check(result.error_code, result.error_message)


async def delete_topic(broker, name: str) -> None:
    response = await call(broker, 20, {"topics": [{"name": name, "topic_id": ZERO_UUID}], "timeout_ms": TIMEOUT_MS})
    result = response.responses[0]
    _check(result.error_code, result.error_message)


async def empty_topic(broker, name: str) -> dict[int, int]:
    """DeleteRecords to the high watermark of every partition: partition -> new log start offset."""
    topic = broker.logs.get(name)
    if topic is None:
        raise ActionError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"Topic '{name}' does not exist.")
    response = await call(broker, 21, {"topics": [{"name": name, "partitions": [
        {"partition_index": i, "offset": -1} for i in range(len(topic.partitions))]}], "timeout_ms": TIMEOUT_MS})
    lows = {}
    for p in response.topics[0].partitions:
        _check(p.error_code, f"partition {p.partition_index}")
        lows[p.partition_index] = p.low_watermark
    return lows


async def alter_topic_configs(broker, name: str, set_configs: dict[str, str], delete: list[str] = ()) -> None:
    configs = [{"name": k, "config_operation": SET, "value": v} for k, v in set_configs.items()]
    configs += [{"name": k, "config_operation": DELETE, "value": None} for k in delete]
    response = await call(broker, 44, {"resources": [{"resource_type": TOPIC_RESOURCE, "resource_name": name,
                                                      "configs": configs}], "validate_only": False})
    result = response.responses[0]
    _check(result.error_code, result.error_message)


def murmur2(data: bytes) -> int:
    """Kafka's Utils.murmur2 (the Java client's default partitioner hashes keys with it)."""
    m, r = 0x5BD1E995, 24
    length = len(data)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    for i in range(0, length - length % 4, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
    tail = length % 4
    base = length - tail
    if tail == 3:
        h ^= data[base + 2] << 16
    if tail >= 2:
        h ^= data[base + 1] << 8
    if tail >= 1:
        h ^= data[base]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def choose_partition(partitions: int, key: bytes | None) -> int:
    """The Java producer's choice: murmur2(key) for a key, any partition without one."""
    if key is None:
        return random.randrange(partitions)
    return (murmur2(key) & 0x7FFFFFFF) % partitions


async def produce(broker, topic: str, value: bytes | None, key: bytes | None = None,
                  headers: list[tuple[str, bytes | None]] = (), partition: int | None = None) -> tuple[int, int]:
    """One record, acks=all: (partition, offset). The topic is auto-created if the broker allows that."""
    t = broker.logs.get(topic)
    if partition is None:
        partition = choose_partition(len(t.partitions), key) if t is not None else 0
    batch = build_batch([(key, value, list(headers), int(time.time() * 1000))])
    response = await call(broker, 0, {"transactional_id": None, "acks": -1, "timeout_ms": TIMEOUT_MS, "topic_data": [
        {"name": topic, "partition_data": [{"index": partition, "records": batch}]}]}, version=9)
    result = response.responses[0].partition_responses[0]
    _check(result.error_code, result.error_message)
    return partition, result.base_offset


async def commit_offsets(broker, group_id: str, offsets: dict[tuple[str, int], int]) -> None:
    """OffsetCommit as an admin client sends it (no generation, no member): Kafka accepts it only while
    the group has no members (UNKNOWN_MEMBER_ID otherwise, as its reset tool says)."""
    topics: dict[str, list] = {}
    for (topic, partition), offset in sorted(offsets.items()):
        topics.setdefault(topic, []).append({"partition_index": partition, "committed_offset": offset,
                                             "committed_leader_epoch": -1, "committed_metadata": ""})
    response = await call(broker, 8, {"group_id": group_id, "generation_id_or_member_epoch": -1, "member_id": "",
                                      "group_instance_id": None,
                                      "topics": [{"name": t, "partitions": ps} for t, ps in topics.items()]}, version=9)
    for t in response.topics:
        for p in t.partitions:
            _check(p.error_code, f"{t.name}-{p.partition_index}")


def reset_targets(broker, group_id: str, topic: str, to: str, value: int | None = None,
                  partitions: list[int] | None = None) -> dict[tuple[str, int], int]:
    """Kafka's kafka-consumer-groups --reset-offsets choices: earliest, latest, offset N, timestamp T
    (ms), shift-by N (from the committed offset), each clamped to the partition's log."""
    t = broker.logs.get(topic)
    if t is None:
        raise ActionError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"Topic '{topic}' does not exist.")
    targets = {}
    for index in (partitions if partitions else range(len(t.partitions))):
        log = t.partition(index)
        if log is None:
            raise ActionError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"{topic}-{index}")
        low, high = log.log_start_offset, log.high_watermark
        if to == "earliest":
            target = low
        elif to == "latest":
            target = high
        elif to == "offset":
            target = value
        elif to == "timestamp":
            found = log.offset_for_timestamp(value)
            target = found[0] if found is not None else high
        elif to == "shift-by":
            committed = broker.groups.offsets.get(group_id, topic, index)
            target = (committed.committed_offset if committed is not None else high) + value
        else:
            raise ValueError(f"unknown reset: {to}")
        targets[(topic, index)] = min(max(target, low), high)
    return targets


async def delete_offsets(broker, group_id: str, topic: str, partitions: list[int]) -> None:
    response = await call(broker, 47, {"group_id": group_id, "topics": [
        {"name": topic, "partitions": [{"partition_index": p} for p in partitions]}]})
    _check(response.error_code)
    for t in response.topics:
        for p in t.partitions:
            _check(p.error_code, f"{t.name}-{p.partition_index}")


async def delete_group(broker, group_id: str) -> None:
    response = await call(broker, 42, {"groups_names": [group_id]})
    _check(response.results[0].error_code)

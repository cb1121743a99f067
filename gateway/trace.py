"""The protocol trace (`ottla serve --trace FILE`): one JSON line per request and its answer.

A line (every key always present, null where it does not apply):

    {"time": "2026-12-01T13:00:00.123Z", "connection": "<Kafka's connection id>", "peer": "host:port",
     "listener": "PLAINTEXT", "principal": "User:ANONYMOUS", "client_id": "rdkafka",
     "client_software_name": "librdkafka", "client_software_version": "2.16.0",
     "api": "Produce", "api_key": 0, "version": 10, "correlation_id": 7,
     "request": {"topics": {"t": [0, 1]}, "groups": [], "transactional_id": null, ...features},
     "errors": {"NOT_LEADER_OR_FOLLOWER": 1}, "error_messages": {...}, "refused": null,
     "bytes_in": 1234, "bytes_out": 56, "latency_ms": 0.412}

`request` is a summary, never the records: topics with the partitions named, group ids, the
transactional id, and what the request shows of the client's features (`features`: idempotence,
transactions; `codecs` of the produced batches; `isolation_level`; `fetch_session`; `group_protocol`:
classic, consumer or share; `assignors`; `sasl_mechanism`). `errors` counts every non-zero error code
the response carries, by Kafka's name. `refused` says why Ottla did not serve a request at all (an
API or version it does not have, a body that does not decode, a handler failure): the connection was
closed, as Kafka closes it. gateway/report.py builds the compatibility report from these lines, so the
live report (GET /v1/clients) and `ottla report --trace FILE` agree.

Bounded: once the file would pass `max_bytes` it is renamed FILE.1 (replacing an older FILE.1) and a new
FILE begins, so the trace takes at most twice max_bytes on disk. Lines are buffered and written at
least every FLUSH_S seconds and at shutdown: a kill -9 loses the last second of the trace.
"""

from __future__ import annotations

import json
import os
import time

from gateway.faults.requests import request_facts
from wire.errors import ErrorCode
from wire.records import split_batches

FLUSH_S = 1.0
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
CODECS = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}
ISOLATION = {0: "read_uncommitted", 1: "read_committed"}
_KEY_PRODUCE, _KEY_FETCH, _KEY_LIST_OFFSETS, _KEY_JOIN_GROUP, _KEY_SASL_HANDSHAKE = 0, 1, 2, 11, 17
_KEY_INIT_PRODUCER_ID, _KEY_ADD_OFFSETS, _KEY_TXN_OFFSET_COMMIT = 22, 25, 28
_KEY_CONSUMER_HEARTBEAT, _KEY_TELEMETRY_GET, _KEY_TELEMETRY_PUSH = 68, 71, 72
_SHARE_KEYS = {76, 77, 78, 79}  # ShareGroupHeartbeat, ShareGroupDescribe, ShareFetch, ShareAcknowledge
_CLASSIC_GROUP_KEYS = {11, 12, 13, 14}  # JoinGroup, Heartbeat, LeaveGroup, SyncGroup
_TRANSACTION_KEYS = {24, 25, 26, 28}  # AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit
_FAST_TOPICS = {_KEY_PRODUCE: ("topic_data", "partition_data", "index"),  # (topics array, partitions, index)
                _KEY_FETCH: ("topics", "partitions", "partition")}
MAX_MESSAGE = 300  # characters of an error message kept


def error_name(code: int) -> str:
    try:
        return ErrorCode(code).name
    except ValueError:
        return f"ERROR_{code}"


def summarize(api, version: int, request, topic_name) -> dict:
    """The request summary of a trace line (see the module docstring). `topic_name(topic_id) -> name | None`."""
    key = api.key
    if key in _FAST_TOPICS:  # the busy APIs, read directly (the generic walk costs tens of us)
        topics: dict = {}
        array, partitions, index = _FAST_TOPICS[key]
        for topic in request.get(array) or ():
            name = topic.get("name") or topic.get("topic")
            if not name and topic.get("topic_id") is not None:
                name = topic_name(bytes(topic["topic_id"])) or str(topic["topic_id"])
            topics.setdefault(name, set()).update(p.get(index) for p in topic.get(partitions) or ())
        summary: dict = {"topics": {name: sorted(parts) for name, parts in topics.items()}, "groups": []}
    else:
        facts = request_facts(api.request, version, request, api_key=key, broker=0, client_id=None,
                              topic_name=topic_name)
        summary = {"topics": {name: sorted(parts) if parts is not None else None
                              for name, parts in facts.topics.items()}, "groups": sorted(facts.groups)}
    summary["transactional_id"] = _transactional_id(request)
    features: set[str] = set()
    if summary["transactional_id"] or key in _TRANSACTION_KEYS:
        features.add("transactions")
    if key == _KEY_PRODUCE:
        codecs: set[str] = set()
        for topic in request.get("topic_data") or ():
            for partition in topic.get("partition_data") or ():
                _batches(partition.get("records"), codecs, features)
        summary["codecs"] = sorted(codecs)
        summary["acks"] = request.get("acks")
    elif key == _KEY_FETCH:
        summary["isolation_level"] = ISOLATION.get(request.get("isolation_level", 0))
        epoch = request.get("session_epoch", -1)
        summary["fetch_session"] = epoch is not None and epoch >= 0
        if request.get("rack_id"):
            features.add("rack-aware fetch (KIP-392)")
    elif key == _KEY_LIST_OFFSETS and version >= 2:
        summary["isolation_level"] = ISOLATION.get(request.get("isolation_level", 0))
    elif key == _KEY_INIT_PRODUCER_ID:
        features.add("idempotence")
    elif key == _KEY_SASL_HANDSHAKE:
        summary["sasl_mechanism"] = request.get("mechanism")
    elif key in (_KEY_TELEMETRY_GET, _KEY_TELEMETRY_PUSH):
        features.add("client telemetry (KIP-714)")
    if key in (_KEY_ADD_OFFSETS, _KEY_TXN_OFFSET_COMMIT):
        features.add("offsets in transactions")
    if key in _CLASSIC_GROUP_KEYS:
        summary["group_protocol"] = "classic"
        if key == _KEY_JOIN_GROUP:
            summary["assignors"] = [p.get("name") for p in request.get("protocols") or ()]
            summary["protocol_type"] = request.get("protocol_type")
    elif key == _KEY_CONSUMER_HEARTBEAT:
        summary["group_protocol"] = "consumer"
        if request.get("server_assignor"):
            summary["assignors"] = [request.get("server_assignor")]
    elif key in _SHARE_KEYS:
        summary["group_protocol"] = "share"
    summary["features"] = sorted(features)
    return summary


def _transactional_id(request) -> str | None:
    for name in ("transactional_id", "v3_and_below_transactional_id"):
        value = request.get(name)
        if value:
            return value
    transactions = request.get("transactions")  # AddPartitionsToTxn v4+: broker to broker
    if transactions:
        return transactions[0].get("transactional_id")
    return None


def _batches(records, codecs: set[str], features: set[str]) -> None:
    if not records:
        return
    try:
        batches = split_batches(records)
    except Exception:  # the handler answers CORRUPT_MESSAGE; the summary just says nothing of it
        return
    for _, header in batches:
        codecs.add(CODECS.get(header.compression, str(header.compression)))
        if header.producer_id >= 0:
            features.add("idempotence")
        if header.is_transactional:
            features.add("transactions")


def answered_errors(response) -> tuple[dict[str, int], dict[str, str]]:
    """Every non-zero error code in a response (any field named error_code or ending in _error_code, at any
    depth), counted by name, and the first error message seen with each."""
    counts: dict[str, int] = {}
    messages: dict[str, str] = {}
    _walk(response, counts, messages)
    return counts, messages


def _walk(value, counts: dict[str, int], messages: dict[str, str]) -> None:
    if isinstance(value, dict):  # (dict: handlers answer dicts; the codec's Container is one too)
        code = None
        for key, item in value.items():
            if isinstance(item, int):
                if item and (key == "error_code" or key.endswith("_error_code")):
                    name = error_name(item)
                    counts[name] = counts.get(name, 0) + 1
                    code = name
            elif isinstance(item, (dict, list)):
                _walk(item, counts, messages)
        if code is not None and code not in messages:
            message = value.get("error_message")
            if message:
                messages[code] = str(message)[:MAX_MESSAGE]
    elif value and isinstance(value[0], (dict, list)):
        for item in value:
            _walk(item, counts, messages)


def timestamp(epoch_s: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_s)) + f".{int(epoch_s * 1000) % 1000:03d}Z"


class TraceWriter:
    """Appends trace lines to `path`, rotating to `path`.1 past max_bytes; buffered, flushed every FLUSH_S."""

    def __init__(self, path: str, max_bytes: int = DEFAULT_MAX_BYTES, loop=None) -> None:
        if max_bytes < 1024:
            raise ValueError(f"--trace-max-bytes must be at least 1024, not {max_bytes}")
        self.path = path
        self.max_bytes = max_bytes
        self.lines = 0
        self.rotations = 0
        self._loop = loop
        self._file = open(path, "a", encoding="utf-8", buffering=1 << 20)
        self._size = self._file.tell()
        self._flush_armed = False

    def write(self, record: dict) -> None:
        line = json.dumps(record, separators=(",", ":"), default=str) + "\n"
        size = len(line.encode("utf-8")) if not line.isascii() else len(line)
        if self._size and self._size + size > self.max_bytes:
            self._rotate()
        self._file.write(line)
        self._size += size
        self.lines += 1
        if self._loop is not None and not self._flush_armed:
            self._flush_armed = True
            self._loop.call_later(FLUSH_S, self._timed_flush)

    def _rotate(self) -> None:
        self._file.close()
        os.replace(self.path, self.path + ".1")
        self._file = open(self.path, "w", encoding="utf-8", buffering=1 << 20)
        self._size = 0
        self.rotations += 1

    def _timed_flush(self) -> None:
        self._flush_armed = False
        if not self._file.closed:
            self._file.flush()

    def flush(self) -> None:
        if not self._file.closed:
            self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

"""Client telemetry (KIP-714): which metrics each client instance is asked to push, and its latest push.

Kafka's ClientMetricsManager: a client asks for its subscription (GetTelemetrySubscriptions), gets the
union of the metrics of every CLIENT_METRICS subscription whose `match` patterns fit it and the shortest
of their intervals, then pushes (PushTelemetry) with that subscription id. Ottla keeps each client's
latest push (`latest(client_instance_id)`) instead of handing it to a metrics plugin. At most 16,384
client instances (Kafka's cache size) and 64 MiB of pushed metrics are kept; the least recently seen
client is forgotten (or loses its kept push) first.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

from wire.crc import crc32c

from gateway.configs.group_defs import DEFAULT_INTERVAL_MS, parse_match
from wire.errors import ErrorCode, KafkaError

MAX_CLIENTS = 16384
MAX_KEPT_BYTES = 64 * 1024 * 1024  # the latest pushes kept in all; the least recently seen go first
SUPPORTED_COMPRESSION = [4, 3, 1, 2]  # zstd, lz4, gzip, snappy: Kafka's order
ALL_METRICS = "*"


@dataclass
class Push:
    """One PushTelemetry request as received."""

    received_ms: int
    compression_type: int
    metrics: bytes
    terminating: bool


@dataclass
class ClientInstance:
    """A client that asked for telemetry subscriptions (KIP-714)."""

    instance_id: bytes
    attributes: dict[str, str]
    subscription_id: int = 0
    metrics: list[str] = field(default_factory=list)
    push_interval_ms: int = DEFAULT_INTERVAL_MS
    version: int = -1
    last_get_ms: int = -(2**62)
    last_push_ms: int = -(2**62)
    terminating: bool = False
    last_error: ErrorCode = ErrorCode.NONE
    latest: Push | None = None


class Telemetry:
    def __init__(self, configs) -> None:
        self._configs = configs  # gateway.configs.DynamicConfigs: the CLIENT_METRICS subscriptions
        self.clients: OrderedDict[bytes, ClientInstance] = OrderedDict()
        self.kept_bytes = 0
        self.software: OrderedDict[str, tuple[str, str]] = OrderedDict()  # connection id -> (name, version)
        self.version = 0
        configs.listeners.append(self._on_config_change)

    def _on_config_change(self, resource_type: int, name: str) -> None:
        if resource_type == 16:  # CLIENT_METRICS: every client re-evaluates on its next request
            self.version += 1

    def note_software(self, connection_id: str, name: str, version: str) -> None:
        """What ApiVersions v3+ said the connection's client is (bounded: the oldest is forgotten first)."""
        self.software[connection_id] = (name, version)
        self.software.move_to_end(connection_id)
        while len(self.software) > MAX_CLIENTS:
            self.software.popitem(last=False)

    def latest(self, instance_id: bytes) -> Push | None:
        client = self.clients.get(instance_id)
        return client.latest if client is not None else None

    def _instance(self, instance_id: bytes, client_id: str | None, peer: str,
                  connection_id: str = "") -> ClientInstance:
        client = self.clients.get(instance_id)
        if client is None:
            host, _, port = peer.rpartition(":")
            attributes = {"client_instance_id": str(uuid.UUID(bytes=instance_id)), "client_id": client_id or "",
                          "client_source_address": host, "client_source_port": port}
            software = self.software.get(connection_id)
            if software is not None:
                attributes["client_software_name"], attributes["client_software_version"] = software
            client = ClientInstance(instance_id, attributes)
            self.clients[instance_id] = client
            while len(self.clients) > MAX_CLIENTS:
                _, gone = self.clients.popitem(last=False)
                self._forget_push(gone)
        self.clients.move_to_end(instance_id)
        if client.version != self.version:
            self._subscribe(client)
        return client

    def _subscribe(self, client: ClientInstance) -> None:
        metrics: set[str] = set()
        interval = DEFAULT_INTERVAL_MS
        for subscription in self._configs.client_metrics().values():
            patterns = parse_match(subscription["match"])
            if all(name in client.attributes and p.fullmatch(client.attributes[name]) for name, p in patterns.items()):
                metrics.update(subscription["metrics"])
                interval = min(interval, subscription["interval.ms"])
        if ALL_METRICS in metrics:
            metrics = {ALL_METRICS}
        client.metrics = sorted(metrics)
        client.push_interval_ms = interval
        digest = crc32c(f"{client.metrics}{interval}".encode())
        subscription_id = digest ^ (int.from_bytes(client.instance_id[:4], "big"))
        client.subscription_id = subscription_id - 2**32 if subscription_id >= 2**31 else subscription_id
        client.version = self.version

    def get_subscriptions(self, instance_id: bytes, client_id: str | None, peer: str, now_ms: int,
                          max_bytes: int, connection_id: str = "") -> dict:
        if instance_id == bytes(16):
            instance_id = uuid.uuid4().bytes
            while instance_id in self.clients:
                instance_id = uuid.uuid4().bytes
        client = self._instance(instance_id, client_id, peer, connection_id)
        answer = {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "client_instance_id": instance_id,
                  "subscription_id": client.subscription_id, "accepted_compression_types": SUPPORTED_COMPRESSION,
                  "push_interval_ms": client.push_interval_ms, "telemetry_max_bytes": max_bytes,
                  "delta_temporality": True, "requested_metrics": client.metrics}
        since = now_ms - max(client.last_get_ms, client.last_push_ms)
        if since < client.push_interval_ms and client.last_error not in (ErrorCode.UNKNOWN_SUBSCRIPTION_ID,
                                                                         ErrorCode.UNSUPPORTED_COMPRESSION_TYPE):
            return {"throttle_time_ms": 0, "error_code": ErrorCode.THROTTLING_QUOTA_EXCEEDED,
                    "client_instance_id": bytes(16), "subscription_id": 0, "accepted_compression_types": [],
                    "push_interval_ms": 0, "telemetry_max_bytes": 0, "delta_temporality": False,
                    "requested_metrics": []}
        client.last_get_ms = now_ms
        client.last_error = ErrorCode.NONE
        return answer

    def push(self, request, client_id: str | None, peer: str, now_ms: int, max_bytes: int) -> ErrorCode:
        instance_id = request.client_instance_id
        if instance_id == bytes(16):
            raise KafkaError(ErrorCode.INVALID_REQUEST, "Invalid request from the client, invalid client instance id")
        client = self._instance(instance_id, client_id, peer)
        try:
            self._check_push(client, request, now_ms, max_bytes)
        except KafkaError as exc:
            client.last_error = exc.code
            raise
        finally:
            client.terminating = client.terminating or request.terminating
        if request.metrics:
            self._forget_push(client)
            client.latest = Push(now_ms, request.compression_type, bytes(request.metrics), request.terminating)
            self.kept_bytes += len(client.latest.metrics)
            for other in list(self.clients.values()):
                if self.kept_bytes <= MAX_KEPT_BYTES or other is client:
                    break
                self._forget_push(other)
        client.last_error = ErrorCode.NONE
        return ErrorCode.NONE

    def _forget_push(self, client: ClientInstance) -> None:
        if client.latest is not None:
            self.kept_bytes -= len(client.latest.metrics)
            client.latest = None

    @staticmethod
    def _check_push(client: ClientInstance, request, now_ms: int, max_bytes: int) -> None:
        if client.terminating:
            raise KafkaError(ErrorCode.INVALID_REQUEST, "Client sent the previous request with state terminating "
                                                        "to TRUE, can not accept any requests after that")
        early = client.last_get_ms <= client.last_push_ms and now_ms - client.last_push_ms < client.push_interval_ms
        if early and not request.terminating:
            raise KafkaError(ErrorCode.THROTTLING_QUOTA_EXCEEDED, "Request arrived before the next push interval time")
        client.last_push_ms = now_ms
        if request.subscription_id != client.subscription_id:
            raise KafkaError(ErrorCode.UNKNOWN_SUBSCRIPTION_ID, "Unknown client subscription id")
        if request.compression_type not in (0, 1, 2, 3, 4):
            raise KafkaError(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
                             f"Unknown compression type [{request.compression_type}] is received in telemetry request")
        if request.metrics is not None and len(request.metrics) > max_bytes:
            raise KafkaError(ErrorCode.TELEMETRY_TOO_LARGE,
                             f"Telemetry request is larger than the maximum allowed size [{max_bytes}]")

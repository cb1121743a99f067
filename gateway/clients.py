"""The registry of live client connections, and the observer that traces requests and builds the report.

`broker.clients` (a ClientRegistry) always knows the live connections: id, peer, listener, principal,
connected_at, the software ApiVersions v3+ named (KIP-511, noted by its handler in broker.telemetry)
and the client's KIP-714 instance (noted by the telemetry handlers). Two levels above that:

- counting (`count()`: the HTTP server, for the console and GET /v1/clients): the pipeline adds the
  client id, the request count and the APIs and versions used to the connection's entry: a dict
  increment a request, no handler wrapping.
- observing (`observe()`: `--trace FILE` or `--client-report`; implies counting): an Observer sees every
  request after its response is encoded (the handler is wrapped to keep request and response), writes the
  trace line (gateway/trace.py) and feeds the compatibility report (gateway/report.py). ~20-30 us a request.

With neither, the pipeline's per-request cost is two attribute reads (`counting`, `observer`).

Bounded: one entry per live connection (the broker bounds those: max.connections), removed when it
closes; the report's bounds are gateway/report.py's, the trace's gateway/trace.py's.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, replace

import structlog

from wire.messages import APIS

log = structlog.get_logger("ottla.clients")

_NO_INSTANCE = bytes(16)
_REASONS = {  # the pipeline's exceptions (by name: they are its private classes) -> why it refused
    "_BadRequest": "the request body does not decode; connection closed",
    "_EncodeFailed": "Ottla could not encode its response (its bug); connection closed",
    "DropConnection": "an injected fault dropped the connection (gateway/faults)",
    "CloseConnection": "Produce acks=0 failed (no response to carry the error); connection closed, as Kafka does",
}


@dataclass
class ClientConnection:
    """A client connection as the compatibility report and /v1/clients see it."""

    connection_id: str
    peer: str
    listener: str
    connected_at_ms: int
    client_id: str | None = None
    used: dict[tuple[int, int], int] = field(default_factory=dict)  # (api key, version) -> requests, while counting
    telemetry_instance: bytes | None = None  # KIP-714 client instance id, once it asked for a subscription
    pipeline: object = None  # the RequestPipeline: its principal is read when the entry is shown


class Observation:
    """One observed request: what the pipeline and the wrapped handler hand the observer."""

    __slots__ = ("started", "bytes_in", "request", "response")

    def __init__(self, started: float, bytes_in: int) -> None:
        self.started = started
        self.bytes_in = bytes_in
        self.request = None
        self.response = None


class ClientRegistry:
    def __init__(self, broker) -> None:
        self._broker = broker
        self.live: dict[str, ClientConnection] = {}
        self.observer: Observer | None = None
        self.counting = False  # the pipeline counts requests per connection (ClientConnection.used)

    def opened(self, pipeline) -> ClientConnection:
        entry = self.live[pipeline.connection_id] = ClientConnection(
            pipeline.connection_id, pipeline.peer, pipeline.listener_name, int(time.time() * 1000), pipeline=pipeline)
        return entry

    def count(self) -> None:
        """Count every connection's requests, client id and APIs and versions used (idempotent)."""
        self.counting = True

    def note_telemetry(self, connection_id: str, instance_id: bytes) -> None:
        """The KIP-714 client instance a connection asked a subscription for or pushed as."""
        entry = self.live.get(connection_id)
        if entry is not None and instance_id and bytes(instance_id) != _NO_INSTANCE:
            entry.telemetry_instance = bytes(instance_id)

    def closed(self, pipeline) -> None:
        entry = self.live.pop(pipeline.connection_id, None)
        if entry is not None:  # the pipeline keeps its entry: no cycle may keep a closed one's buffers alive
            entry.pipeline = None

    def observe(self, trace_path: str | None = None, trace_max_bytes: int | None = None, loop=None) -> Observer:
        """Start observing every request (idempotent): the compatibility report, and with trace_path the trace."""
        self.counting = True
        if self.observer is None:
            from gateway.report import Compatibility  # the trace and the report: imported when observing starts
            from gateway.trace import DEFAULT_MAX_BYTES, TraceWriter

            trace = TraceWriter(trace_path, trace_max_bytes or DEFAULT_MAX_BYTES, loop) if trace_path else None
            self.observer = Observer(self, self._broker, trace, Compatibility())
        return self.observer

    def close(self) -> None:
        if self.observer is not None and self.observer.trace is not None:
            self.observer.trace.close()

    def entries(self) -> list[dict]:
        """The live connections, as the console and GET /v1/clients show them."""
        software = self._broker.telemetry.software
        telemetry = self._broker.telemetry.clients
        out = []
        for entry in list(self.live.values()):
            name, version = software.get(entry.connection_id, (None, None))
            pipeline = entry.pipeline
            apis: dict[str, set[int]] = {}
            for (api_key, version_used) in list(entry.used):
                api = APIS.get(api_key)
                apis.setdefault(api.name if api is not None else f"key {api_key}", set()).add(version_used)
            out.append({
                "connection_id": entry.connection_id, "peer": entry.peer, "listener": entry.listener,
                "principal": getattr(pipeline, "principal", None), "client_id": entry.client_id,
                "software_name": name, "software_version": version,
                "connected_at": _iso(entry.connected_at_ms / 1000), "requests": sum(entry.used.values()),
                "apis": {api: sorted(versions) for api, versions in sorted(apis.items())},
                "telemetry": _telemetry(telemetry.get(entry.telemetry_instance)) if entry.telemetry_instance
                else None,
            })
        return sorted(out, key=lambda e: e["connection_id"])

    def report(self) -> dict | None:
        """The compatibility report of everything observed since start-up (None when not observing)."""
        return self.observer.compat.report() if self.observer is not None else None

    @property
    def report_enabled(self) -> bool:
        return self.observer is not None


REPORT_OFF = ("the compatibility report is off: this broker builds it only when started with "
              "`ottla serve --client-report` (with --http-port) or `--trace FILE`")


class _NoRegistry:
    """What a pipeline uses when its broker has no registry (tests' stand-in brokers)."""

    observer = None
    counting = False

    def opened(self, pipeline) -> None:
        return None

    def closed(self, pipeline) -> None:
        pass


NO_REGISTRY = _NoRegistry()


def registry_of(broker) -> ClientRegistry | _NoRegistry:
    return getattr(broker, "clients", None) or NO_REGISTRY


class Observer:
    def __init__(self, registry: ClientRegistry, broker, trace, compat) -> None:
        self._registry = registry
        self._broker = broker
        self.trace = trace
        self.compat = compat
        self._failed = False

    def begin(self, reg, bytes_in: int):
        """(reg with its handler wrapped to keep the decoded request and the response, the Observation)."""
        observation = Observation(time.perf_counter(), bytes_in)  # (uvloop's loop.time() counts whole ms)
        handler = reg.handler

        async def observed(ctx, request):
            observation.request = request
            observation.response = response = await handler(ctx, request)
            return response

        return replace(reg, handler=observed), observation

    def finish(self, pipeline, ctx, observation: Observation, bytes_out: int,
               exc: BaseException | None = None) -> None:
        now = time.perf_counter()
        refused = None
        if exc is not None:
            refused = _REASONS.get(type(exc).__name__, "the handler failed (Ottla's bug); connection closed")
            if str(exc):
                refused += f": {str(exc)[:200]}"
        try:
            self._record(pipeline, ctx.api_key, ctx.api_version, ctx.correlation_id, ctx.client_id,
                         observation.request, observation.response, observation.bytes_in, bytes_out,
                         (now - observation.started) * 1000, refused)
        except Exception as exc:  # the trace must never cost a client its answer
            self._failed_once(exc, api_key=ctx.api_key)

    def refused(self, pipeline, header, reason: str, bytes_in: int) -> None:
        """A request answered without a handler, or refused before one ran (the connection is closed)."""
        try:
            self._record(pipeline, header.api_key, header.api_version, header.correlation_id, header.client_id,
                         None, None, bytes_in, 0, 0.0, reason)
        except Exception as exc:
            self._failed_once(exc, api_key=header.api_key)

    def answered(self, pipeline, header, errors: dict[str, int], bytes_in: int, bytes_out: int) -> None:
        """A request the pipeline answered itself (ApiVersions newer than ours: UNSUPPORTED_VERSION)."""
        try:
            self._record(pipeline, header.api_key, header.api_version, header.correlation_id, header.client_id,
                         None, None, bytes_in, bytes_out, 0.0, None, errors)
        except Exception as exc:
            self._failed_once(exc, api_key=header.api_key)

    def _record(self, pipeline, api_key, version, correlation_id, client_id, request, response, bytes_in,
                bytes_out, latency_ms, refused, errors=None) -> None:
        from gateway.trace import answered_errors, summarize, timestamp  # (loaded by observe())

        api = APIS.get(api_key)
        summary = summarize(api, version, request, self._topic_name) if request is not None else None
        messages: dict[str, str] = {}
        if response is not None:
            errors, messages = answered_errors(response)
        connection_id = pipeline.connection_id
        name, software_version = self._broker.telemetry.software.get(connection_id, (None, None))
        line = {
            "time": timestamp(time.time()), "connection": connection_id, "peer": pipeline.peer,
            "listener": pipeline.listener_name, "principal": pipeline.principal, "client_id": client_id,
            "client_software_name": name, "client_software_version": software_version,
            "api": api.name if api is not None else None, "api_key": api_key, "version": version,
            "correlation_id": correlation_id, "request": summary, "errors": errors or {},
            "error_messages": messages, "refused": refused, "bytes_in": bytes_in, "bytes_out": bytes_out,
            "latency_ms": round(latency_ms, 3),
        }
        self.compat.add(line)  # (the connection's entry is counted by the pipeline: ClientRegistry.counting)
        if self.trace is not None:
            self.trace.write(line)

    def _topic_name(self, topic_id: bytes) -> str | None:
        topic = self._broker.logs.get_by_id(bytes(topic_id))
        return topic.name if topic is not None else None

    def _failed_once(self, exc: Exception, **fields) -> None:
        if not self._failed:
            self._failed = True
            log.error("trace_record_failed", error=repr(exc), exc_info=exc, **fields)


def _iso(epoch_s: float) -> str:
    from gateway.trace import timestamp

    return timestamp(epoch_s)


def _telemetry(client) -> dict | None:
    """The client's KIP-714 instance: its subscription and its latest push, with the metric names in it."""
    if client is None:
        return None
    latest = client.latest
    return {"client_instance_id": str(uuid.UUID(bytes=client.instance_id)), "subscribed": list(client.metrics),
            "push_interval_ms": client.push_interval_ms,
            "last_push": _iso(latest.received_ms / 1000) if latest is not None else None,
            "last_push_bytes": len(latest.metrics) if latest is not None else 0,
            "last_push_compression": latest.compression_type if latest is not None else None,
            "terminating": client.terminating,
            "metrics": pushed_metric_names(latest.compression_type, latest.metrics) if latest is not None else []}


MAX_METRIC_NAMES = 500
MAX_PUSH_BYTES = 16 * 1024 * 1024  # a push's metrics, decompressed, at the most (the rest is not read)


def pushed_metric_names(compression_type: int, data: bytes) -> list[str]:
    """The metric names in a PushTelemetry payload: OTLP MetricsData (protobuf; resource_metrics = 1 ->
    scope_metrics = 2 -> metrics = 2 -> name = 1), compressed as its compression_type says. At most
    MAX_METRIC_NAMES, sorted; ["(undecodable: ...)"] when it is not that."""
    try:
        if compression_type:
            from wire.record_codec import decompress_bounded

            data = bytes(decompress_bounded(compression_type, data, MAX_PUSH_BYTES))
        names: set[str] = set()
        for resource in _submessages(data, 1):
            for scope in _submessages(resource, 2):
                for metric in _submessages(scope, 2):
                    for name in _submessages(metric, 1):
                        if len(names) < MAX_METRIC_NAMES:
                            names.add(bytes(name).decode("utf-8", "replace"))
        return sorted(names)
    except Exception as exc:  # a client's bytes: say so, never fail the page
        return [f"(undecodable: {str(exc)[:100]})"]


def _submessages(buf, wanted: int):
    """The length-delimited fields numbered `wanted` of one protobuf message."""
    view, pos, end = memoryview(buf), 0, len(buf)
    while pos < end:
        key, pos = _varint(view, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            _, pos = _varint(view, pos)
        elif wire_type == 1:
            pos += 8
        elif wire_type == 5:
            pos += 4
        elif wire_type == 2:
            size, pos = _varint(view, pos)
            if pos + size > end:
                raise ValueError("a field runs past the message")
            if number == wanted:
                yield view[pos:pos + size]
            pos += size
        else:
            raise ValueError(f"wire type {wire_type}")


def _varint(view, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(view) or shift > 63:
            raise ValueError("a truncated varint")
        byte = view[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7

"""One connection's request pipeline, with no socket in it: bytes in, responses out in request order.

    bytes -> frame (reserving its declared size in the broker's MemoryPool before its payload is read)
          -> request header -> principal (authentication hook) -> authorization hook -> decode
          -> handler task -> encode -> responses in request order -> transport.writelines

`gateway.connection` is the asyncio.Protocol adapter that feeds it; tests drive it with a fake
transport (anything with writelines, get_write_buffer_size, pause_reading, resume_reading, close).

Concurrency and back-pressure (Kafka answers one request per connection at a time and mutes the
connection until the response is sent; Ottla runs a connection's requests concurrently, so that a
long-polling Fetch does not hold up a Produce behind it, and bounds what that may hold instead):
- Requests are dispatched one at a time, in order: a handler's first step runs at once, inside the
  dispatch (most handlers finish in it: no task, no loop turn); one that suspends (a long-poll
  Fetch, a JoinGroup) goes on as a task and counts as waiting. So the response bytes a dispatch adds
  are known before the next one is started. At most TURN_REQUESTS requests or TURN_BYTES of them
  (at least one) are dispatched per loop turn, then the connection yields to the others; the
  responses a turn finishes go out in one write.
- At most one waiting request per API key: a second Fetch behind a waiting Fetch waits for it (what
  Kafka does for every request), so unread Fetch responses cannot pile up.
- Dispatch and reading stop while the unsent response bytes (queued behind an earlier response, or
  in the transport's buffer) exceed `max_unsent_bytes`, while `max_in_flight` requests are
  unanswered, while a whole request is buffered that cannot be dispatched yet, and while the
  broker-wide pool has no budget for the next request.
Bound per connection: max_unsent_bytes + the responses of its running requests (one finishing, one
waiting per API key) + one read chunk beyond the frame being read; broker-wide see MemoryPool.

Timeouts: a connection with nothing in flight and no bytes in or out for `idle_timeout_s` is closed
(Kafka's connections.max.idle.ms); a request whose bytes do not all arrive within
`receive_timeout_s` of its first byte, counting only time we were reading, closes the connection,
so a stalled half-sent request does not hold its reservation forever; and while other connections
wait for the pool, a half-sent request that has received nothing for `stall_timeout_s` is closed
at once, so a few stalled senders cannot hold everyone's reading up for the whole receive timeout.
"""

from __future__ import annotations

import asyncio
import collections
import types
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from gateway import receive_window, registry
from gateway.clients import registry_of
from gateway.faults.serve import DropConnection, faulted, faults_of
from gateway.frame_buffer import FrameBuffer
from gateway.memory_pool import MemoryPool
from gateway.registry import CloseConnection, RequestContext
from gateway.quota_enforcement.throttle import FETCH_KEY, Timed, record_fetch, record_request, wants_timing, \
    without_data
from gateway.offload import LOOP_ELEMENTS, decode_off_loop, encode_off_loop, is_big, moved_off_loop, release
from wire.codec import Parts, ProtocolError, WorkLimit, decode, encode
from wire.errors import ErrorCode
from wire.frames import FrameError, frame
from wire.headers import API_VERSIONS_KEY, RequestHeader, decode_request_header, response_frame_head, response_header
from wire.messages import APIS

if TYPE_CHECKING:
    from gateway.broker import Broker

log = structlog.get_logger("ottla.connection")
ANONYMOUS = "User:ANONYMOUS"  # Kafka's principal for a connection that did not authenticate
DEFAULT_LISTENER = "PLAINTEXT"
_NO_RESPONSE = (b"",)  # a finished request that sends nothing (Produce acks=0)
_CLOSE = tuple([b""])  # (built at run time: a distinct object) its turn closes the connection (CloseConnection)
TURN_REQUESTS = 16  # requests one connection may dispatch per loop turn before the others get theirs,
TURN_BYTES = 64 * 1024  # or request bytes (at least one request a turn, whatever its size)
BOUND_LOGS = 64  # bound loggers kept per connection, one per (client id, api key, api version) seen


@types.coroutine
def _continue(coro, yielded):
    """Drive a coroutine whose first step already ran (it yielded `yielded`), exactly as its Task would
    have: what the task sends or throws in goes to the coroutine. (Python 3.12's eager tasks, by hand.)"""
    while True:
        try:
            sent = yield yielded
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as exc:  # a cancellation the task throws in
            try:
                yielded = coro.throw(exc)
            except StopIteration as stop:
                return stop.value
        else:
            try:
                yielded = coro.send(sent)
            except StopIteration as stop:
                return stop.value


async def _resume(coro, yielded):
    return await _continue(coro, yielded)


class Transport(Protocol):
    def writelines(self, data: list[bytes]) -> None: ...
    def get_write_buffer_size(self) -> int: ...
    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class ConnectionLimits:
    """The per-connection bounds the pipeline applies (ARCHITECTURE.md, Resource model)."""

    max_in_flight: int = 100
    max_unsent_bytes: int = 1 << 20
    idle_timeout_s: float | None = 600.0  # None: never
    receive_timeout_s: float | None = 30.0
    stall_timeout_s: float | None = 5.0  # while others wait for the pool


    @classmethod
    def from_config(cls, config) -> "ConnectionLimits":
        def seconds(ms: int) -> float | None:
            return ms / 1000 if ms > 0 else None

        return cls(config.max_in_flight_per_connection, config.max_unsent_bytes_per_connection,
                   seconds(config.connections_max_idle_ms), seconds(config.request_receive_timeout_ms),
                   seconds(config.request_stall_timeout_ms))


class _BadRequest(Exception):
    """The request body does not decode: Kafka closes the connection."""


class _EncodeFailed(Exception):
    """The handler's response cannot be encoded at the request's version: our bug."""


class _Slot:
    """A request awaiting its turn to answer, in arrival order."""

    __slots__ = ("header", "reserved", "payload", "size", "task", "waiting", "finished", "started", "observation")

    def __init__(self, header: RequestHeader, reserved: int) -> None:
        self.header = header
        self.reserved = reserved  # pool bytes held for the request until its handler finishes
        self.payload: tuple[bytes, ...] | None = None  # None = not answered yet
        self.size = 0
        self.task: asyncio.Task | None = None
        self.waiting = False
        self.finished = False
        self.started = 0.0  # loop time of dispatch, when gateway.metrics counts (broker.metrics)
        self.observation = None  # gateway.clients.Observation while the registry observes (trace, HTTP)


class RequestPipeline:
    def __init__(self, broker: "Broker", transport: Transport, *, connection_id: str = "", peer: str = "",
                 listener_name: str = DEFAULT_LISTENER, pool: MemoryPool | None = None,
                 limits: ConnectionLimits | None = None, node=None) -> None:
        self.broker = broker
        self.node = node  # gateway/node.py: the cluster's broker this connection reached (None: the only one)
        self.transport = transport
        self.connection_id = connection_id
        self.peer = peer
        self.listener_name = listener_name
        self.principal = ANONYMOUS
        self.pool = pool if pool is not None else MemoryPool()
        self.limits = limits if limits is not None else ConnectionLimits()
        self.decoder = FrameBuffer(broker.config.max_request_size)  # read into by the loop (get_buffer)
        self._faults = faults_of(broker)  # gateway.faults: `armed` is all a request reads when none is set
        self._clients = registry_of(broker)  # gateway.clients: `counting` and `observer` are all a request reads when off
        self._bound_logs: dict[tuple, Any] = {}  # (client id, api key, version) -> self.log bound to them
        self.log = log.bind(peer=peer, connection_id=connection_id)
        self.pending: collections.deque[_Slot] = collections.deque()
        self.closed = False
        self._loop = asyncio.get_running_loop()
        self._waiting_keys: set[int] = set()
        self._held: tuple[bytes, int, RequestHeader, Any] | None = None  # behind a waiting one of its key
        self._head_reserved = 0  # pool bytes reserved for the frame at the front of the buffer
        self._window_fits = receive_window.initial_fit(broker, node)  # a larger request grows the socket's buffer
        self._buffer_charge = 0  # pool bytes for buffered bytes beyond that frame's reservation
        self._queued_bytes = 0  # encoded responses waiting for an earlier one
        self._transport_bytes = 0  # the transport's write buffer, as last seen
        self._response_charge = 0
        self._reading = True
        self._pool_waiting = False
        self._pumping = False
        self._pump_again = False
        self._turn_scheduled = False  # a pump is due next loop turn (this one's share is used)
        self._turn_left, self._turn_bytes = TURN_REQUESTS, TURN_BYTES
        self._frame_started: float | None = None  # the partial request's first byte (while reading)
        self._last_activity = self._last_received = self._loop.time()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._muted = False  # throttled by a quota (KIP-219): nothing read or dispatched until _unmute
        self._mute_timer: asyncio.TimerHandle | None = None
        if self.limits.idle_timeout_s is not None:
            self._arm(self._last_activity + self.limits.idle_timeout_s)
        self._client = self._clients.opened(self)  # this connection's gateway.clients entry (counted into)

    @property
    def log(self):
        """This connection's logger (peer, connection id; SaslPipeline adds the principal)."""
        return self._log

    @log.setter
    def log(self, value) -> None:
        self._log = value
        self._bound_logs.clear()  # bound from the old one

    def _request_log(self, header: RequestHeader, reg):
        """self.log bound to the request's client id, api and version: one bind per kind of request on a
        connection, not one per request (a structlog bind copies the context: ~1 us)."""
        key = (header.client_id, header.api_key, header.api_version)
        bound = self._bound_logs.get(key)
        if bound is None:
            if len(self._bound_logs) >= BOUND_LOGS:
                self._bound_logs.clear()
            bound = self._bound_logs[key] = self._log.bind(client_id=header.client_id, api=reg.api.name,
                                                           api_version=header.api_version)
        return bound

    # events from the adapter --------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Bytes read elsewhere (TLS, a paused node's replay, tests)."""
        if not self.closed:
            self.decoder.receive(data)
            self._arrived()

    def get_buffer(self) -> memoryview:
        """Where the transport reads next (asyncio.BufferedProtocol): see gateway.frame_buffer."""
        return self.decoder.get_buffer()

    def buffer_updated(self, nbytes: int) -> None:
        """`nbytes` were read into get_buffer's buffer."""
        if not self.closed:
            self.decoder.buffer_updated(nbytes)
            self._last_activity = self._last_received = self._loop.time()  # (_arrived, inline: once a read)
            self._pump()

    def _arrived(self) -> None:
        self._last_activity = self._last_received = self._loop.time()
        self._pump()

    def write_buffer_drained(self) -> None:
        """The transport's write buffer emptied (asyncio's resume_writing with a low-water mark of 0)."""
        if not self.closed:
            self._last_activity = self._loop.time()
            self._pump()

    def connection_lost(self) -> None:
        """The socket is gone: cancel what runs and give back everything held (idempotent)."""
        self.closed = True
        self._clients.closed(self)
        self._cancel_timer()
        self.decoder.clear()  # the bytes go with their budget (the pipeline itself may outlive the socket)
        if self._pool_waiting:
            self._pool_waiting = False
            self.pool.cancel(self._pool_ready)
        for slot in self.pending:
            if slot.task is not None and not slot.task.done():
                slot.task.cancel()
            self._release_request(slot)
        self.pending.clear()
        if self._held is not None:
            self.pool.release(self._held[1])
            self._held = None
        self.pool.release(self._head_reserved + self._buffer_charge + self._response_charge)
        self._buffer_charge = self._response_charge = self._head_reserved = 0

    def abort(self, event: str, **fields) -> None:
        """Close this one connection (what Kafka does on bad input); the broker serves everyone else."""
        self.log.warning(event, **fields)
        self._close()

    @property
    def reading(self) -> bool:
        """Whether the pipeline wants the transport read (it pauses itself under back-pressure)."""
        return self._reading

    @property
    def idle(self) -> bool:
        """Nothing in flight (a graceful shutdown waits for this)."""
        return not self.pending and self._held is None

    @property
    def held_bytes(self) -> int:
        """What this connection holds in the pool right now."""
        requests = sum(s.reserved for s in self.pending) + (self._held[1] if self._held else 0)
        return requests + self._head_reserved + self._buffer_charge + self._response_charge

    # frames -> dispatch -------------------------------------------------------------------------

    def _pump(self) -> None:
        if self._pumping:  # re-entered (the pool woke us while we released): the outer call loops again
            self._pump_again = True
            return
        self._pumping = True
        if not self._turn_scheduled:  # each event (bytes in, a handler done, drained) brings a turn's share
            self._turn_left, self._turn_bytes = TURN_REQUESTS, TURN_BYTES
        try:
            while True:
                self._pump_again = False
                self._pump_once()
                if self.closed or not self._pump_again:
                    break
        finally:
            self._pumping = False

    def _pump_once(self) -> None:
        decoder = self.decoder
        pending, limits = self.pending, self.limits
        self._transport_bytes = self.transport.get_write_buffer_size()
        try:
            while not self.closed:
                if self._turn_left <= 0 or self._turn_bytes <= 0:  # this turn's share is used: go on in the next
                    # (only when there is more to dispatch now; else the next event brings a new share)
                    if not self._turn_scheduled and (self._held is not None or decoder.has_frame()):
                        self._turn_scheduled = True
                        self._loop.call_soon(self._next_turn)
                    break
                if self._held is not None:
                    if self._held[2].api_key in self._waiting_keys:
                        break
                    if not self._may_dispatch():
                        if self._flush():  # finished responses out: the bound may allow more now
                            continue
                        break
                    held, self._held = self._held, None
                    self._dispatch_decoded(*held)
                    continue
                if (self._muted or len(pending) >= limits.max_in_flight  # (_may_dispatch, inline: once a request)
                        or self._queued_bytes + self._transport_bytes > limits.max_unsent_bytes):
                    if self._flush():  # finished responses out: the bound may allow more now
                        continue
                    break  # (before looking at the next frame: a bad one is reached only in turn)
                size = decoder.peek_size()
                if size is None:
                    break
                if not self._head_reserved:
                    if not self.pool.available:
                        self._wait_for_pool()
                        break
                    self._head_reserved = size + 4
                    self.pool.charge(size + 4)
                    if size > self._window_fits:
                        self._window_fits = receive_window.grow(self.transport, size)
                payload = decoder.next_frame()
                if payload is None:
                    break
                reserved, self._head_reserved = self._head_reserved, 0  # now the request's
                self._frame_started = None
                self._dispatch(payload, reserved)
        except FrameError as exc:  # reached in turn: the answers finished before it go out first (as Kafka,
            self._flush()           # which reads the next size only after answering), then the close
            self.abort("bad_frame_size", error=str(exc))
        if self.closed:
            return
        self._flush()  # every response this pump finished, in one write
        self._sync_charges()
        self._update_reading()

    def _next_turn(self) -> None:
        self._turn_scheduled = False
        if not self.closed:
            self._pump()

    def _may_dispatch(self) -> bool:
        return (not self._muted and len(self.pending) < self.limits.max_in_flight
                and self._queued_bytes + self._transport_bytes <= self.limits.max_unsent_bytes)

    def _dispatch(self, payload: bytes, reserved: int) -> None:
        try:
            header = decode_request_header(payload)
        except ProtocolError as exc:
            self.pool.release(reserved)
            self.abort("bad_request_header", error=str(exc))
            return
        if self._clients.counting:  # gateway.clients (the HTTP server): client id, APIs and versions used
            client = self._client
            client.client_id = header.client_id
            used, key = client.used, (header.api_key, header.api_version)
            used[key] = used.get(key, 0) + 1
        reg = registry.lookup(header.api_key, header.api_version)
        if reg is None:
            self.pool.release(reserved)
            if header.api_key == API_VERSIONS_KEY:
                self._answer_unsupported_api_versions(header, len(payload) + 4)
            else:
                if self._clients.observer is not None:
                    self._clients.observer.refused(self, header, "Ottla does not serve this API version (ApiVersions "
                                                   "did not offer it); connection closed", len(payload) + 4)
                self.abort("unsupported_api", client_id=header.client_id, api_key=header.api_key,
                           api_version=header.api_version)
            return
        if header.api_key in self._waiting_keys:
            self._held = (payload, reserved, header, reg)
            return
        self._dispatch_decoded(payload, reserved, header, reg)

    def _dispatch_decoded(self, payload: bytes, reserved: int, header: RequestHeader, reg) -> None:
        # positional (keywords cost ~0.5 us a request): the field order is checked by test_pipeline_fast_paths
        ctx = RequestContext(self.broker, header.api_key, header.api_version, header.correlation_id, header.client_id,
                             self._request_log(header, reg), self.peer, self.connection_id, self.principal,
                             self.listener_name, 0, self.node)
        if not self.authorize(ctx, reg):
            if self._clients.observer is not None:
                self._clients.observer.refused(self, header, f"not authorized for {self.principal}; connection "
                                               "closed", len(payload) + 4)
            self.pool.release(reserved)
            self.abort("request_not_authorized", client_id=header.client_id, api=reg.api.name,
                       principal=self.principal)
            return
        slot = _Slot(header, reserved)
        if self.broker.metrics is not None:
            slot.started = self._loop.time()
        self.pending.append(slot)
        if self._faults.armed:
            reg = faulted(reg, self._faults)
        if self._clients.observer is not None:  # after the faults: the trace shows what was answered
            reg, slot.observation = self._clients.observer.begin(reg, len(payload) + 4)
        self._turn_left -= 1
        self._turn_bytes -= len(payload)
        coro = self._serve(ctx, reg, payload, header.body_offset)
        del payload
        try:
            yielded = coro.send(None)  # the first step, now: most handlers finish in it
        except StopIteration as stop:
            self._finish(slot, ctx, stop.value)
            return
        except Exception as exc:
            self._finish(slot, ctx, None, exc)
            return
        task = self._loop.create_task(_resume(coro, yielded))  # suspended: the rest is a task's
        slot.task = task
        slot.waiting = True
        self._waiting_keys.add(header.api_key)
        task.add_done_callback(partial(self._handler_done, slot, ctx))

    def authorize(self, ctx: RequestContext, reg) -> bool:
        """Whether ctx.principal may make this request at all: the hook point for authentication state
        (a SASL connection that has not authenticated may send only ApiVersions and SaslHandshake) and
        ACLs. Everyone may, until security exists; per-resource checks belong in the handlers."""
        return True

    @staticmethod
    async def _serve(ctx: RequestContext, reg, payload: bytes, body_offset: int) -> bytes | None:
        """Decode, handle, encode: the codecs run here, on the loop, up to LOOP_ELEMENTS array elements, and
        past that the whole decode or encode is redone on the codec worker (gateway.offload's second
        halves). No coroutine a request for the common case (~1 us a request, decode and encode)."""
        try:
            try:
                request = decode(reg.api.request, ctx.api_version, payload, body_offset, max_elements=LOOP_ELEMENTS,
                                 views=True)
            except WorkLimit:
                request = await decode_off_loop(reg.api.request, ctx.api_version, payload, body_offset)
        except ProtocolError as exc:
            raise _BadRequest(str(exc)) from None
        metered = ctx.broker.quota_manager.active  # client quotas (gateway.quota_enforcement): off when none
        size = len(payload)
        del payload
        if metered and wants_timing(ctx):
            timed = Timed(reg.handler(ctx, request))
            response = await timed
            ctx.throttle_ms = record_request(ctx, size, timed.busy_ns)
        else:
            response = await reg.handler(ctx, request)
            if metered:
                ctx.throttle_ms = record_request(ctx, size, 0)
        if ctx.throttle_ms and response is not None:
            response["throttle_time_ms"] = max(response.get("throttle_time_ms", 0), ctx.throttle_ms)
        if moved_off_loop and is_big(request):  # a million objects freed on the loop would stall it: off it
            held = [request]
            del request
            await release(held)
        if response is None:
            return None
        while True:  # (a second pass only for a Fetch over its quota: its response again, without data)
            try:
                try:
                    body = encode(reg.api.response, ctx.api_version, response, max_elements=LOOP_ELEMENTS, gather=True)
                except WorkLimit:
                    body = await encode_off_loop(reg.api.response, ctx.api_version, response)
            except Exception as exc:  # an unencodable response is our bug, not the client's
                raise _EncodeFailed(repr(exc)) from exc
            if not metered or ctx.api_key != FETCH_KEY or not (throttle := record_fetch(ctx, len(body))):
                break
            metered = False  # (the response without data is not counted again)
            ctx.throttle_ms = max(ctx.throttle_ms, throttle)  # KIP-219: over quota, the response carries no data
            response = without_data(response)
            response["throttle_time_ms"] = ctx.throttle_ms
        if moved_off_loop and is_big(response):
            held = [response]
            del response
            await release(held)
        return body

    def _handler_done(self, slot: _Slot, ctx: RequestContext, task: asyncio.Task) -> None:
        if not self.closed:
            if task.cancelled():
                self._finish(slot, ctx, cancelled=True)
            else:
                exc = task.exception()
                self._finish(slot, ctx, None if exc is not None else task.result(), exc)
            self._pump()

    def _finish(self, slot: _Slot, ctx: RequestContext, body: bytes | None = None,
                exc: BaseException | None = None, cancelled: bool = False) -> None:
        """The handler is done: queue its response (sent by the pump, in request order) or act on its error."""
        slot.finished = True
        if slot.waiting:
            self._waiting_keys.discard(slot.header.api_key)
        if slot.reserved:  # (_release_request, inline: once a request)
            self.pool.release(slot.reserved)
            slot.reserved = 0
        if cancelled:
            return
        if self.broker.metrics is not None:  # requests and latency per API (gateway.metrics)
            self.broker.metrics.request(ctx.api_key, ctx.api_version, self._loop.time() - slot.started)
        if exc is not None:
            if slot.observation is not None:
                self._clients.observer.finish(self, ctx, slot.observation, 0, exc)
            if isinstance(exc, CloseConnection):  # closed in its turn: the responses before it go out first
                ctx.log.info(exc.event, correlation_id=ctx.correlation_id, principal=ctx.principal, **exc.fields)
                slot.payload = _CLOSE
            elif isinstance(exc, DropConnection):
                ctx.log.info("fault_dropped_connection")
                self._close()
            elif isinstance(exc, _BadRequest):
                ctx.log.warning("bad_request_body", error=str(exc))  # bound to client id, api, version
                self._close()
            elif isinstance(exc, _EncodeFailed):
                ctx.log.error("response_encode_failed", error=str(exc), exc_info=exc.__cause__)
                self.abort("response_encode_failed")
            else:
                ctx.log.error("handler_failed", error=repr(exc), exc_info=exc)
                self.abort("handler_failed")
            return
        if body is None:
            slot.payload = _NO_RESPONSE
        else:
            prefix = response_frame_head(ctx.api_key, ctx.api_version, ctx.correlation_id, len(body))
            # no copy of a large body, nor of its records (wire.codec.Parts):
            slot.payload = (prefix, *body.parts) if body.__class__ is Parts else (prefix, body)
            slot.size = len(prefix) + len(body)
            self._queued_bytes += slot.size
        if slot.observation is not None:  # gateway.clients: trace line, registry, compatibility report
            self._clients.observer.finish(self, ctx, slot.observation, slot.size)
        if ctx.throttle_ms:
            self._mute(ctx.throttle_ms)  # the response still goes out, at the end of this pump

    def _release_request(self, slot: _Slot) -> None:
        if slot.reserved:
            self.pool.release(slot.reserved)
            slot.reserved = 0

    def _answer_unsupported_api_versions(self, header: RequestHeader, bytes_in: int = 0) -> None:
        """An ApiVersions newer than ours: error 35 and our ranges in a v0 body, so the client retries lower."""
        self.log.info("api_versions_unsupported", client_id=header.client_id, api_version=header.api_version)
        body = encode(APIS[API_VERSIONS_KEY].response, 0, {
            "error_code": ErrorCode.UNSUPPORTED_VERSION,
            "api_keys": registry.supported_versions(),
        })
        slot = _Slot(header, 0)
        slot.payload = (frame(response_header(API_VERSIONS_KEY, 0, header.correlation_id) + body),)
        slot.size = len(slot.payload[0])
        slot.finished = True
        self._queued_bytes += slot.size
        self.pending.append(slot)
        if self._clients.observer is not None:
            self._clients.observer.answered(self, header, {"UNSUPPORTED_VERSION": 1}, bytes_in, slot.size)
        self._flush()

    # responses -> transport ---------------------------------------------------------------------

    def _flush(self) -> bool:
        """Write every finished response at the head of the queue, in one writelines; True if any."""
        pending = self.pending
        out: list[bytes] = []
        sent = 0
        close = False
        while pending and pending[0].payload is not None:
            slot = pending.popleft()
            if slot.size:
                out.extend(slot.payload)
                sent += slot.size
            elif slot.payload is _CLOSE:
                close = True
                break
        if out and not self.closed:
            self._queued_bytes -= sent
            self.transport.writelines(out)
            self._transport_bytes = self.transport.get_write_buffer_size()
            self._last_activity = self._loop.time()
            if not close:
                return True
        if close and not self.closed:
            self._close()  # transport.close() sends what is buffered first
        return False

    def _sync_charges(self) -> None:
        """Bring the pool up to date with this connection's buffer (beyond the reserved frame) and its
        unsent responses."""
        # (the transport's buffer as the pump last read it: at its start and after each of its writes)
        response_charge = self._queued_bytes + self._transport_bytes
        buffer_charge = self.decoder.buffered - self._head_reserved
        if buffer_charge < 0:
            buffer_charge = 0
        delta = response_charge - self._response_charge + buffer_charge - self._buffer_charge
        if delta:
            self._response_charge, self._buffer_charge = response_charge, buffer_charge
            if delta > 0:
                self.pool.charge(delta)
            else:
                self.pool.release(-delta)

    # reading: mute and unmute -------------------------------------------------------------------

    def _update_reading(self) -> None:
        limits = self.limits
        decoder = self.decoder
        should_read = not (
            self._muted or self._pool_waiting or self._held is not None or len(self.pending) >= limits.max_in_flight
            or self._queued_bytes + self._transport_bytes > limits.max_unsent_bytes
            or decoder.has_frame()  # a whole request waits (or a bad size field: closed when reached)
        )
        if should_read != self._reading:
            self._reading = should_read
            if should_read:
                self.transport.resume_reading()
            else:
                self.transport.pause_reading()
        # the receive and stall timeouts run only while we read and a request is partly here
        if should_read and decoder.buffered:
            if self._frame_started is None:
                self._frame_started = self._loop.time()
                for timeout in (limits.receive_timeout_s, limits.stall_timeout_s):
                    if timeout is not None:
                        self._arm(self._frame_started + timeout)
        else:
            self._frame_started = None

    def _wait_for_pool(self) -> None:
        if not self._pool_waiting:
            self._pool_waiting = True
            self.pool.wait(self._pool_ready)

    def _pool_ready(self) -> None:
        self._pool_waiting = False
        if not self.closed:
            size = self.decoder.peek_size()
            if size is not None and not self._head_reserved:
                self._head_reserved = size + 4  # reserve now, before the pool wakes the next waiter
                self.pool.charge(size + 4)
            self._pump()

    # timers -------------------------------------------------------------------------------------

    def _arm(self, when: float) -> None:
        if self._timer is not None:
            if self._timer_at <= when:
                return
            self._timer.cancel()
        self._timer_at = when
        self._timer = self._loop.call_at(when, self._on_timer)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._mute_timer is not None:
            self._mute_timer.cancel()
            self._mute_timer = None

    def _on_timer(self) -> None:
        self._timer = None
        if self.closed:
            return
        now = self._loop.time()
        limits = self.limits
        started = self._frame_started
        if started is not None:
            if limits.receive_timeout_s is not None:
                if now >= started + limits.receive_timeout_s:
                    self.abort("request_receive_timeout", received=self.decoder.buffered,
                               declared=self._head_reserved or None, timeout_s=limits.receive_timeout_s)
                    return
                self._arm(started + limits.receive_timeout_s)
            if limits.stall_timeout_s is not None:
                # under memory pressure a half-sent request that makes no progress gives way to others
                stalled_since = max(started, self._last_received)
                if now >= stalled_since + limits.stall_timeout_s and self.pool.waiting:
                    self.abort("request_stalled", received=self.decoder.buffered, declared=self._head_reserved or None,
                               stalled_s=round(now - stalled_since, 1), waiting_for_memory=self.pool.waiting)
                    return
                self._arm(max(stalled_since, now) + limits.stall_timeout_s)
        if limits.idle_timeout_s is not None:
            idle_until = self._last_activity + limits.idle_timeout_s
            if now >= idle_until and self.idle and not self.decoder.buffered:
                self.log.info("connection_idle_closed", idle_s=round(now - self._last_activity, 1))
                self._close()
                return
            self._arm(max(idle_until, now + limits.idle_timeout_s) if now >= idle_until else idle_until)

    def _mute(self, throttle_ms: int) -> None:
        """Kafka's channel mute after a throttled response: read and dispatch nothing for throttle_ms."""
        until = self._loop.time() + throttle_ms / 1000
        if self._mute_timer is not None:
            if self._mute_timer.when() >= until:
                return
            self._mute_timer.cancel()
        self._muted = True
        self._mute_timer = self._loop.call_at(until, self._unmute)
        self._update_reading()

    def _unmute(self) -> None:
        self._mute_timer = None
        self._muted = False
        if not self.closed:
            self._pump()

    def _close(self) -> None:
        self.closed = True
        self._cancel_timer()
        self.decoder.clear()  # a cut-off request's bytes go now, not when the loop drops the connection
        self.transport.close()

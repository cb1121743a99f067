"""One client connection: a thin asyncio.Protocol adapter over the sans-IO framing and codecs.

Requests run concurrently (a long-polling Fetch must not block a Produce behind it), but responses go
back strictly in request order. Reading pauses while too many requests are unanswered or while the
transport's write buffer is full.
"""

from __future__ import annotations

import asyncio
import collections
from typing import TYPE_CHECKING

import structlog

from gateway import registry
from gateway.registry import RequestContext
from wire.codec import ProtocolError, decode, encode
from wire.errors import ErrorCode
from wire.frames import FrameDecoder, FrameError, frame, frame_prefix
from wire.headers import API_VERSIONS_KEY, RequestHeader, decode_request_header, response_header
from wire.messages import APIS

if TYPE_CHECKING:
    from gateway.broker import Broker

log = structlog.get_logger("ottla.connection")
_NO_RESPONSE = object()


class _Slot:
    """A request awaiting its turn to answer, in arrival order."""

    __slots__ = ("header", "payload", "task")

    def __init__(self, header: RequestHeader) -> None:
        self.header = header
        self.payload: tuple[bytes, ...] | object | None = None  # None = not answered yet
        self.task: asyncio.Task | None = None


class KafkaConnection(asyncio.Protocol):
    def __init__(self, broker: "Broker", on_close=None) -> None:
        self.broker = broker
        self.decoder = FrameDecoder(broker.config.max_request_size)
        self.pending: collections.deque[_Slot] = collections.deque()
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.log = log
        self.closed = False
        self._reading_paused = False
        self._writing_paused = False
        self._on_close = on_close

    # asyncio.Protocol --------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self.log = log.bind(peer=self.peer)
        self.log.debug("connection_opened")

    def data_received(self, data: bytes) -> None:
        try:
            frames = self.decoder.feed(data)
        except FrameError as exc:
            self.abort("bad_frame_size", error=str(exc))
            return
        for payload in frames:
            if self.closed:
                return
            self._dispatch(payload)
        self._update_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        for slot in self.pending:
            if slot.task is not None and not slot.task.done():
                slot.task.cancel()
        self.pending.clear()
        self.log.debug("connection_closed", error=str(exc) if exc else None)
        if self._on_close is not None:
            self._on_close(self)

    def pause_writing(self) -> None:
        self._writing_paused = True
        self._update_reading()

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._update_reading()

    # dispatch ----------------------------------------------------------------------------------

    def _dispatch(self, payload: bytes) -> None:
        try:
            header = decode_request_header(payload)
        except ProtocolError as exc:
            self.abort("bad_request_header", error=str(exc))
            return
        reg = registry.lookup(header.api_key, header.api_version)
        if reg is None:
            if header.api_key == API_VERSIONS_KEY:
                self._answer_unsupported_api_versions(header)
            else:
                self.abort(
                    "unsupported_api",
                    client_id=header.client_id,
                    api_key=header.api_key,
                    api_version=header.api_version,
                )
            return
        try:
            request = decode(reg.api.request, header.api_version, payload, header.body_offset)
        except ProtocolError as exc:
            self.abort("bad_request_body", client_id=header.client_id, api=reg.api.name,
                       api_version=header.api_version, error=str(exc))
            return
        ctx = RequestContext(
            broker=self.broker,
            api_key=header.api_key,
            api_version=header.api_version,
            correlation_id=header.correlation_id,
            client_id=header.client_id,
            log=self.log.bind(client_id=header.client_id, api=reg.api.name, api_version=header.api_version),
            peer=self.peer,
        )
        slot = _Slot(header)
        self.pending.append(slot)
        task = asyncio.ensure_future(reg.handler(ctx, request))
        slot.task = task
        task.add_done_callback(lambda t, s=slot, r=reg, c=ctx: self._handler_done(t, s, r, c))

    def _handler_done(self, task: asyncio.Task, slot: _Slot, reg: registry.Registration, ctx: RequestContext) -> None:
        if self.closed or task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            ctx.log.error("handler_failed", error=repr(exc), exc_info=exc)
            self.abort("handler_failed")
            return
        response = task.result()
        if response is None:
            slot.payload = _NO_RESPONSE
        else:
            try:
                body = encode(reg.api.response, ctx.api_version, response)
            except Exception as exc:  # an unencodable response is our bug, not the client's
                ctx.log.error("response_encode_failed", error=repr(exc), exc_info=exc)
                self.abort("response_encode_failed")
                return
            head = response_header(ctx.api_key, ctx.api_version, ctx.correlation_id)
            slot.payload = (frame_prefix(len(head) + len(body)) + head, body)  # no copy of a large body
        self._flush()

    def _answer_unsupported_api_versions(self, header: RequestHeader) -> None:
        """An ApiVersions newer than ours: error 35 and our ranges in a v0 body, so the client retries lower."""
        self.log.info("api_versions_unsupported", client_id=header.client_id, api_version=header.api_version)
        body = encode(APIS[API_VERSIONS_KEY].response, 0, {
            "error_code": ErrorCode.UNSUPPORTED_VERSION,
            "api_keys": registry.supported_versions(),
        })
        slot = _Slot(header)
        slot.payload = (frame(response_header(API_VERSIONS_KEY, 0, header.correlation_id) + body),)
        self.pending.append(slot)
        self._flush()

    def _flush(self) -> None:
        pending = self.pending
        transport = self.transport
        out = []
        while pending and pending[0].payload is not None:
            payload = pending.popleft().payload
            if payload is not _NO_RESPONSE:
                out.extend(payload)
        if out and transport is not None and not self.closed:
            transport.writelines(out)
        self._update_reading()

    def _update_reading(self) -> None:
        if self.closed or self.transport is None:
            return
        should_pause = self._writing_paused or len(self.pending) >= self.broker.config.max_in_flight_per_connection
        if should_pause and not self._reading_paused:
            self._reading_paused = True
            self.transport.pause_reading()
        elif not should_pause and self._reading_paused:
            self._reading_paused = False
            self.transport.resume_reading()

    def abort(self, event: str, **fields) -> None:
        """Close this one connection (what Kafka does on bad input); the broker serves everyone else."""
        self.log.warning(event, **fields)
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    @property
    def idle(self) -> bool:
        return not self.pending

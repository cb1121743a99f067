"""One client connection: a thin asyncio.BufferedProtocol adapter over the sans-IO `RequestPipeline`.

The adapter knows the socket (peer, local address, the transport's flow control) and the server's
connection caps; everything about requests and their bounds is in `gateway.pipeline`. The event
loop reads the socket straight into the pipeline's frame buffer (get_buffer / buffer_updated:
gateway.frame_buffer), not into a new bytes object a read.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from typing import TYPE_CHECKING, Callable

import structlog

from gateway.memory_pool import MemoryPool
from gateway.pipeline import DEFAULT_LISTENER, ConnectionLimits, RequestPipeline

if TYPE_CHECKING:
    from gateway.admission import Admission
    from gateway.broker import Broker
    from gateway.node import Node

log = structlog.get_logger("ottla.connection")
_index = itertools.count()
SERVICE_TIMES = os.environ.get("OTTLA_SERVICE_TIMES")  # FILE: stamp every request (bench only)


_discard = None


def _discard_view() -> memoryview:
    """A read buffer for a connection whose pipeline does not take reads now (refused, or its node paused)."""
    global _discard
    if _discard is None:
        _discard = memoryview(bytearray(64 * 1024))
    return _discard


def _address(sockaddr) -> tuple[str, int | str]:
    return (sockaddr[0], sockaddr[1]) if isinstance(sockaddr, tuple) else (str(sockaddr), "")


class KafkaConnection(asyncio.BufferedProtocol):
    def __init__(self, broker: "Broker", on_close: Callable[["KafkaConnection"], None] | None = None, *,
                 pool: MemoryPool | None = None, limits: ConnectionLimits | None = None,
                 admission: "Admission | None" = None, listener_name: str = DEFAULT_LISTENER,
                 node: "Node | None" = None, security_protocol: str = "PLAINTEXT") -> None:
        self.broker = broker
        self.security_protocol = security_protocol  # the listener's (gateway/listeners.py)
        self.node = node  # the cluster's broker this connection reached (gateway/node.py)
        self._held: list[bytes] | None = None  # what arrived while the node is paused
        self.pool = pool
        self.limits = limits if limits is not None else ConnectionLimits.from_config(broker.config)
        self.admission = admission
        self.listener_name = listener_name
        self.pipeline: RequestPipeline | None = None
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self._ip = ""
        self._on_close = on_close

    # asyncio.Protocol --------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer_host, peer_port = _address(transport.get_extra_info("peername"))
        local_host, local_port = _address(transport.get_extra_info("sockname") or ("", ""))
        self.peer = f"{peer_host}:{peer_port}"
        self._ip = peer_host
        quotas = self.broker.quota_manager
        if quotas.active and (delay_ms := quotas.connection_throttle_ms(peer_host)):
            # Kafka's connection_creation_rate: the connection is closed once its throttle time has passed
            log.info("connection_throttled", peer=self.peer, throttle_ms=delay_ms, quota="connection_creation_rate")
            transport.pause_reading()  # type: ignore[attr-defined]
            asyncio.get_running_loop().call_later(delay_ms / 1000, transport.close)
            return
        if self.admission is not None and not self.admission.admit(peer_host):
            transport.close()  # refused: accepted and closed at once (the admission logged why)
            return
        # report every buffered byte (pause_writing above 0, resume_writing at 0): the pipeline counts them
        transport.set_write_buffer_limits(high=0, low=0)  # type: ignore[attr-defined]
        connection_id = f"{local_host}:{local_port}-{self.peer}-{next(_index)}"  # Kafka's form
        if self.node is not None and len(getattr(self.broker, "nodes", ())) > 1:  # a cluster: pause holds responses
            from gateway.node import HoldingTransport

            transport = HoldingTransport(transport, self.node, self._drained)
        pipeline_class = RequestPipeline
        if SERVICE_TIMES:  # the latency bench's broker-side stamps (gateway/service_times.py); off: not imported
            from gateway.service_times import pipeline_class

            pipeline_class = pipeline_class(self.broker, SERVICE_TIMES)
        if self.security_protocol in ("SASL_PLAINTEXT", "SASL_SSL"):
            from gateway.security.sasl_pipeline import SaslPipeline as pipeline_class
        self.pipeline = pipeline_class(self.broker, transport, connection_id=connection_id, peer=self.peer,
                                       listener_name=self.listener_name, pool=self.pool, limits=self.limits,
                                       node=self.node)
        if self.security_protocol == "SSL":  # mTLS: the client certificate's subject (ssl.principal.mapping.rules)
            from gateway.security.tls import principal_of

            self.pipeline.principal = principal_of(transport) or self.pipeline.principal
        self.pipeline.log.debug("connection_opened", listener=self.listener_name, principal=self.pipeline.principal)

    def get_buffer(self, sizehint: int) -> memoryview:
        pipeline = self.pipeline
        if pipeline is None or (self.node is not None and self.node.paused):  # kept as bytes (buffer_updated)
            return _discard_view()
        return pipeline.decoder.get_buffer()  # (pipeline.get_buffer's, one call less a read)

    def buffer_updated(self, nbytes: int) -> None:
        node = self.node
        if node is not None and node.paused:  # (get_buffer, the read and this run back to back: the same state)
            self._hold(bytes(_discard_view()[:nbytes]))
        elif self.pipeline is not None:
            self.pipeline.buffer_updated(nbytes)

    def data_received(self, data: bytes) -> None:  # (bytes read elsewhere: the same as a read)
        node = self.node
        if node is not None and node.paused:
            self._hold(data)
        elif self.pipeline is not None:
            self.pipeline.receive_data(data)

    def _drained(self) -> None:
        if self.pipeline is not None:
            self.pipeline.write_buffer_drained()

    def _hold(self, data: bytes) -> None:
        """A paused (hung) broker: keep what arrives unread, and stop reading more, until it resumes."""
        if self._held is None:
            self._held = []
            self.node.on_resume.append(self._resumed)
        self._held.append(data)
        if self.transport is not None:
            self.transport.pause_reading()

    def _resumed(self) -> None:
        held, self._held = self._held or [], None
        if self.in_resume_list():
            self.node.on_resume.remove(self._resumed)
        if self.pipeline is None or self.pipeline.closed:
            return
        for data in held:
            self.pipeline.receive_data(data)
        if not self.pipeline.closed and self.pipeline.reading and self.transport is not None:
            self.transport.resume_reading()

    def in_resume_list(self) -> bool:
        return self.node is not None and self._resumed in self.node.on_resume

    def connection_lost(self, exc: Exception | None) -> None:
        if self._held is not None and self.in_resume_list():
            self.node.on_resume.remove(self._resumed)
        self._held = None
        if self.pipeline is not None:
            self.pipeline.connection_lost()
            self.pipeline.log.debug("connection_closed", error=str(exc) if exc else None)
            if self.admission is not None:
                self.admission.release(self._ip)
        if self._on_close is not None:
            self._on_close(self)

    def pause_writing(self) -> None:
        pass  # the pipeline reads the buffer size after every write

    def resume_writing(self) -> None:
        if self.pipeline is not None:
            self.pipeline.write_buffer_drained()

    # -------------------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self.pipeline is None or self.pipeline.closed

    @property
    def idle(self) -> bool:
        return self.pipeline is None or self.pipeline.idle

    def abort(self, event: str, **fields) -> None:
        if self.pipeline is not None:
            self.pipeline.abort(event, **fields)
        elif self.transport is not None:
            self.transport.close()


class TlsConnection(KafkaConnection, asyncio.BufferedProtocol):
    """A connection on an SSL or SASL_SSL listener: the event loop's TLS layer decrypts straight into one
    buffer (its buffered path reads every TLS record available in one callback), instead of handing over
    a new bytes object per 16 KiB record."""

    READ_BUFFER = 256 * 1024

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._view = memoryview(bytearray(self.READ_BUFFER))

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._view

    def buffer_updated(self, nbytes: int) -> None:
        node = self.node
        if node is not None and node.paused:
            self._hold(bytes(self._view[:nbytes]))  # kept past this call: a copy
        elif self.pipeline is not None:
            self.pipeline.receive_data(self._view[:nbytes])  # (the frame decoder copies what it keeps)

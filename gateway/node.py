"""One broker of a cluster: its node id, its listener(s) and addresses, its live connections, and
whether it is running (`alive`) or hung (`paused`).

The server opens a Node's listening sockets (`bind`) and serves each connection with this Node as
`ctx.node`; `stop()` closes the sockets and every connection (clients see a dead broker: refused
connections), `pause()` makes its connections hold what arrives without reading it as requests
(and hold their responses), as a hung process or a network partition does, until `resume()`.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from gateway import receive_window

log = structlog.get_logger("ottla.node")


@dataclass(frozen=True)
class Endpoint:
    """One listener of a node: where it binds and what it advertises."""

    name: str
    host: str
    port: int
    advertised_host: str
    advertised_port: int


class Node:
    def __init__(self, node_id: int, endpoints: list[Endpoint]) -> None:
        self.node_id = node_id
        self.endpoints = endpoints
        self.alive = True
        self.paused = False
        self.fenced = False  # paused past broker.session.timeout.ms: out of every ISR, leads nothing
        self.connections: set = set()  # gateway.connection.KafkaConnection
        self.servers: list = []  # asyncio.Server per endpoint, while alive
        self.bound = False  # bind() ran: receive_buffer_bytes is what the listeners were given
        self.receive_buffer_bytes: int | None = None  # their SO_RCVBUF (None: the OS's, autotuned)
        self.on_resume: list[Callable[[], None]] = []
        self.on_fenced: list[Callable[[], None]] = []  # acks=all waiting on this follower (gateway/leadership.py)

    @property
    def host(self) -> str:
        return self.endpoints[0].advertised_host

    @property
    def port(self) -> int:
        return self.endpoints[0].advertised_port

    def endpoint(self, listener_name: str) -> Endpoint:
        for endpoint in self.endpoints:
            if endpoint.name == listener_name:
                return endpoint
        return self.endpoints[0]

    def address(self, listener_name: str) -> tuple[str, int]:
        endpoint = self.endpoint(listener_name)
        return endpoint.advertised_host, endpoint.advertised_port

    def bind(self, receive_buffer_bytes: int = -1) -> list[socket.socket]:
        """Listening sockets for every endpoint, bound now (a client may connect at once: the kernel
        queues it until the server accepts). Port 0 picks a free port, then advertised.
        receive_buffer_bytes > 0: the listeners' SO_RCVBUF, which accepted connections inherit (Kafka's
        socket.receive.buffer.bytes, set on its server socket as Kafka does); else the OS's, autotuned
        (receive_window.listener_bytes: the rule). The value is kept as `receive_buffer_bytes`, where each
        connection's pipeline reads it (receive_window.initial_fit)."""
        size = receive_window.listener_bytes(receive_buffer_bytes)
        sockets = []
        try:
            for i, endpoint in enumerate(self.endpoints):
                family = socket.AF_INET6 if ":" in endpoint.host else socket.AF_INET
                sock = socket.socket(family, socket.SOCK_STREAM)
                sockets.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if size is not None:  # before listen: the window scale offered to clients follows it
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
                sock.bind((endpoint.host, endpoint.port))
                sock.listen(1024)
                sock.setblocking(False)
                port = sock.getsockname()[1]
                if endpoint.port == 0 or not endpoint.advertised_port:
                    advertised = port if not endpoint.advertised_port else endpoint.advertised_port
                    self.endpoints[i] = Endpoint(endpoint.name, endpoint.host, port, endpoint.advertised_host,
                                                 advertised)
        except OSError as exc:
            for sock in sockets:
                sock.close()
            raise OSError(exc.errno, f"broker {self.node_id}: cannot listen on {endpoint.host}:{endpoint.port}: "
                                     f"{exc.strerror}") from None
        self.bound, self.receive_buffer_bytes = True, size  # what its connections start with (receive_window)
        return sockets

    def close_listeners(self) -> None:
        for server in self.servers:
            server.close()
        self.servers = []

    def close_connections(self) -> None:
        for connection in list(self.connections):
            transport = connection.transport
            if transport is not None:
                transport.abort() if hasattr(transport, "abort") else transport.close()

    def resume(self) -> None:
        self.paused = False
        for callback in list(self.on_resume):
            callback()

    def __repr__(self) -> str:
        state = "fenced" if self.fenced else "paused" if self.paused else "alive" if self.alive else "stopped"
        return f"Node({self.node_id}, {self.host}:{self.port}, {state})"


class HoldingTransport:
    """A cluster node's connection transport: while the node is paused (hung), responses are held, not
    written (counted as unsent, so the pipeline's back-pressure holds too), and written on resume."""

    def __init__(self, transport, node: Node, drained: Callable[[], None]) -> None:
        self._transport = transport
        self._node = node
        self._drained = drained
        self._held: list[bytes] = []
        self._held_bytes = 0

    def writelines(self, data) -> None:
        if not self._node.paused:
            self._transport.writelines(data)
            return
        if not self._held:
            self._node.on_resume.append(self._flush)
        self._held.extend(data)
        self._held_bytes += sum(len(d) for d in data)

    def _flush(self) -> None:
        held, self._held, self._held_bytes = self._held, [], 0
        if held and not self._transport.is_closing():
            self._transport.writelines(held)
            self._drained()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + self._held_bytes

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def close(self) -> None:
        self._transport.close()

    def __getattr__(self, name):  # get_extra_info, is_closing, abort...
        return getattr(self._transport, name)

"""The server: owns the listeners (one set per broker of the cluster), the live connections and a graceful
shutdown."""

from __future__ import annotations

import asyncio
import gc
import signal
import time
from functools import partial

import structlog

from gateway import generated_code, startup_gc
from gateway.admission import Admission, fd_connection_limit, raise_fd_limit
from gateway.configs.broker_defs import per_ip_overrides
from gateway.broker import open_storage
from gateway.cluster import Cluster
from gateway.startup_topics import create_startup_topics
from gateway.clock import now_ms
from gateway.config import Config
from gateway.connection import KafkaConnection, TlsConnection
from gateway.memory_pool import MemoryPool
from gateway.node import Node
from gateway.pipeline import ConnectionLimits

log = structlog.get_logger("ottla.server")


class DeadlineTimer:
    """Runs `tick(now_ms) -> next deadline | None` at each deadline with loop.call_at (no polling).

    `arm(deadline_ms)` moves the wake-up earlier when a handler creates an earlier deadline (the
    broker's `on_deadline`); a later one is left to the tick that comes first."""

    def __init__(self, loop: asyncio.AbstractEventLoop, tick) -> None:
        self._loop = loop
        self._tick = tick
        self._handle: asyncio.TimerHandle | None = None
        self._at_ms: int | None = None

    def arm(self, deadline_ms: int) -> None:
        if self._at_ms is not None and self._at_ms <= deadline_ms:
            return
        if self._handle is not None:
            self._handle.cancel()
        self._at_ms = deadline_ms
        self._handle = self._loop.call_at(self._loop.time() + max(0, deadline_ms - now_ms()) / 1000, self._fire)

    def fire_now(self) -> None:
        self.arm(now_ms())

    def _fire(self) -> None:
        self._handle = self._at_ms = None
        try:
            deadline = self._tick(now_ms())
        except Exception as exc:  # a coordinator bug must not stop every later timer
            log.error("timer_failed", error=repr(exc), exc_info=exc)
            deadline = now_ms() + 1000
        if deadline is not None:
            self.arm(deadline)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle = self._at_ms = None


class Server:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.connections: set[KafkaConnection] = set()
        self.broker: Cluster | None = None
        self.pool = MemoryPool(config.queued_max_request_bytes)
        self.limits = ConnectionLimits.from_config(config)
        self.admission: Admission | None = None
        self._listener: asyncio.AbstractServer | None = None
        self.http_port: int | None = None  # the HTTP server's bound port
        self._http = None  # gateway.http's server (console, /metrics, control API), with --http-port
        self._tls: dict = {}  # listener name -> ssl.SSLContext (SSL and SASL_SSL listeners)
        self._protocols = {listener.name: listener.security_protocol for listener in config.listeners}
        self._stop = asyncio.Event()
        self._timers: DeadlineTimer | None = None

    async def start(self) -> None:
        started = time.monotonic()
        stamps = [time.perf_counter()]  # the ready line's phases: storage open, broker (topics loaded), bind
        fd_soft, fd_hard = raise_fd_limit()
        max_connections = min(self.config.max_connections, fd_connection_limit(fd_soft))
        self.admission = Admission(max_connections, self.config.max_connections_per_ip)
        storage = open_storage(self.config)
        stamps.append(time.perf_counter())
        self.broker = Cluster(self.config, storage)
        stamps.append(time.perf_counter())
        gc.freeze()  # what was loaded lives as long as the broker: full GC passes need not walk it every time
        startup_gc.release()  # automatic collection back, if `ottla serve` held it for start-up
        # max.connections and max.connections.per.ip may change at runtime (AlterConfigs): act at once
        self.broker.configs.listeners.append(lambda kind, name: self._apply_connection_configs(fd_soft))
        max_connections = self._apply_connection_configs(fd_soft)
        create_startup_topics(self.broker, self.config.topics, log)
        stamps.append(time.perf_counter())
        loop = asyncio.get_running_loop()
        if self.config.http_port is not None:  # /v1/clients and the console: requests and APIs per connection
            self.broker.clients.count()
        if self.config.trace or self.config.client_report:  # the trace and the compatibility report
            self.broker.clients.observe(self.config.trace, self.config.trace_max_bytes, loop)
        self._tls = self._tls_contexts()
        for node in self.broker.nodes.values():  # every broker's sockets bound before any is served
            await asyncio.gather(*self._listen(node))
        self.broker.listen = self._listen  # start_node opens them again
        first = next(iter(self.broker.nodes.values()))
        self._listener = first.servers[0]
        bound = self._listener.sockets[0].getsockname()
        self.broker.host, self.broker.port = first.host, first.port  # --port 0: the port the OS picked
        stamps.append(time.perf_counter())
        storage_ms, broker_ms, topics_ms, listen_ms = (round((b - a) * 1000, 1) for a, b in zip(stamps, stamps[1:]))
        log.info("ready", host=bound[0], port=bound[1], advertised=f"{self.broker.host}:{self.broker.port}",
                 node_id=self.broker.node_id, brokers=len(self.broker.nodes),
                 data_dir=None if self.config.memory else self.config.data_dir,
                 startup_ms=round((time.monotonic() - started) * 1000, 1), storage_ms=storage_ms, broker_ms=broker_ms,
                 startup_topics_ms=topics_ms, listen_ms=listen_ms, fd_limit=fd_soft, fd_hard_limit=fd_hard,
                 max_connections=max_connections, queued_max_request_bytes=self.config.queued_max_request_bytes)
        self._timers = DeadlineTimer(loop, self.broker.tick)
        self.broker.on_deadline = self._timers.arm
        self._timers.fire_now()
        self.broker.maintenance.start()
        if self.config.http_port is not None:
            await self._start_http()
        for node in self.broker.nodes.values():
            for endpoint in node.endpoints:
                protocol = self._protocols.get(endpoint.name, "PLAINTEXT")
                if len(node.endpoints) > 1 or protocol != "PLAINTEXT":
                    print(f"ottla listener {endpoint.name} ({protocol}) of broker {node.node_id} on "
                          f"{endpoint.host}:{endpoint.port}", flush=True)
        print(f"ottla ready on {bound[0]}:{bound[1]}", flush=True)
        generated_code.finish()  # written only when this start compiled code it did not have (gateway/generated_code.py)

    def _tls_contexts(self) -> dict:
        """An SSLContext per SSL/SASL_SSL listener (gateway/security/tls.py); none without TLS listeners."""
        tls_listeners = [listener for listener in self.config.listeners if listener.tls]
        if not tls_listeners:
            return {}
        from gateway.security.tls import client_auth_of, server_context, tls_files

        files = tls_files(self.config)
        if files.generated:
            log.info("tls_ca", path=files.ca)
            print(f"ottla TLS CA: {files.ca} (clients: ssl.ca.location)", flush=True)
        return {listener.name: server_context(files, client_auth_of(self.config, listener))
                for listener in tls_listeners}

    async def _start_http(self) -> None:
        from gateway.http.server import HttpServer
        from gateway.metrics import Metrics
        from gateway import metrics_collector  # noqa: F401  (prometheus_client: imported now, not at the first scrape)

        if self.config.http_metrics:
            self.broker.metrics = Metrics()  # counting starts with the server that can show it
        self.broker.connections = self.connections
        self._http = HttpServer(self.broker)
        self.http_port = port = await self._http.start(self.config.host, self.config.http_port)
        log.info("http_server", host=self.config.host, port=port, console=f"http://{self.config.host}:{port}/",
                 metrics=f"http://{self.config.host}:{port}/metrics")
        print(f"ottla http on {self.config.host}:{port}", flush=True)

    def _apply_connection_configs(self, fd_soft: int) -> int:
        configs = self.broker.configs
        self.admission.max_connections = min(configs.broker("max.connections"), fd_connection_limit(fd_soft))
        self.admission.max_connections_per_ip = configs.broker("max.connections.per.ip")
        self.admission.per_ip_overrides = per_ip_overrides(configs.broker("max.connections.per.ip.overrides"))
        return self.admission.max_connections

    def _listen(self, node: Node) -> list:
        """Bind the node's listeners now; serving them starts with the returned tasks (awaitable)."""
        loop = asyncio.get_running_loop()
        tasks = []
        receive_buffer = self.broker.configs.broker("socket.receive.buffer.bytes")  # Kafka's 100 KiB by default
        for endpoint, sock in zip(list(node.endpoints), node.bind(receive_buffer)):
            factory = partial(self._new_connection, node, endpoint.name)
            tasks.append(loop.create_task(self._serve_socket(node, factory, sock, self._tls.get(endpoint.name))))
        return tasks

    async def _serve_socket(self, node: Node, factory, sock, tls=None) -> None:
        # a TLS handshake must finish within the request receive timeout (as a request must arrive)
        timeout_ms = self.config.request_receive_timeout_ms
        extra = {"ssl": tls, "ssl_handshake_timeout": timeout_ms / 1000 if timeout_ms > 0 else 60.0} if tls else {}
        server = await asyncio.get_running_loop().create_server(factory, sock=sock, backlog=1024, **extra)
        if node.alive:
            node.servers.append(server)
        else:  # stopped again before it was served
            server.close()

    def _new_connection(self, node: Node, listener_name: str) -> KafkaConnection:
        connection_class = TlsConnection if listener_name in self._tls else KafkaConnection
        connection = connection_class(self.broker, on_close=self._connection_closed, pool=self.pool,
                                     limits=self.limits, admission=self.admission, listener_name=listener_name,
                                     node=node, security_protocol=self._protocols.get(listener_name, "PLAINTEXT"))
        self.connections.add(connection)
        node.connections.add(connection)
        return connection

    def _connection_closed(self, connection: KafkaConnection) -> None:
        self.connections.discard(connection)
        if connection.node is not None:
            connection.node.connections.discard(connection)

    def stop(self) -> None:
        self._stop.set()

    async def serve(self) -> None:
        await self.start()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop)
        await self._stop.wait()
        await self.shutdown()

    async def shutdown(self) -> None:
        """Stop accepting, let in-flight requests finish within the grace period, then close storage."""
        log.info("shutting_down", connections=len(self.connections))
        if self.broker is not None:
            for node in self.broker.nodes.values():
                node.alive = False  # nothing reopens them now
                node.close_listeners()
                node.resume()
        if self._http is not None:
            await self._http.close()
        if self._timers is not None:
            self._timers.stop()
        deadline = time.monotonic() + self.config.shutdown_grace_s
        while any(not c.idle for c in self.connections) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.close()
        if self.broker is not None:
            self.broker.clients.close()  # the trace's last lines
            await self.broker.maintenance.stop()
            self.broker.close()
        log.info("stopped")


def run(config: Config) -> None:
    try:
        import uvloop  # the faster event loop, when installed

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    runner(Server(config).serve())

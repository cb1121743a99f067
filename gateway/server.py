"""The server: owns the listener, the live connections and a graceful shutdown."""

from __future__ import annotations

import asyncio
import signal
import time

import structlog

from gateway import handlers  # noqa: F401  (registers every API handler)
from gateway.broker import Broker, open_storage
from gateway.clock import now_ms
from gateway.config import Config
from gateway.connection import KafkaConnection

log = structlog.get_logger("ottla.server")
TIMER_RESOLUTION_MS = 10  # at most this late a timer fires (a join phase due now, a session expiry)


class Server:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.connections: set[KafkaConnection] = set()
        self.broker: Broker | None = None
        self._listener: asyncio.AbstractServer | None = None
        self._stop = asyncio.Event()
        self._timers: asyncio.Future | None = None

    async def start(self) -> None:
        started = time.monotonic()
        self.broker = Broker(self.config, open_storage(self.config))
        loop = asyncio.get_running_loop()
        self._listener = await loop.create_server(self._new_connection, self.config.host, self.config.port,
                                                  reuse_address=True, backlog=1024)
        bound = self._listener.sockets[0].getsockname()
        if not self.broker.port:  # --port 0: advertise the port the OS picked
            self.broker.port = bound[1]
        log.info("ready", host=bound[0], port=bound[1], advertised=f"{self.broker.host}:{self.broker.port}",
                 node_id=self.config.node_id, data_dir=None if self.config.memory else self.config.data_dir,
                 startup_ms=round((time.monotonic() - started) * 1000, 1))
        self._timers = asyncio.ensure_future(self._run_timers())
        print(f"ottla ready on {bound[0]}:{bound[1]}", flush=True)

    async def _run_timers(self) -> None:
        """Drive the coordinators' timers (session expiry, rebalance timeouts) from the wall clock."""
        while True:
            deadline = self.broker.tick(now_ms())
            wait_ms = TIMER_RESOLUTION_MS if deadline is None else max(1, min(deadline - now_ms(), TIMER_RESOLUTION_MS))
            await asyncio.sleep(wait_ms / 1000)

    def _new_connection(self) -> KafkaConnection:
        connection = KafkaConnection(self.broker, on_close=self.connections.discard)
        self.connections.add(connection)
        return connection

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
        if self._listener is not None:
            self._listener.close()
        if self._timers is not None:
            self._timers.cancel()
        deadline = time.monotonic() + self.config.shutdown_grace_s
        while any(not c.idle for c in self.connections) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.close()
        if self.broker is not None:
            self.broker.close()
        log.info("stopped")


def run(config: Config) -> None:
    try:
        import uvloop  # the faster event loop, when installed

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    runner(Server(config).serve())

"""The HTTP server's life: an aiohttp AppRunner + TCPSite in the broker's own event loop."""

from __future__ import annotations

from aiohttp import web

from gateway.http.app import build_app


class HttpServer:
    def __init__(self, broker) -> None:
        self.broker = broker
        self._runner: web.AppRunner | None = None

    async def start(self, host: str, port: int) -> int:
        """Serve on host:port (0: any free port); the port bound."""
        self._runner = web.AppRunner(build_app(self.broker), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, reuse_address=True)
        await site.start()
        return self._runner.addresses[0][1]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

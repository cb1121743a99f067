"""GET /metrics: Prometheus text format, gathered at scrape time (gateway.metrics)."""

from __future__ import annotations

from aiohttp import web


def routes(broker) -> list[web.RouteDef]:
    async def metrics(request: web.Request) -> web.Response:
        from gateway.metrics import exposition

        body, content_type = exposition(broker)
        return web.Response(body=body, headers={"Content-Type": content_type})

    return [web.get("/metrics", metrics)]

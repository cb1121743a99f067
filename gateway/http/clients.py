"""GET /v1/clients: the live connections (gateway/clients.py) and the per-client compatibility report
(gateway/report.py) of everything observed since start-up, as JSON; GET /v1/clients/report.md: the
same report as Markdown (what `ottla report` prints).

    {"connections": [{"connection_id", "peer", "listener", "principal", "client_id", "software_name",
                      "software_version", "connected_at", "requests", "apis": {"Produce": [9, 10]},
                      "telemetry": null | {"client_instance_id", "subscribed", "push_interval_ms",
                                           "last_push", "last_push_bytes", ...}}],
     "report": {"requests": N, "clients": [{"software_name", "software_version", "apis", "features",
                                            "codecs", "errors", "refused", ...}]}}
"""

from __future__ import annotations

import json

from aiohttp import web

from gateway.report import to_markdown


def routes(broker) -> list[web.RouteDef]:
    registry = broker.clients

    async def clients(request: web.Request) -> web.Response:
        return web.Response(text=json.dumps({"connections": registry.entries(), "report": registry.report()},
                                            default=str), content_type="application/json")

    async def report_markdown(request: web.Request) -> web.Response:
        return web.Response(text=to_markdown(registry.report() or {}, "the live broker"), content_type="text/markdown")

    return [web.get("/v1/clients", clients), web.get("/v1/clients/report.md", report_markdown)]

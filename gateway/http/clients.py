"""GET /v1/clients: the live connections (gateway/clients.py) and the per-client compatibility report
(gateway/report.py) of everything observed since start-up, as JSON; GET /v1/clients/report.md: the
same report as Markdown (what `ottla report` prints).

The report is built only when the broker observes requests (`--client-report` or `--trace FILE`);
otherwise "report" is null, "report_enabled" false and "report_off" says how to turn it on, and
report.md answers 404 with that sentence: an empty report would read as "no client did anything".

    {"connections": [{"connection_id", "peer", "listener", "principal", "client_id", "software_name",
                      "software_version", "connected_at", "requests", "apis": {"Produce": [9, 10]},
                      "telemetry": null | {"client_instance_id", "subscribed", "push_interval_ms",
                                           "last_push", "last_push_bytes", ...}}],
     "report_enabled": true, "report_off": null,
     "report": {"requests": N, "clients": [{"software_name", "software_version", "apis", "features",
                                            "codecs", "errors", "refused", ...}]}}
"""

from __future__ import annotations

import json

from aiohttp import web

from gateway.clients import REPORT_OFF
from gateway.report import to_markdown


def routes(broker) -> list[web.RouteDef]:
    registry = broker.clients

    async def clients(request: web.Request) -> web.Response:
        enabled = registry.report_enabled
        return web.Response(text=json.dumps({"connections": registry.entries(), "report_enabled": enabled,
                                             "report_off": None if enabled else REPORT_OFF,
                                             "report": registry.report()},
                                            default=str), content_type="application/json")

    async def report_markdown(request: web.Request) -> web.Response:
        report = registry.report()
        if report is None:
            return web.Response(status=404, text=f"# Compatibility report\n\nOff: {REPORT_OFF}.\n",
                                content_type="text/markdown")
        return web.Response(text=to_markdown(report, "the live broker"), content_type="text/markdown")

    return [web.get("/v1/clients", clients), web.get("/v1/clients/report.md", report_markdown)]

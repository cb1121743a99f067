"""The aiohttp application: routes gathered from a list of route modules.

Each module in ROUTE_MODULES has `def routes(broker) -> list[aiohttp.web.RouteDef]`. Modules that
other engineers add (control.py: /v1/cluster, /v1/brokers, /v1/partitions, /v1/faults; clients.py:
/v1/clients) are listed in OPTIONAL_MODULES and skipped until they exist, so adding one is adding
the file. Whatever a route reads comes from gateway.views (the typed read API), so a console page
and its JSON twin cannot disagree.

No authentication and no CSRF tokens: the port is off by default and binds --host (loopback unless
told otherwise). Pages that change state accept POST only, and refuse a cross-site Origin header.
"""

from __future__ import annotations

import importlib

from aiohttp import web

ROUTE_MODULES = (
    "gateway.http.admin",     # POST /share-groups/replay-dlq (the old --admin-port endpoint)
    "gateway.http.metrics",   # GET /metrics (Prometheus text format)
    "gateway.http.api",       # GET /api/... JSON twins of the console pages (gateway.views)
    "gateway.http.pages",     # the console: server-rendered HTML pages and their forms
)
OPTIONAL_MODULES = (
    "gateway.http.control",   # faults: the control API /v1/...
    "gateway.http.clients",   # txn: /v1/clients
)
MAX_BODY = 1 << 20  # the largest request body any route accepts (a produced message from the console)
BROKER_KEY = web.AppKey("broker", object)


def route_modules() -> list:
    modules = [importlib.import_module(name) for name in ROUTE_MODULES]
    for name in OPTIONAL_MODULES:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:  # the module exists but something it imports does not: a real error
                raise
    return modules


def build_app(broker, modules=None) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY, middlewares=[same_origin])
    app[BROKER_KEY] = broker
    for module in route_modules() if modules is None else modules:
        app.add_routes(module.routes(broker))
    return app


@web.middleware
async def same_origin(request: web.Request, handler):
    """Refuse state-changing requests a browser sends from another site (a page on the web posting
    to a console on localhost): their Origin header names a host other than ours."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        origin = request.headers.get("Origin")
        if origin and origin != "null" and origin.split("://", 1)[-1] != request.host:
            return web.json_response({"error": "cross-origin request refused"}, status=403)
    return await handler(request)

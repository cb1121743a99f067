"""GET /api/...: the console's data as JSON, from the same gateway.views functions the pages render.

    /api/cluster  /api/topics  /api/topics/{name}  /api/topics/{name}/messages?partition&start&offset&
    timestamp&limit&q&jsonpath  /api/groups  /api/groups/{id}  /api/share-groups  /api/share-groups/{id}
    /api/transactions  /api/clients  /api/throughput
"""

from __future__ import annotations

import json

from aiohttp import web

from gateway import views
from gateway.http.params import BadParameter, bad_request, browse_args
from gateway.views import clients, cluster, groups, messages, shares, throughput, topics, transactions


def json_response(value, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(views.as_json(value)), status=status, content_type="application/json")


def not_found(what: str) -> web.Response:
    return json_response({"error": f"{what} does not exist"}, status=404)


def routes(broker) -> list[web.RouteDef]:
    def one(view, what: str):
        async def handler(request: web.Request) -> web.Response:
            found = view(broker, request.match_info["name"])
            return json_response(found) if found is not None else not_found(what)
        return handler

    def every(view):
        async def handler(request: web.Request) -> web.Response:
            return json_response(view(broker))
        return handler

    async def browse(request: web.Request) -> web.Response:
        try:
            args = browse_args(request.query)
        except BadParameter as exc:
            return bad_request(str(exc))
        result = messages.browse(broker, request.match_info["name"], **args)
        if result is None:
            return not_found("topic")
        return json_response(result, status=400 if result.error else 200)

    async def clients_and_telemetry(request: web.Request) -> web.Response:
        return json_response({"connections": clients.list_clients(broker),
                              "telemetry": clients.telemetry_clients(broker)})

    return [
        web.get("/api/cluster", every(cluster.cluster)),
        web.get("/api/topics", every(topics.list_topics)),
        web.get("/api/topics/{name}", one(topics.topic, "topic")),
        web.get("/api/topics/{name}/messages", browse),
        web.get("/api/groups", every(groups.list_groups)),
        web.get("/api/groups/{name}", one(groups.group, "group")),
        web.get("/api/share-groups", every(shares.list_share_groups)),
        web.get("/api/share-groups/{name}", one(shares.share_group, "share group")),
        web.get("/api/transactions", every(transactions.list_transactions)),
        web.get("/api/clients", clients_and_telemetry),
        web.get("/api/throughput", every(throughput.sample)),
    ]

"""GET /api/...: the console's data as JSON, from the same gateway.views functions the pages render."""

from __future__ import annotations

import json

from aiohttp import web

from gateway import views
from gateway.views import topics


def json_response(value, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(views.as_json(value)), status=status, content_type="application/json")


def not_found(what: str) -> web.Response:
    return json_response({"error": f"{what} does not exist"}, status=404)


def routes(broker) -> list[web.RouteDef]:
    async def list_topics(request: web.Request) -> web.Response:
        return json_response(topics.list_topics(broker))

    async def one_topic(request: web.Request) -> web.Response:
        view = topics.topic(broker, request.match_info["name"])
        return json_response(view) if view is not None else not_found("topic")

    return [web.get("/api/topics", list_topics), web.get("/api/topics/{name}", one_topic)]

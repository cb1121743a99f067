"""The console's HTML pages: jinja2 templates over gateway.views (the JSON twins are in api.py)."""

from __future__ import annotations

import os

import jinja2
from aiohttp import web

from gateway.views import topics

TEMPLATES = os.path.join(os.path.dirname(__file__), "templates")
STATIC = os.path.join(os.path.dirname(__file__), "static")
_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True,
                          lstrip_blocks=True)


def render(name: str, status: int = 200, **context) -> web.Response:
    return web.Response(text=_env.get_template(name).render(**context), status=status, content_type="text/html")


def routes(broker) -> list[web.RouteDef]:
    async def topics_page(request: web.Request) -> web.Response:
        return render("topics.html", page="topics", topics=topics.list_topics(broker))

    return [web.get("/", lambda request: web.HTTPFound("/topics")), web.get("/topics", topics_page),
            web.static("/static", STATIC)]

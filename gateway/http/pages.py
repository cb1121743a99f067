"""The console's HTML pages: jinja2 templates over gateway.views; forms POST to actions (Kafka requests
to the broker's own handlers, gateway.http.actions) and redirect back with a notice or an error."""

from __future__ import annotations

import os
import time
from urllib.parse import quote, urlencode

import jinja2
from aiohttp import web

from gateway.http import actions
from gateway.http.params import BadParameter, browse_args, configs_from_text, headers_from_text, optional_int
from gateway.views import clients, cluster, groups, messages, shares, topics, transactions

TEMPLATES = os.path.join(os.path.dirname(__file__), "templates")
STATIC = os.path.join(os.path.dirname(__file__), "static")
RESETS = ("earliest", "latest", "offset", "timestamp", "shift-by")
_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True,
                          lstrip_blocks=True)
_env.filters["ms"] = lambda ms: time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z" \
    if isinstance(ms, int) and ms >= 0 else "-"
_env.filters["q"] = lambda s: quote(str(s), safe="")


def render(request: web.Request, name: str, status: int = 200, **context) -> web.Response:
    context.setdefault("notice", request.query.get("notice"))
    context.setdefault("error", request.query.get("error"))
    return web.Response(text=_env.get_template(name).render(**context), status=status, content_type="text/html")


def back(path: str, *, notice: str | None = None, error: str | None = None) -> web.HTTPSeeOther:
    query = urlencode({k: v for k, v in (("notice", notice), ("error", error)) if v})
    return web.HTTPSeeOther(path + ("?" + query if query else ""))


def topic_path(name: str) -> str:
    return f"/topics/{quote(name, safe='')}"


def group_path(group_id: str) -> str:
    return f"/groups/{quote(group_id, safe='')}"


def _missing(request, what: str) -> web.Response:
    return render(request, "missing.html", status=404, what=what)


def routes(broker) -> list[web.RouteDef]:
    async def cluster_page(request):
        return render(request, "cluster.html", page="cluster", cluster=cluster.cluster(broker),
                      storage=cluster.storage_properties(broker))

    async def topics_page(request):
        internal = request.query.get("internal") == "1"
        return render(request, "topics.html", page="topics", topics=topics.list_topics(broker, internal=internal),
                      internal=internal)

    async def topic_page(request):
        view = topics.topic(broker, request.match_info["name"])
        if view is None:
            return _missing(request, f"topic {request.match_info['name']}")
        return render(request, "topic.html", page="topics", topic=view)

    async def messages_page(request):
        name = request.match_info["name"]
        try:
            args = browse_args(request.query)
        except BadParameter as exc:
            args, error = None, str(exc)
        result = messages.browse(broker, name, **args) if args is not None else None
        if result is None and args is not None:
            return _missing(request, f"topic {name}")
        view = topics.topic(broker, name)
        return render(request, "messages.html", page="topics", topic=view, result=result, args=args or {},
                      error=(result.error if result is not None else error), starts=messages.STARTS)

    async def groups_page(request):
        return render(request, "groups.html", page="groups", groups=groups.list_groups(broker))

    async def group_page(request):
        view = groups.group(broker, request.match_info["name"])
        if view is None:
            return _missing(request, f"group {request.match_info['name']}")
        return render(request, "group.html", page="groups", group=view, resets=RESETS)

    async def shares_page(request):
        return render(request, "shares.html", page="shares", groups=shares.list_share_groups(broker))

    async def share_page(request):
        view = shares.share_group(broker, request.match_info["name"])
        if view is None:
            return _missing(request, f"share group {request.match_info['name']}")
        return render(request, "share.html", page="shares", group=view)

    async def transactions_page(request):
        return render(request, "transactions.html", page="transactions",
                      transactions=transactions.list_transactions(broker))

    async def clients_page(request):
        return render(request, "clients.html", page="clients", clients=clients.list_clients(broker),
                      telemetry=clients.telemetry_clients(broker))

    async def throughput_page(request):
        return render(request, "throughput.html", page="throughput")

    # -- actions (POST, then back to the page) --

    async def create_topic(request):
        form = await request.post()
        name = form.get("name", "").strip()
        try:
            await actions.create_topic(broker, name, optional_int(form.get("partitions"), "partitions") or -1,
                                       configs_from_text(form.get("configs", "")))
        except (actions.ActionError, BadParameter) as exc:
            raise back("/topics", error=f"create {name}: {exc}")
        raise back(topic_path(name), notice=f"created topic {name}")

    async def alter_configs(request):
        name = request.match_info["name"]
        form = await request.post()
        try:
            delete = [n.strip() for n in form.getall("delete", []) if n.strip()]
            await actions.alter_topic_configs(broker, name, configs_from_text(form.get("set", "")), delete)
        except (actions.ActionError, BadParameter) as exc:
            raise back(topic_path(name), error=f"configure {name}: {exc}")
        raise back(topic_path(name), notice=f"configs of {name} changed")

    async def empty_topic(request):
        name = request.match_info["name"]
        try:
            lows = await actions.empty_topic(broker, name)
        except actions.ActionError as exc:
            raise back(topic_path(name), error=f"empty {name}: {exc}")
        raise back(topic_path(name), notice=f"emptied {name}: log start offsets now "
                   + ", ".join(f"{p}:{o}" for p, o in sorted(lows.items())))

    async def delete_topic(request):
        name = request.match_info["name"]
        try:
            await actions.delete_topic(broker, name)
        except actions.ActionError as exc:
            raise back(topic_path(name), error=f"delete {name}: {exc}")
        raise back("/topics", notice=f"deleted topic {name}")

    async def produce(request):
        name = request.match_info["name"]
        form = await request.post()
        try:
            key = form.get("key", "")
            value = form.get("value", "")
            partition, offset = await actions.produce(
                broker, name, None if form.get("null_value") else value.encode("utf-8"),
                key=key.encode("utf-8") if key != "" else None, headers=headers_from_text(form.get("headers", "")),
                partition=optional_int(form.get("partition"), "partition"))
        except (actions.ActionError, BadParameter) as exc:
            raise back(topic_path(name), error=f"produce to {name}: {exc}")
        raise back(topic_path(name), notice=f"produced to {name}-{partition} at offset {offset}")

    async def reset_offsets(request):
        group_id = request.match_info["name"]
        form = await request.post()
        here = group_path(group_id)
        try:
            to = form.get("to", "")
            if to not in RESETS:
                raise BadParameter(f"reset to one of {', '.join(RESETS)}")
            value = optional_int(form.get("value"), "value")
            if to in ("offset", "timestamp", "shift-by") and value is None:
                raise BadParameter(f"--to {to} needs a value")
            partition = optional_int(form.get("partition"), "partition")
            targets = actions.reset_targets(broker, group_id, form.get("topic", ""), to, value,
                                            [partition] if partition is not None else None)
            await actions.commit_offsets(broker, group_id, targets)
        except (actions.ActionError, BadParameter) as exc:
            raise back(here, error=f"reset {group_id}: {exc}")
        raise back(here, notice=f"reset {group_id} to {to}: " + ", ".join(
            f"{t}-{p}:{o}" for (t, p), o in sorted(targets.items())))

    async def delete_offsets(request):
        group_id = request.match_info["name"]
        form = await request.post()
        here = group_path(group_id)
        try:
            topic = form.get("topic", "")
            partition = optional_int(form.get("partition"), "partition")
            t = broker.logs.get(topic)
            partitions = [partition] if partition is not None else list(range(len(t.partitions))) if t else [0]
            await actions.delete_offsets(broker, group_id, topic, partitions)
        except (actions.ActionError, BadParameter) as exc:
            raise back(here, error=f"delete offsets of {group_id}: {exc}")
        if group_id not in broker.groups.groups:
            raise back("/groups", notice=f"deleted the offsets of {group_id} for {topic}; the group is gone")
        raise back(here, notice=f"deleted the offsets of {group_id} for {topic}")

    async def delete_group(request):
        group_id = request.match_info["name"]
        try:
            await actions.delete_group(broker, group_id)
        except actions.ActionError as exc:
            raise back(group_path(group_id), error=f"delete {group_id}: {exc}")
        raise back("/groups", notice=f"deleted group {group_id}")

    async def home(request):
        raise web.HTTPFound("/cluster")

    return [
        web.get("/", home),
        web.get("/cluster", cluster_page),
        web.get("/topics", topics_page),
        web.post("/topics", create_topic),
        web.get("/topics/{name}", topic_page),
        web.get("/topics/{name}/messages", messages_page),
        web.post("/topics/{name}/configs", alter_configs),
        web.post("/topics/{name}/empty", empty_topic),
        web.post("/topics/{name}/delete", delete_topic),
        web.post("/topics/{name}/produce", produce),
        web.get("/groups", groups_page),
        web.get("/groups/{name}", group_page),
        web.post("/groups/{name}/reset", reset_offsets),
        web.post("/groups/{name}/delete-offsets", delete_offsets),
        web.post("/groups/{name}/delete", delete_group),
        web.get("/shares", shares_page),
        web.get("/shares/{name}", share_page),
        web.get("/transactions", transactions_page),
        web.get("/clients", clients_page),
        web.get("/throughput", throughput_page),
        web.static("/static", STATIC),
    ]

"""The control API, /v1/... on --http-port: the cluster's state, broker and leadership operations, and
faults (gateway/faults), as JSON. README "Testing with Ottla" documents every route.

    GET    /v1/cluster                                  brokers (alive, paused, fenced), controller, partitions
    POST   /v1/brokers/{id}/stop|start|pause|resume     -> the broker's state
    POST   /v1/partitions/{topic}/{partition}/leader    {"broker": id}
    POST   /v1/partitions/{topic}/{partition}/isr       {"brokers": [id, ...]}
    POST   /v1/coordinators                             {"kind": "group"|"transaction", "key": k, "broker": id}
    POST   /v1/faults                                   a fault spec -> 201 {"id": n, ...}
    GET    /v1/faults                                   {"faults": [... each with "fired"]}
    GET    /v1/faults/{id}                              one fault
    GET    /v1/faults/{id}/wait?fired=N&timeout_ms=T    answers once it fired N times (408 at the timeout)
    DELETE /v1/faults/{id}, DELETE /v1/faults           remove one, or all

Errors are {"error": "..."} with 400 (bad body), 404 (no such broker, partition or fault), 409 (the
cluster refused the operation) or 501 (this broker has no such operation: one node without --brokers).
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from gateway.faults import FaultSpecError

MAX_WAIT_MS = 600_000


def _json(value, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(value), status=status, content_type="application/json")


def _error(status: int, message: str) -> web.Response:
    return _json({"error": message}, status)


async def _body(request: web.Request) -> dict:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise web.HTTPBadRequest(text=json.dumps({"error": "the body is not JSON"}), content_type="application/json")
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text=json.dumps({"error": "the body is a JSON object"}),
                                 content_type="application/json")
    return body


def _int(text: str, what: str) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        raise web.HTTPBadRequest(text=json.dumps({"error": f"{what}: not an integer: {text!r}"}),
                                 content_type="application/json")


def nodes(broker) -> list[dict]:
    """Every broker of the cluster (one without --brokers)."""
    found = getattr(broker, "nodes", None)
    if found is None:
        return [{"id": broker.node_id, "host": broker.host, "port": broker.port, "alive": True, "paused": False,
                 "fenced": False}]
    out = []
    for node_id, node in sorted(found.items()):
        host, port = _address(node)
        out.append({"id": node_id, "host": host, "port": port, "alive": bool(getattr(node, "alive", True)),
                    "paused": bool(getattr(node, "paused", False)), "fenced": bool(getattr(node, "fenced", False))})
    return out


def _address(node) -> tuple[str | None, int | None]:
    host, port = getattr(node, "host", None), getattr(node, "port", None)
    if host is None:
        listeners = getattr(node, "listeners", None) or getattr(node, "advertised", None) or ()
        first = listeners[0] if isinstance(listeners, (list, tuple)) and listeners else None
        host = getattr(first, "advertised_host", None) or getattr(first, "host", None)
        port = getattr(first, "advertised_port", None) or getattr(first, "port", None)
    return host, port


def partition_state(broker, topic, index: int) -> dict:
    state = getattr(broker, "partition_state", None)
    if state is None:
        return {"partition": index, "leader": broker.node_id, "leader_epoch": 0, "replicas": [broker.node_id],
                "isr": [broker.node_id], "offline": []}
    s = state(topic.name, index)
    get = s.get if isinstance(s, dict) else lambda k, d=None: getattr(s, k, d)
    return {"partition": index, "leader": get("leader"), "leader_epoch": get("leader_epoch", get("epoch")),
            "replicas": list(get("replicas") or ()), "isr": list(get("isr") or ()),
            "offline": list(get("offline") or get("offline_replicas") or ())}


def cluster(broker) -> dict:
    topics = []
    for name in sorted(broker.logs.topics):
        topic = broker.logs.get(name)
        topics.append({"name": name, "internal": topic.is_internal,
                       "partitions": [partition_state(broker, topic, i) for i in range(len(topic.partitions))]})
    controller = getattr(broker, "controller_id", None)
    return {"cluster_id": broker.cluster_id, "controller": controller if controller is not None else broker.node_id,
            "brokers": nodes(broker), "topics": topics, "faults": len(broker.faults.faults)}


async def _operate(broker, name: str, *args):
    """Call a cluster operation: (result, None) or (None, an error response)."""
    method = getattr(broker, name, None)
    if method is None:
        return None, _error(501, f"{name}: this broker has no such operation (start it with --brokers N)")
    try:
        result = method(*args)
        if asyncio.iscoroutine(result):
            result = await result
    except KeyError as exc:
        return None, _error(404, f"{name}: no such {exc.args[0] if exc.args else 'thing'}")
    except (ValueError, RuntimeError) as exc:
        return None, _error(409, f"{name}: {exc}")
    return result, None


def routes(broker) -> list[web.RouteDef]:
    faults = broker.faults

    async def get_cluster(request: web.Request) -> web.Response:
        return _json(cluster(broker))

    async def broker_operation(request: web.Request) -> web.Response:
        node_id = _int(request.match_info["id"], "broker")
        operation = request.match_info["operation"]
        if node_id not in {n["id"] for n in nodes(broker)}:
            return _error(404, f"no broker {node_id}")
        _, failed = await _operate(broker, f"{operation}_node", node_id)
        if failed is not None:
            return failed
        return _json(next(n for n in nodes(broker) if n["id"] == node_id))

    def _partition(request):
        topic = broker.logs.get(request.match_info["topic"])
        index = _int(request.match_info["partition"], "partition")
        if topic is None or not 0 <= index < len(topic.partitions):
            return None, index, _error(404, f"no partition {request.match_info['topic']}-{index}")
        return topic, index, None

    async def move_leader(request: web.Request) -> web.Response:
        body = await _body(request)
        topic, index, missing = _partition(request)
        if missing is not None:
            return missing
        if not isinstance(body.get("broker"), int):
            return _error(400, 'the body is {"broker": id}')
        _, failed = await _operate(broker, "move_leader", topic.name, index, body["broker"])
        return failed or _json(partition_state(broker, topic, index))

    async def set_isr(request: web.Request) -> web.Response:
        body = await _body(request)
        topic, index, missing = _partition(request)
        if missing is not None:
            return missing
        ids = body.get("brokers")
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            return _error(400, 'the body is {"brokers": [id, ...]}')
        _, failed = await _operate(broker, "set_isr", topic.name, index, ids)
        return failed or _json(partition_state(broker, topic, index))

    async def move_coordinator(request: web.Request) -> web.Response:
        body = await _body(request)
        kind, key, node_id = body.get("kind"), body.get("key"), body.get("broker")
        if kind not in ("group", "transaction", "share") or not isinstance(key, str) or not isinstance(node_id, int):
            return _error(400, 'the body is {"kind": "group"|"transaction"|"share", "key": "...", "broker": id}')
        result, failed = await _operate(broker, "move_coordinator", kind, key, node_id)
        return failed or _json({"kind": kind, "key": key, "broker": node_id})

    async def add_fault(request: web.Request) -> web.Response:
        body = await _body(request)
        try:
            fault = faults.add(body)
        except FaultSpecError as exc:
            return _error(400, str(exc))
        return _json(fault.to_json(), 201)

    async def list_faults(request: web.Request) -> web.Response:
        return _json({"faults": faults.list()})

    def _fault(request):
        fault = faults.get(_int(request.match_info["id"], "fault id"))
        if fault is None:
            raise web.HTTPNotFound(text=json.dumps({"error": f"no fault {request.match_info['id']}"}),
                                   content_type="application/json")
        return fault

    async def get_fault(request: web.Request) -> web.Response:
        return _json(_fault(request).to_json())

    async def wait_fault(request: web.Request) -> web.Response:
        fault = _fault(request)
        times = _int(request.query.get("fired", "1"), "fired")
        timeout_ms = min(_int(request.query.get("timeout_ms", "30000"), "timeout_ms"), MAX_WAIT_MS)
        reached = asyncio.get_running_loop().create_future()

        def done() -> None:
            if not reached.done():
                reached.set_result(None)

        faults.on_fired(fault.id, times, done)
        try:
            await asyncio.wait_for(reached, max(timeout_ms, 0) / 1000)
        except asyncio.TimeoutError:
            return _json({**fault.to_json(), "error": f"fired {fault.fired} of {times} times in {timeout_ms} ms"}, 408)
        finally:
            faults.cancel_wait(fault.id, done)
        return _json(fault.to_json())

    async def delete_fault(request: web.Request) -> web.Response:
        fault = _fault(request)
        faults.remove(fault.id)
        return _json(fault.to_json())

    async def clear_faults(request: web.Request) -> web.Response:
        removed = faults.list()
        faults.clear()
        return _json({"faults": removed})

    return [
        web.get("/v1/cluster", get_cluster),
        web.post(r"/v1/brokers/{id}/{operation:stop|start|pause|resume}", broker_operation),
        web.post("/v1/partitions/{topic}/{partition}/leader", move_leader),
        web.post("/v1/partitions/{topic}/{partition}/isr", set_isr),
        web.post("/v1/coordinators", move_coordinator),
        web.post("/v1/faults", add_fault),
        web.get("/v1/faults", list_faults),
        web.delete("/v1/faults", clear_faults),
        web.get(r"/v1/faults/{id}", get_fault),
        web.get(r"/v1/faults/{id}/wait", wait_fault),
        web.delete(r"/v1/faults/{id}", delete_fault),
    ]

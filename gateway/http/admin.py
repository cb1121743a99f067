"""The admin operations Kafka's protocol has no request for (formerly gateway/admin_http.py, `--admin-port`).

    POST /share-groups/replay-dlq   {"topic": "dlq.orders", "max": 100, "source_topic": "orders"}
         -> 200 {"dlq_topic": ..., "replayed": n, "missing": n, "remaining": n, "by_source": {...}}

Errors: 400 for a bad body, 404 for an unknown topic, 405 for another method, 413 for a body over
64 KiB. `ottla share-groups replay-dlq --admin HOST:PORT` is the client; both run gateway.share.replay.
"""

from __future__ import annotations

import json

import structlog
from aiohttp import web

from gateway.clock import now_ms
from gateway.share.replay import replay_dead_letters
from wire.errors import KafkaError

MAX_BODY = 64 * 1024
REPLAY_PATH = "/share-groups/replay-dlq"
log = structlog.get_logger("ottla.admin")


def handle(broker, method: str, path: str, body: bytes) -> tuple[int, dict]:
    """(status, JSON document) for one admin request: the endpoint without the sockets."""
    if path != REPLAY_PATH:
        return 404, {"error": f"no such endpoint: {path}"}
    if method != "POST":
        return 405, {"error": "use POST"}
    try:
        args = json.loads(body or b"{}")
        topic = args["topic"]
        max_records = args.get("max")
        source_topic = args.get("source_topic")
        if not isinstance(topic, str) or (max_records is not None and not isinstance(max_records, int)) \
                or (source_topic is not None and not isinstance(source_topic, str)):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return 400, {"error": 'expected {"topic": str, "max": int (optional), "source_topic": str (optional)}'}
    try:
        result = replay_dead_letters(broker.logs, broker.storage.state(), topic, now_ms=now_ms(),
                                     max_records=max_records, source_topic=source_topic)
    except KafkaError as error:
        return 404, {"error": error.message}
    log.info("dead_letters_replayed", **result.as_dict())
    return 200, result.as_dict()


def routes(broker) -> list[web.RouteDef]:
    async def replay(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"error": "body too large"}, status=413)
        body = await request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return web.json_response({"error": "body too large"}, status=413)
        status, document = handle(broker, request.method, REPLAY_PATH, body)
        return web.json_response(document, status=status)

    return [web.route("*", REPLAY_PATH, replay)]

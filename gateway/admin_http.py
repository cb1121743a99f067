"""The broker's admin endpoint: a few operations Kafka's protocol has no request for, over plain HTTP/1.1.

Off unless `ottla serve --admin-port P` (it binds the broker's --host, and has no authentication: keep it
on loopback). One request per connection, JSON in and out:

    POST /share-groups/replay-dlq   {"topic": "dlq.orders", "max": 100, "source_topic": "orders"}
         -> 200 {"dlq_topic": ..., "replayed": n, "missing": n, "remaining": n, "by_source": {...}}

Errors: 400 for a bad body, 404 for an unknown path or topic, 413 for a body over 64 KiB.
`ottla share-groups replay-dlq --admin HOST:PORT` is the client; both run gateway.share.replay.
"""

from __future__ import annotations

import asyncio
import json

import structlog

from gateway.clock import now_ms
from gateway.share.replay import replay_dead_letters
from wire.errors import KafkaError

MAX_BODY = 64 * 1024
log = structlog.get_logger("ottla.admin")
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 413: "Payload Too Large"}


def handle(broker, method: str, path: str, body: bytes) -> tuple[int, dict]:
    """(status, JSON document) for one admin request: the endpoint without the sockets."""
    if path != "/share-groups/replay-dlq":
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


class AdminServer:
    def __init__(self, broker) -> None:
        self.broker = broker
        self.server: asyncio.AbstractServer | None = None

    async def start(self, host: str, port: int) -> int:
        self.server = await asyncio.start_server(self._serve, host, port)
        return self.server.sockets[0].getsockname()[1]

    def close(self) -> None:
        if self.server is not None:
            self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(10):
                status, document = await self._request(reader)
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, ValueError, asyncio.LimitOverrunError):
            status, document = 400, {"error": "malformed request"}
        payload = json.dumps(document).encode()
        head = (f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n").encode()
        try:
            writer.write(head + payload)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _request(self, reader: asyncio.StreamReader) -> tuple[int, dict]:
        method, path, _ = (await reader.readuntil(b"\r\n")).decode("latin-1").split(" ", 2)
        length = 0
        while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length > MAX_BODY or length < 0:
            return 413, {"error": "body too large"}
        body = await reader.readexactly(length)
        return handle(self.broker, method, path, body)

"""Bounded work on the event loop: what one request may cost before the others get their turn.

Every request shares one event loop with every other connection, so nothing one request does may
hold it for long: a second client's ApiVersions round trip must stay under 50 ms whatever the first
one sent. Three tools, used by the pipeline and by the handlers whose work grows with the request:

- `decode_request` / `encode_response`: the codecs run on the loop up to `LOOP_ELEMENTS` array
  elements (a few ms: every Produce, Fetch or heartbeat stays there), and past that the whole
  decode or encode is redone on one worker thread. The loop keeps running meanwhile: a pure-Python
  thread gives the GIL back every `sys.getswitchinterval()` (5 ms) to a loop that wants it. One
  worker, so several huge requests queue for it instead of sharing the GIL with the loop.
- `Pacer`: a handler loop over thousands of partitions or topics calls `await pacer.step()` per
  item and yields the loop once `SLICE_S` of work has passed.
- `collapse_partitions`: duplicates of one partition in a request are one entry, as Kafka's
  request classes make them (a LinkedHashMap keyed by topic-partition: the first one's position,
  the last one's fields), so 200,000 copies of a partition cost one lookup.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from wire.codec import WorkLimit, decode, encode

LOOP_ELEMENTS = 2000  # array elements a codec may handle on the loop (~2-5 us each: under 10 ms)
SLICE_S = 0.005  # a handler yields the loop after this much work
_CLOCK_EVERY = 32  # Pacer reads the clock every this many steps

_executor: ThreadPoolExecutor | None = None


def _worker() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ottla-codec")
    return _executor


async def decode_request(message, version: int, payload: bytes, offset: int):
    """`wire.codec.decode`, moved off the loop when the request holds more than LOOP_ELEMENTS elements."""
    try:
        return decode(message, version, payload, offset, max_elements=LOOP_ELEMENTS)
    except WorkLimit:
        return await asyncio.get_running_loop().run_in_executor(_worker(), decode, message, version, payload, offset)


def decode_request_on_loop(message, version: int, payload: bytes, offset: int):
    """The first try of `decode_request`, for callers that cannot await: raises WorkLimit when big."""
    return decode(message, version, payload, offset, max_elements=LOOP_ELEMENTS)


async def decode_off_loop(message, version: int, payload: bytes, offset: int):
    return await asyncio.get_running_loop().run_in_executor(_worker(), decode, message, version, payload, offset)


async def encode_response(message, version: int, response: dict) -> bytes:
    """`wire.codec.encode`, moved off the loop when the response holds more than LOOP_ELEMENTS elements
    (the handler has returned: nothing else touches the dict while the worker encodes it)."""
    try:
        return encode(message, version, response, max_elements=LOOP_ELEMENTS)
    except WorkLimit:
        return await asyncio.get_running_loop().run_in_executor(_worker(), encode, message, version, response)


class Pacer:
    """Yields the event loop once a handler's loop has run for SLICE_S since it last yielded."""

    __slots__ = ("_deadline", "_count")

    def __init__(self) -> None:
        self._deadline = time.perf_counter() + SLICE_S
        self._count = 0

    async def step(self) -> None:
        """After one small item of work (a partition, a topic name)."""
        self._count += 1
        if self._count >= _CLOCK_EVERY:
            await self.checkpoint()

    async def checkpoint(self) -> None:
        """After a bigger piece of work: yields now if the slice is used up."""
        self._count = 0
        if time.perf_counter() >= self._deadline:
            await asyncio.sleep(0)
            self._deadline = time.perf_counter() + SLICE_S


def collapse_partitions(topics, topic_key, partition_key: str):
    """Request topics with each (topic, partition) once: Kafka's LinkedHashMap semantics (the first
    occurrence's position, the last occurrence's fields), regrouped into consecutive topics as Kafka's
    responses are. Returns (topics as [(topic request, [partition requests])], duplicated keys).
    `topic_key(topic_request)` names a topic (its name, or its id in topic-id versions)."""
    latest: dict[tuple, tuple] = {}
    duplicated: set[tuple] = set()
    for topic_request in topics:
        name = topic_key(topic_request)
        for p in topic_request.partitions:
            key = (name, p[partition_key])
            if key in latest:
                duplicated.add(key)
            latest[key] = (topic_request, p)
    grouped: list[tuple] = []
    last_name = object()
    for (name, _), (topic_request, p) in latest.items():
        if name != last_name:
            grouped.append((topic_request, []))
            last_name = name
        grouped[-1][1].append(p)
    return grouped, duplicated

"""Bounded work on the event loop: what one request may cost before the others get their turn.

Every request shares one event loop with every other connection, so nothing one request does may
hold it for long: a second client's ApiVersions round trip must stay under 50 ms whatever the first
one sent (tests/adversarial/test_work_bounds.py). The tools, used by the pipeline and by the
handlers whose work grows with the request:

- `decode_off_loop` / `encode_off_loop`: the pipeline (gateway.pipeline's `_serve`) runs the codecs on
  the loop up to `LOOP_ELEMENTS` array elements (a few ms: every Produce, Fetch or heartbeat stays
  there), and past that the whole decode or encode is redone with these on one worker thread. The loop keeps running meanwhile: a pure-Python
  thread gives the GIL back every switch interval, set to `OFFLOAD_SWITCH_INTERVAL_S` while big
  work runs (the default 5 ms would cost the loop up to 5 ms per event). One worker, so several
  huge requests queue for it instead of sharing the GIL with the loop. `is_big` / `release`: the
  pipeline frees such a request (a million objects: 100+ ms) on the worker too.
- `Pacer`: a handler loop over thousands of partitions or topics calls `await pacer.step()` per
  item and yields the loop once `SLICE_S` of work has passed.
- Big work holds back the collector's full passes (`BigWork`): a full collection walks every object
  of the heap with the GIL held (hundreds of ms once a request has made a million), so while an
  offloaded codec or a long handler runs only the young generations are collected; full passes
  resume when the last one ends, over a heap its garbage has already left (reference counting
  frees it as soon as the request is done).
- `collapse_partitions`: duplicates of one partition in a request are one entry, as Kafka's
  request classes make them (a LinkedHashMap keyed by topic-partition: the first one's position,
  the last one's fields), so 200,000 copies of a partition cost one lookup.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from wire.codec import Parts, decode, encode

LOOP_ELEMENTS = 500  # array elements a codec may handle on the loop (~2-5 us each: a few ms)
SLICE_S = 0.002  # a handler yields the loop after this much work (a round trip takes a few loop turns)
_CLOCK_EVERY = 32  # Pacer reads the clock every this many steps

# While a worker runs, the loop thread waits up to this long for the GIL each time it wants it back
# (the interpreter's default, 5 ms, would cost the loop up to 5 ms per event).
OFFLOAD_SWITCH_INTERVAL_S = 0.0005

_executor: ThreadPoolExecutor | None = None
NO_FULL_COLLECTIONS = 1 << 30  # gc's third threshold while big work runs
RESTORE_AFTER_S = 0.1  # full collections resume this long after the last big work ends


class BigWork:
    """Counts the big pieces of work running; while any is, the GIL switches often and the collector
    makes no full passes (see the module docstring). Use as `with BIG_WORK:`."""

    def __init__(self) -> None:
        self.running = 0
        self._saved: tuple | None = None
        self._restore: asyncio.TimerHandle | None = None

    def __enter__(self) -> "BigWork":
        if self._restore is not None:
            self._restore.cancel()
            self._restore = None
        if self._saved is None:
            self._saved = (sys.getswitchinterval(), gc.get_threshold())
            sys.setswitchinterval(OFFLOAD_SWITCH_INTERVAL_S)
            young, middle, _ = self._saved[1]
            gc.set_threshold(young, middle, NO_FULL_COLLECTIONS)
        self.running += 1
        return self

    def __exit__(self, *exc) -> None:
        self.running -= 1
        if self.running == 0 and self._saved is not None:
            try:  # a request's steps (decode, handler, encode) come one after another: restore once after
                self._restore = asyncio.get_running_loop().call_later(RESTORE_AFTER_S, self._restore_now)
            except RuntimeError:
                self._restore_now()

    def _restore_now(self) -> None:
        self._restore = None
        if self.running == 0 and self._saved is not None:
            interval, thresholds = self._saved
            sys.setswitchinterval(interval)
            gc.set_threshold(*thresholds)
            self._saved = None


BIG_WORK = BigWork()


async def _off_loop(function, *args):
    with BIG_WORK:
        return await asyncio.get_running_loop().run_in_executor(_worker(), function, *args)


def _worker() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ottla-codec")
    return _executor


async def decode_off_loop(message, version: int, payload: bytes, offset: int):
    """`wire.codec.decode` on the worker, for a caller whose decode on the loop (max_elements=LOOP_ELEMENTS,
    views=True) raised WorkLimit: gateway.pipeline's `_serve`, the one place that tries the loop first
    (no coroutine a request for the common case). `records` fields are views of the payload."""
    request = await _off_loop(decode, message, version, payload, offset, None, True)
    _mark_big(request)
    return request


async def encode_off_loop(message, version: int, response: dict) -> bytes | Parts:
    """`wire.codec.encode` on the worker, for a caller whose encode on the loop (max_elements=LOOP_ELEMENTS,
    gather=True) raised WorkLimit (the handler has returned: nothing else touches the dict while the
    worker encodes it). Big bytes values (a Fetch's records) are not copied: such a body comes as
    wire.codec.Parts."""
    body = await _off_loop(encode, message, version, response, None, True)
    _mark_big(response)
    return body


class Pacer:
    """Yields the event loop once a handler's loop has run for SLICE_S since it last yielded."""

    __slots__ = ("_deadline", "_count", "_big")

    def __init__(self) -> None:
        self._deadline = time.perf_counter() + SLICE_S
        self._count = 0
        self._big = False

    def __del__(self) -> None:
        if self._big:
            self._big = False
            BIG_WORK.__exit__()

    async def step(self) -> None:
        """After one small item of work (a partition, a topic name)."""
        self._count += 1
        if self._count >= _CLOCK_EVERY:
            await self.checkpoint()

    def due(self) -> bool:
        """step() without the coroutine, for loops over thousands of items: after one small item, True
        when the caller must `await pacer.checkpoint()` (every _CLOCK_EVERY items)."""
        self._count += 1
        return self._count >= _CLOCK_EVERY

    async def checkpoint(self) -> None:
        """After a bigger piece of work: yields now if the slice is used up."""
        self._count = 0
        if time.perf_counter() >= self._deadline:
            if not self._big:  # this handler's work is big: hold full collections back until it ends
                self._big = True
                BIG_WORK.__enter__()
            await asyncio.sleep(0)
            self._deadline = time.perf_counter() + SLICE_S


async def collapse_partitions(topics, topic_key, partition_key: str, pacer: "Pacer | None" = None):
    """Request topics with each (topic, partition) once: Kafka's LinkedHashMap semantics (the first
    occurrence's position, the last occurrence's fields), regrouped into consecutive topics as Kafka's
    responses are. Returns (topics as [(topic request, [partition requests])], duplicated keys).
    `topic_key(topic_request)` names a topic (its name, or its id in topic-id versions)."""
    latest: dict[tuple, tuple] = {}
    duplicated: set[tuple] = set()
    pacer = pacer or Pacer()
    for topic_request in topics:
        name = topic_key(topic_request)
        for p in topic_request["partitions"]:
            if pacer.due():
                await pacer.checkpoint()
            key = (name, p[partition_key])
            if key in latest:
                duplicated.add(key)
            latest[key] = (topic_request, p)
    grouped: list[tuple] = []
    last_name = object()
    for (name, _), (topic_request, p) in latest.items():
        if pacer.due():
            await pacer.checkpoint()
        if name != last_name:
            grouped.append((topic_request, []))
            last_name = name
        grouped[-1][1].append(p)
    return grouped, duplicated



_big: set[int] = set()  # ids of structures a codec handled off the loop (see is_big)
moved_off_loop = _big  # (the same set: empty, a request's is_big need not be called)


def _mark_big(obj) -> None:
    if len(_big) > 1000:  # ids of requests whose handler failed are never asked about: forget them
        _big.clear()
    _big.add(id(obj))


def is_big(obj) -> bool:
    """Whether a codec moved this request or response off the loop (asked once per structure)."""
    if obj is None or not _big:
        return False
    try:
        _big.remove(id(obj))
        return True
    except KeyError:
        return False


async def release(held: list) -> None:
    """Drop a big structure on the worker thread: `held` must hold the only reference to it (freeing
    a million objects is itself 100+ ms of work, and where the last reference goes, it is done)."""
    await _off_loop(held.clear)

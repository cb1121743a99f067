"""The broker-wide byte budget for what connections make the broker hold (`queued.max.request.bytes`).

Kafka's `SimpleMemoryPool` (KIP-72), non-strict as Kafka uses it: a connection may start reading a
request while any budget is left, and reserves the request's whole declared size before reading its
payload (so a request that got a reservation can always complete: two half-read requests never wait
on each other). When the budget is spent, connections stop reading and wait, first come first
served, until requests finish and responses are sent. Ottla also charges unsent response bytes here,
since it answers a connection's requests concurrently where Kafka answers one at a time.

Bound: `used` never exceeds `limit` plus one request per reading connection (the non-strict
admission) plus the responses of requests already running when the budget ran out.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable

from gateway import malloc_tuning

UNBOUNDED = -1  # Kafka's default for queued.max.request.bytes
GIVE_BACK_EVERY_S = 1.0  # at most one heap give-back a second while a loop runs (see _give_back_soon)


class MemoryPool:
    __slots__ = ("limit", "used", "peak", "_waiters")

    def __init__(self, limit: int = UNBOUNDED) -> None:
        self.limit = limit  # <= 0: unbounded
        self.used = 0
        self.peak = 0  # the most held since the pool was last empty after a burst (gateway/malloc_tuning.py)
        self._waiters: collections.deque[Callable[[], None]] = collections.deque()

    @property
    def available(self) -> bool:
        """Whether a connection may start reading another request now."""
        return self.limit <= 0 or self.used < self.limit

    def charge(self, n: int) -> None:
        """Count n bytes held (a reservation, buffered bytes, an unsent response)."""
        self.used += n
        if self.used > self.peak:
            self.peak = self.used

    def release(self, n: int) -> None:
        self.used -= n
        if self.used <= 0 and self.peak >= malloc_tuning.GIVE_BACK_AFTER_BYTES:  # a burst is over
            self.peak = 0
            _give_back_soon()
        if self._waiters and self.available:
            self._wake()

    def wait(self, callback: Callable[[], None]) -> None:
        """Call `callback` (once) when budget is available again; connections queue in order."""
        self._waiters.append(callback)

    def cancel(self, callback: Callable[[], None]) -> None:
        try:
            self._waiters.remove(callback)
        except ValueError:
            pass

    def _wake(self) -> None:
        # each woken connection reserves before the next one is woken: one request at a time
        while self._waiters and self.available:
            self._waiters.popleft()()

    @property
    def waiting(self) -> int:
        return len(self._waiters)


_last_give_back = float("-inf")
_pending: asyncio.TimerHandle | None = None


def _give_back_soon() -> None:
    """malloc_tuning.give_back() now if the last one was GIVE_BACK_EVERY_S ago or more (or no loop runs),
    else once when that second is up. A burst's memory is still returned within a second, but a consumer
    whose every Fetch answer is a burst (48 MB at 1,000 partitions) no longer has the heap trimmed after
    each one and every next answer's pages faulted in again: that was about 0.3 ms of broker CPU per MB."""
    global _pending
    now = time.monotonic()
    if now - _last_give_back >= GIVE_BACK_EVERY_S:
        _give_back(now)
        return
    if _pending is not None:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # (no loop: a tool, a test) now
        _give_back(now)
        return
    _pending = loop.call_later(_last_give_back + GIVE_BACK_EVERY_S - now, _deferred_give_back)


def _deferred_give_back() -> None:
    global _pending
    _pending = None
    _give_back(time.monotonic())


def _give_back(now: float) -> None:
    global _last_give_back
    _last_give_back = now
    malloc_tuning.give_back()

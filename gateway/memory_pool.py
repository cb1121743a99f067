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

import collections
from collections.abc import Callable

from gateway import malloc_tuning

UNBOUNDED = -1  # Kafka's default for queued.max.request.bytes


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
            malloc_tuning.give_back()
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

"""Named deadlines fired in order by `run_due(now_ms)`: the coordinator's only notion of time passing."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Hashable

Action = Callable[[int], None]  # called with its deadline, in ms


class Timers:
    """At most one deadline per key; scheduling a key again replaces its deadline, cancel drops it.

    An action receives its own deadline as the time it fires at (a late `run_due` replays what would
    have happened on time) and may schedule or cancel timers itself; one `run_due` call keeps firing
    until nothing is due at its `now_ms`.

    `on_schedule`, when set, hears every deadline scheduled: the owner of the clock (the server's
    loop.call_at) re-arms itself when a new deadline is earlier than the one it waits for.
    """

    def __init__(self) -> None:
        self._entries: dict[Hashable, tuple[int, int, Action]] = {}
        self._heap: list[tuple[int, int, Hashable]] = []
        self._seq = itertools.count()
        self.on_schedule: Callable[[int], None] | None = None

    def schedule(self, key: Hashable, deadline_ms: int, action: Action) -> None:
        if self.on_schedule is not None:
            self.on_schedule(deadline_ms)
        seq = next(self._seq)
        self._entries[key] = (deadline_ms, seq, action)
        heapq.heappush(self._heap, (deadline_ms, seq, key))

    def cancel(self, key: Hashable) -> None:
        self._entries.pop(key, None)

    def deadline(self, key: Hashable) -> int | None:
        entry = self._entries.get(key)
        return entry[0] if entry else None

    def next_deadline(self) -> int | None:
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    def run_due(self, now_ms: int, limit: int | None = None) -> int:
        """Fire every action whose deadline is at or before now_ms, earliest first; returns how many.
        With a limit, at most that much work: an action counts 1, or the number it returns (a batch of
        work returns its size); the rest stay due (next_deadline() is in the past)."""
        fired = 0
        while limit is None or fired < limit:
            self._drop_stale()
            if not self._heap or self._heap[0][0] > now_ms:
                return fired
            deadline, _, key = heapq.heappop(self._heap)
            _, _, action = self._entries.pop(key)
            fired += action(deadline) or 1
        return fired

    def __len__(self) -> int:
        return len(self._entries)

    def _drop_stale(self) -> None:
        heap = self._heap
        while heap:
            deadline, seq, key = heap[0]
            entry = self._entries.get(key)
            if entry is not None and entry[1] == seq:
                return
            heapq.heappop(heap)

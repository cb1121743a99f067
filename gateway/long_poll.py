"""Long-poll waiting shared by Fetch and ShareFetch: sleep until any watched listener list fires."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

# gateway/service_times (the latency bench) sets this: called with (woken, resumed) perf_counter seconds of
# each wait a listener ended, so the bench sees how long a woken Fetch waits for the loop. None: off.
observe: Callable[[float, float], None] | None = None


async def wait_for_any(listener_lists: Iterable[list], timeout_s: float) -> None:
    """Register one wake-up callback on every list (a PartitionLog's or a share manager's listeners)
    and return at the first call or when the timeout passes, removing the callback from each list."""
    lists = list(listener_lists)
    loop = asyncio.get_running_loop()
    woken = loop.create_future()
    woken_at = []

    def wake(*_) -> None:
        if not woken.done():
            woken.set_result(None)
            if observe is not None:
                woken_at.append(time.perf_counter())

    def timed_out() -> None:
        if not woken.done():
            woken.set_result(None)

    for listeners in lists:
        listeners.append(wake)
    # a loop timer, not asyncio.timeout: a handler's first step runs outside any task (gateway.pipeline
    # starts it inline), and a cancellation still reaches `await woken` unchanged
    timer = loop.call_later(timeout_s, timed_out)
    try:
        await woken
    finally:
        timer.cancel()
        for listeners in lists:
            try:
                listeners.remove(wake)
            except ValueError:
                pass
    if woken_at and observe is not None:
        observe(woken_at[0], time.perf_counter())

"""Long-poll waiting shared by Fetch and ShareFetch: sleep until any watched listener list fires."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable


async def wait_for_any(listener_lists: Iterable[list], timeout_s: float) -> None:
    """Register one wake-up callback on every list (a PartitionLog's or a share manager's listeners)
    and return at the first call or when the timeout passes, removing the callback from each list."""
    lists = list(listener_lists)
    loop = asyncio.get_running_loop()
    woken = loop.create_future()

    def wake(*_) -> None:
        if not woken.done():
            woken.set_result(None)

    for listeners in lists:
        listeners.append(wake)
    # a loop timer, not asyncio.timeout: a handler's first step runs outside any task (gateway.pipeline
    # starts it inline), and a cancellation still reaches `await woken` unchanged
    timer = loop.call_later(timeout_s, wake)
    try:
        await woken
    finally:
        timer.cancel()
        for listeners in lists:
            try:
                listeners.remove(wake)
            except ValueError:
                pass

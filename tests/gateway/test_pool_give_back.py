"""The memory pool gives the heap back after a burst at most once a second while a loop runs: at once if
the last give-back was longer ago, else once when the second is up (never lost, never doubled)."""

import asyncio
import time

from gateway import malloc_tuning, memory_pool
from gateway.memory_pool import MemoryPool

BURST = 20 << 20


def _burst(pool: MemoryPool) -> None:
    pool.charge(BURST)
    pool.release(BURST)


def test_bursts_within_a_second_give_back_once_now_and_once_later(monkeypatch):
    calls = []
    monkeypatch.setattr(malloc_tuning, "give_back", lambda: calls.append(time.monotonic()))
    monkeypatch.setattr(memory_pool, "_last_give_back", float("-inf"))
    monkeypatch.setattr(memory_pool, "_pending", None)
    monkeypatch.setattr(memory_pool, "GIVE_BACK_EVERY_S", 0.05)

    async def main():
        pool = MemoryPool()
        _burst(pool)
        assert len(calls) == 1  # the first burst: at once
        _burst(pool)
        _burst(pool)
        assert len(calls) == 1 and memory_pool._pending is not None  # the next ones: one deferred give-back
        deadline = time.monotonic() + 10
        while len(calls) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert len(calls) == 2 and memory_pool._pending is None
        assert calls[1] - calls[0] >= 0.05 * 0.9  # (the loop's clock may round the timer down a little)
        await asyncio.sleep(0.06)
        assert len(calls) == 2  # nothing more without a burst

    asyncio.run(main())


def test_without_a_loop_it_gives_back_at_once(monkeypatch):
    calls = []
    monkeypatch.setattr(malloc_tuning, "give_back", lambda: calls.append(1))
    monkeypatch.setattr(memory_pool, "_last_give_back", float("-inf"))
    monkeypatch.setattr(memory_pool, "_pending", None)
    pool = MemoryPool()
    _burst(pool)
    _burst(pool)
    assert calls == [1, 1]

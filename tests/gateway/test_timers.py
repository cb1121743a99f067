"""The server's timer: loop.call_at at the coordinators' next deadline, re-armed earlier on demand, no polling."""

import asyncio

from gateway.broker import Broker
from gateway.clock import now_ms
from gateway.config import Config
from gateway.groups.timers import Timers
from gateway.server import DeadlineTimer
from partitions.memory import MemoryStorage


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 10))


def test_fires_at_the_deadline_only_and_re_arms_with_what_tick_returns():
    async def main():
        calls = []
        due = [now_ms() + 80, now_ms() + 160]

        def tick(now):
            calls.append(now)
            while due and due[0] <= now:
                due.pop(0)
            return due[0] if due else None

        timer = DeadlineTimer(asyncio.get_running_loop(), tick)
        timer.arm(due[0])
        await asyncio.sleep(0.3)
        assert len(calls) == 2  # once per deadline: nothing polls in between
        assert not due
        timer.stop()
    run(main())


def test_an_earlier_deadline_moves_the_wake_up_and_a_later_one_does_not():
    async def main():
        calls = []
        timer = DeadlineTimer(asyncio.get_running_loop(), lambda now: calls.append(now))
        start = now_ms()
        timer.arm(start + 400)
        timer.arm(start + 50)   # earlier: moves it
        timer.arm(start + 1000)  # later: the earlier wake-up stays
        await asyncio.sleep(0.2)
        assert len(calls) == 1 and calls[0] - start >= 49
        await asyncio.sleep(0.3)
        assert len(calls) == 1  # the 400 ms arm was replaced, not kept as a second wake-up
        timer.stop()
    run(main())


def test_a_failing_tick_is_logged_and_retried_not_fatal():
    async def main():
        calls = []

        def tick(now):
            calls.append(now)
            if len(calls) == 1:
                raise RuntimeError("coordinator bug")
            return None

        timer = DeadlineTimer(asyncio.get_running_loop(), tick)
        timer.fire_now()
        await asyncio.sleep(1.2)
        assert len(calls) == 2
    run(main())


def test_every_coordinator_deadline_reaches_the_server_timer():
    broker = Broker(Config(memory=True), MemoryStorage())
    heard = []
    broker.on_deadline = heard.append
    timers = Timers()
    broker.add_timer_source(type("Source", (), {"tick": lambda self, now: None,
                                                "next_deadline": lambda self: timers.next_deadline()})(), timers)
    timers.schedule("x", 12345, lambda deadline: None)
    assert heard == [12345]
    assert broker.tick(0) == 12345  # and its next deadline counts in the broker's
    responses = []
    broker.groups.join_group(group_id="g", member_id="", group_instance_id=None, session_timeout_ms=10000,
                             rebalance_timeout_ms=10000, protocol_type="consumer", protocols=[("range", b"")],
                             client_id="c", client_host="/127.0.0.1", api_version=4, now_ms=1000,
                             respond=responses.append)
    assert heard[1:], "a JoinGroup's timers are heard by the server"

"""What the request pipeline calls: record a request against its client's quotas and return the
throttle time (KafkaApis' maybeRecordAndGetThrottleTimeMs calls), and time a handler's steps on the
event loop for request_percentage. Only reached when some quota is stored (QuotaManager.active).
"""

from __future__ import annotations

import time

from gateway.quota_enforcement.manager import FETCH, PRODUCE, REQUEST, user_of

PRODUCE_KEY, FETCH_KEY = 0, 1
EXEMPT = frozenset({17, 18, 36})  # SaslHandshake, ApiVersions, SaslAuthenticate: never throttled
_NS_TO_PERCENT = 100.0 / 1e9  # Kafka's nanosToPercentage: a second of one thread is 100 %


def wants_timing(ctx) -> bool:
    """Whether this request's client has a request_percentage quota (its handler is then timed)."""
    return ctx.api_key not in EXEMPT and ctx.broker.quota_manager.quota(
        REQUEST, user_of(ctx.principal), ctx.client_id or "") is not None


def record_request(ctx, request_bytes: int, busy_ns: int) -> int:
    """Produce bytes and request time, before the response is encoded: the throttle in ms."""
    manager = ctx.broker.quota_manager
    user, client_id = user_of(ctx.principal), ctx.client_id or ""
    now = manager.now_ms()
    throttle = 0
    if ctx.api_key == PRODUCE_KEY:
        throttle = manager.record(PRODUCE, user, client_id, request_bytes, now)
    if busy_ns and ctx.api_key not in EXEMPT:
        throttle = max(throttle, manager.record(REQUEST, user, client_id, busy_ns * _NS_TO_PERCENT, now))
    return throttle


def record_fetch(ctx, response_bytes: int) -> int:
    """A Fetch response's bytes against consumer_byte_rate; over quota the bytes are taken back (the
    response goes out without data, KIP-219) and the throttle is returned."""
    manager = ctx.broker.quota_manager
    user, client_id = user_of(ctx.principal), ctx.client_id or ""
    now = manager.now_ms()
    throttle = manager.record(FETCH, user, client_id, response_bytes, now)
    if throttle:
        manager.unrecord(FETCH, user, client_id, response_bytes, now)
    return throttle


def without_data(response: dict) -> dict:
    """The Fetch response a throttled consumer gets: every partition's records left out."""
    for topic in response.get("responses", ()):
        for p in topic["partitions"]:
            if p.get("records"):
                p["records"] = b""
                p["aborted_transactions"] = None
    return response


class Timed:
    """Await a coroutine, adding up the time spent in its steps on the loop (not the time it waits)."""

    __slots__ = ("coro", "busy_ns")

    def __init__(self, coro) -> None:
        self.coro = coro
        self.busy_ns = 0

    def __await__(self):
        coro, send, value, error = self.coro, self.coro.send, None, None
        while True:
            started = time.perf_counter_ns()
            try:
                yielded = coro.throw(error) if error is not None else send(value)
            except StopIteration as stop:
                self.busy_ns += time.perf_counter_ns() - started
                return stop.value
            self.busy_ns += time.perf_counter_ns() - started
            try:
                value, error = (yield yielded), None
            except BaseException as exc:  # noqa: BLE001 - handed to the coroutine, as a task would
                value, error = None, exc


def fetch_window_bytes(ctx) -> int:
    """The most one Fetch may return under the client's consumer_byte_rate: the quota over the
    measured window, (quota.window.num - 1) * quota.window.size.seconds (getMaxValueInQuotaWindow)."""
    manager = ctx.broker.quota_manager
    if not manager.active:
        return 2**31 - 1
    found = manager.quota(FETCH, user_of(ctx.principal), ctx.client_id or "")
    if found is None:
        return 2**31 - 1
    return max(1, int(found[0] * (manager.samples - 1) * manager.window_ms / 1000))

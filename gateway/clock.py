"""Wall-clock milliseconds: the gateway reads the clock and passes `now_ms` into state machines."""

import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000

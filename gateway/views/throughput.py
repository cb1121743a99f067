"""Throughput: the cumulative produce/consume counters (gateway.metrics) at a moment; the console's
chart polls this and plots the differences (rates), so the server keeps no history."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class ThroughputSample:
    time_s: float  # wall clock (seconds since the epoch)
    bytes_in: int  # Produce: record bytes appended, every topic
    messages_in: int
    bytes_out: int  # Fetch: record bytes sent, every topic
    requests: int
    topics: dict[str, tuple[int, int]]  # topic -> (bytes in, bytes out)


def sample(broker) -> ThroughputSample:
    m = broker.metrics
    if m is None:
        return ThroughputSample(time.time(), 0, 0, 0, 0, {})
    names = set(m.bytes_in) | set(m.bytes_out)
    return ThroughputSample(time.time(), sum(m.bytes_in.values()), sum(m.messages_in.values()),
                            sum(m.bytes_out.values()), sum(m.requests.values()),
                            {n: (m.bytes_in.get(n, 0), m.bytes_out.get(n, 0)) for n in sorted(names)})

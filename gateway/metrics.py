"""Prometheus metrics: plain int counters on the hot path, turned into samples at scrape time.

`Metrics` is what the broker holds as `broker.metrics` while the HTTP server runs (None otherwise:
the hot path then pays one attribute check). The pipeline counts requests and their latency per
API, Produce counts bytes and messages in per topic, Fetch bytes out per topic: dict increments, no
locks, no prometheus_client objects. `exposition(broker)` builds every sample at scrape time with a
custom collector: the counters above, and gauges read from the broker's state then (offsets, group
lag, connections, RocksDB properties, share groups, transactions). prometheus_client is imported
only here, lazily.

Names follow Kafka's JMX exporter and kafka_exporter (what dashboards already use); see
/metrics's HELP lines and README "Console and metrics".
"""

from __future__ import annotations

from bisect import bisect_left

# Request latency histogram buckets, seconds (Prometheus' le bounds; +Inf is implied).
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The counters. Only the event-loop thread touches them."""

    __slots__ = ("requests", "latency", "bytes_in", "messages_in", "bytes_out", "produce_requests",
                 "fetch_requests")

    def __init__(self) -> None:
        self.requests: dict[tuple[int, int], int] = {}  # (api key, version) -> requests answered
        # api key -> [count per bucket..., count above the last bucket, sum of seconds]
        self.latency: dict[int, list] = {}
        self.bytes_in: dict[str, int] = {}  # topic -> record bytes appended by Produce
        self.messages_in: dict[str, int] = {}  # topic -> records appended by Produce
        self.bytes_out: dict[str, int] = {}  # topic -> record bytes sent by Fetch
        self.produce_requests = 0  # partition appends by Produce (Kafka counts TotalProduceRequests so too)
        self.fetch_requests = 0  # Fetch responses

    def request(self, api_key: int, version: int, seconds: float) -> None:
        key = (api_key, version)
        requests = self.requests
        requests[key] = requests.get(key, 0) + 1
        histogram = self.latency.get(api_key)
        if histogram is None:
            histogram = self.latency[api_key] = [0] * (len(LATENCY_BUCKETS) + 1) + [0.0]
        histogram[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        histogram[-1] += seconds

    def produced(self, topic: str, size: int, count: int) -> None:
        self.produce_requests += 1
        self.bytes_in[topic] = self.bytes_in.get(topic, 0) + size
        self.messages_in[topic] = self.messages_in.get(topic, 0) + count

    def fetched_response(self, topics: list[dict]) -> None:
        """A Fetch response's record bytes, per topic (what is sent, after the fetch session's filtering)."""
        self.fetch_requests += 1
        bytes_out = self.bytes_out
        for topic in topics:
            size = 0
            for partition in topic["partitions"]:
                size += len(partition["records"] or b"")
            if size:
                name = topic["topic"]
                bytes_out[name] = bytes_out.get(name, 0) + size


def exposition(broker) -> tuple[bytes, str]:
    """(body, content type) of one scrape."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_LATEST

    from gateway.metrics_collector import BrokerCollector

    registry = CollectorRegistry(auto_describe=False)
    registry.register(BrokerCollector(broker))
    return generate_latest(registry), CONTENT_TYPE_LATEST

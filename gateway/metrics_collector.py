"""The scrape-time collector behind /metrics (gateway.metrics holds the counters it reads)."""

from __future__ import annotations

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from gateway.metrics import LATENCY_BUCKETS
from wire.messages import APIS


def _api_name(api_key: int) -> str:
    api = APIS.get(api_key)
    return api.name if api is not None else str(api_key)


class BrokerCollector:
    def __init__(self, broker) -> None:
        self.broker = broker

    def collect(self):
        broker = self.broker
        metrics = getattr(broker, "metrics", None)
        if metrics is not None:
            yield from self._counters(metrics)
        yield from self._topics(broker)

    def _counters(self, m):
        prefix = "kafka_server_brokertopicmetrics_"
        for name, doc, values in (("bytesin", "Record bytes appended by Produce, per topic", m.bytes_in),
                                  ("bytesout", "Record bytes sent by Fetch, per topic", m.bytes_out),
                                  ("messagesin", "Records appended by Produce, per topic", m.messages_in)):
            family = CounterMetricFamily(prefix + name, doc, labels=["topic"])
            for topic, value in sorted(values.items()):
                family.add_metric([topic], value)
            yield family
        requests = CounterMetricFamily("kafka_network_requestmetrics_requests", "Requests answered, per API "
                                       "and version", labels=["request", "version"])
        for (api_key, version), count in sorted(m.requests.items()):
            requests.add_metric([_api_name(api_key), str(version)], count)
        yield requests
        latency = HistogramMetricFamily("kafka_network_requestmetrics_totaltime_seconds",
                                        "Time from a request's arrival to its response being queued, per API",
                                        labels=["request"])
        for api_key, counts in sorted(m.latency.items()):
            cumulative, buckets = 0, []
            for bound, count in zip(LATENCY_BUCKETS + (float("inf"),), counts):
                cumulative += count
                buckets.append((_le(bound), cumulative))
            latency.add_metric([_api_name(api_key)], buckets, counts[-1])
        yield latency

    def _topics(self, broker):
        current = GaugeMetricFamily("kafka_topic_partition_current_offset", "High watermark of a partition",
                                    labels=["topic", "partition"])
        oldest = GaugeMetricFamily("kafka_topic_partition_oldest_offset", "Log start offset of a partition",
                                   labels=["topic", "partition"])
        partitions = GaugeMetricFamily("kafka_topic_partitions", "Partitions of a topic", labels=["topic"])
        for name, topic in sorted(broker.logs.topics.items()):
            partitions.add_metric([name], len(topic.partitions))
            for log in topic.partitions:
                current.add_metric([name, str(log.index)], log.high_watermark)
                oldest.add_metric([name, str(log.index)], log.log_start_offset)
        yield from (partitions, current, oldest)


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(bound)

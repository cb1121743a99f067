"""The scrape-time collector behind /metrics (gateway.metrics holds the counters it reads)."""

from __future__ import annotations

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from gateway.metrics import LATENCY_BUCKETS
from gateway.txn.state import COMPLETED
from wire.messages import APIS

COMPLETED_NAMES = {str(state) for state in COMPLETED}


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
        yield from self._groups(broker)
        yield from self._broker(broker)
        yield from self._shares(broker)
        yield from self._transactions(broker)

    def _counters(self, m):
        prefix = "kafka_server_brokertopicmetrics_"
        for name, doc, values in (("bytesin", "Record bytes appended by Produce, per topic", m.bytes_in),
                                  ("bytesout", "Record bytes sent by Fetch, per topic", m.bytes_out),
                                  ("messagesin", "Records appended by Produce, per topic", m.messages_in)):
            family = CounterMetricFamily(prefix + name, doc, labels=["topic"])
            for topic, value in sorted(values.items()):
                family.add_metric([topic], value)
            yield family
        yield CounterMetricFamily(prefix + "totalproducerequests", "Partition appends by Produce",
                                  value=m.produce_requests)
        yield CounterMetricFamily(prefix + "totalfetchrequests", "Fetch responses", value=m.fetch_requests)
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

    def _groups(self, broker):
        from gateway.views.groups import offsets

        current = GaugeMetricFamily("kafka_consumergroup_current_offset", "Committed offset of a group",
                                    labels=["consumergroup", "topic", "partition"])
        current_sum = GaugeMetricFamily("kafka_consumergroup_current_offset_sum", "Committed offsets of a group "
                                        "on a topic, summed", labels=["consumergroup", "topic"])
        lag = GaugeMetricFamily("kafka_consumergroup_lag", "High watermark minus the committed offset",
                                labels=["consumergroup", "topic", "partition"])
        lag_sum = GaugeMetricFamily("kafka_consumergroup_lag_sum", "Lag of a group on a topic, summed",
                                    labels=["consumergroup", "topic"])
        members = GaugeMetricFamily("kafka_consumergroup_members", "Members of a group", labels=["consumergroup"])
        for group_id, group in sorted(broker.groups.groups.items()):
            members.add_metric([group_id], len(group.members))
            if group.group_type == "share":
                continue
            sums: dict[str, list[int]] = {}
            for o in offsets(broker, group_id):
                current.add_metric([group_id, o.topic, str(o.partition)], o.committed)
                total = sums.setdefault(o.topic, [0, 0])
                total[0] += o.committed
                if o.lag is not None:
                    lag.add_metric([group_id, o.topic, str(o.partition)], o.lag)
                    total[1] += o.lag
            for topic, (committed, behind) in sorted(sums.items()):
                current_sum.add_metric([group_id, topic], committed)
                lag_sum.add_metric([group_id, topic], behind)
        yield from (current, current_sum, lag, lag_sum, members)

    def _broker(self, broker):
        from gateway.views.cluster import cluster, storage_properties

        view = cluster(broker)
        yield GaugeMetricFamily("kafka_brokers", "Brokers in the cluster", value=len(view.nodes))
        connections = GaugeMetricFamily("kafka_server_socketservermetrics_connection_count", "Open connections",
                                        labels=["listener"])
        by_listener: dict[str, int] = {}
        for connection in list(broker.connections):
            name = getattr(connection, "listener_name", "PLAINTEXT")
            by_listener[name] = by_listener.get(name, 0) + 1
        for name, count in sorted(by_listener.items()) or [("PLAINTEXT", 0)]:
            connections.add_metric([name], count)
        yield connections
        yield GaugeMetricFamily("kafka_log_size_bytes", "Record bytes in every partition log",
                                value=view.size_bytes)
        props = storage_properties(broker)
        for prop, name, doc in (
                ("rocksdb.total-sst-files-size", "ottla_rocksdb_sst_files_size_bytes", "RocksDB SST files, bytes"),
                ("rocksdb.estimate-live-data-size", "ottla_rocksdb_live_data_size_bytes", "RocksDB live data, bytes"),
                ("rocksdb.estimate-pending-compaction-bytes", "ottla_rocksdb_pending_compaction_bytes",
                 "Bytes RocksDB estimates compaction has to rewrite"),
                ("rocksdb.cur-size-all-mem-tables", "ottla_rocksdb_memtables_size_bytes", "RocksDB memtables, bytes")):
            if prop in props:
                yield GaugeMetricFamily(name, doc, value=props[prop])

    def _shares(self, broker):
        from gateway.views.shares import list_share_groups, share_group

        records = GaugeMetricFamily("ottla_sharegroup_records", "Records of a share partition's in-flight window "
                                    "by state", labels=["sharegroup", "topic", "partition", "state"])
        members = GaugeMetricFamily("ottla_sharegroup_members", "Members of a share group", labels=["sharegroup"])
        dlq = GaugeMetricFamily("ottla_sharegroup_dlq_records", "Records in a share group's dead-letter topic",
                                labels=["sharegroup", "topic"])
        for summary in list_share_groups(broker):
            view = share_group(broker, summary.group_id)
            members.add_metric([view.group_id], len(view.members))
            if view.dlq_topic and view.dlq_records >= 0:
                dlq.add_metric([view.group_id, view.dlq_topic], view.dlq_records)
            for p in view.partitions:
                for state in ("available", "acquired", "acknowledged", "archiving", "archived"):
                    records.add_metric([view.group_id, p.topic, str(p.partition), state], getattr(p, state))
        yield from (records, members, dlq)

    def _transactions(self, broker):
        from gateway.views.transactions import list_transactions

        states = GaugeMetricFamily("ottla_transactions", "Transactional ids by state", labels=["state"])
        counts: dict[str, int] = {}
        oldest = None
        for txn in list_transactions(broker):
            counts[txn.state] = counts.get(txn.state, 0) + 1
            if txn.open and txn.started_ms >= 0:
                oldest = txn.started_ms if oldest is None else min(oldest, txn.started_ms)
        for state, count in sorted(counts.items()):
            states.add_metric([state], count)
        yield states
        yield GaugeMetricFamily("ottla_transactions_open", "Transactions running or being completed",
                                value=sum(c for s, c in counts.items() if s not in COMPLETED_NAMES))
        if oldest is not None:
            yield GaugeMetricFamily("ottla_transaction_oldest_open_start_seconds", "When the oldest open "
                                    "transaction started (Unix seconds)", value=oldest / 1000)


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(bound)

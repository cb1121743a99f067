"""/metrics after a real produce (confluent-kafka) and a group consume, parsed with prometheus_client's
parser: bytes and messages in are what was stored, bytes out what the consumer fetched, lag what it
left unconsumed. Ottla-only (the HTTP port): skipped against KAFKA_BOOTSTRAP."""

import time
import urllib.request

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from compat_tests import samples, topics
from compat_tests.rawkafka import stored_batches

pytestmark = pytest.mark.groups


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_bytes_messages_and_lag_match_what_the_clients_did(broker, bootstrap):
    if broker.http_port is None:
        pytest.skip("/metrics is Ottla's HTTP port; KAFKA_BOOTSTRAP points at another broker")
    topic = samples.unique_name("metrics")
    group = samples.unique_name("metrics-group")
    topics.create_topic(bootstrap, topic, partitions=1)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 500, "client.id": "metrics-test"})
    for i in range(10):
        producer.produce(topic, key=b"k%d" % i, value=b"value-%03d" % i, headers=[("h", b"1")])
    assert producer.flush(30) == 0
    stored = sum(12 + b.batch_length for b in stored_batches(bootstrap, topic))  # log overhead + batch
    after_produce = scrape(broker.http_port)
    by_topic = (("topic", topic),)
    assert after_produce[("kafka_server_brokertopicmetrics_bytesin_total", by_topic)] == stored
    assert after_produce[("kafka_server_brokertopicmetrics_messagesin_total", by_topic)] == 10
    assert after_produce[("kafka_topic_partition_current_offset", (("partition", "0"), ("topic", topic)))] == 10
    assert after_produce[("kafka_server_brokertopicmetrics_bytesout_total", by_topic)] == stored  # stored_batches

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                         "enable.auto.commit": False, "client.id": "metrics-test"})
    try:
        consumer.subscribe([topic])
        got = []
        deadline = time.monotonic() + 40
        while len(got) < 4 and time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is not None and message.error() is None:
                got.append(message)
        assert len(got) >= 4
        consumer.commit(offsets=[TopicPartition(topic, 0, 4)], asynchronous=False)
        lag = ("kafka_consumergroup_lag", (("consumergroup", group), ("partition", "0"), ("topic", topic)))
        deadline = time.monotonic() + 20
        while True:
            metrics = scrape(broker.http_port)
            if metrics.get(lag) == 6 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert metrics[lag] == 6
        assert metrics[("kafka_consumergroup_lag_sum", (("consumergroup", group), ("topic", topic)))] == 6
        assert metrics[("kafka_consumergroup_current_offset", (("consumergroup", group), ("partition", "0"),
                                                              ("topic", topic)))] == 4
        assert metrics[("kafka_consumergroup_members", (("consumergroup", group),))] == 1
        # the consumer fetched the whole log once more (it does not stop at 4): at least stored bytes more
        assert metrics[("kafka_server_brokertopicmetrics_bytesout_total", by_topic)] >= 2 * stored
        fetches = sum(v for (n, labels), v in metrics.items()
                      if n == "kafka_network_requestmetrics_requests_total" and dict(labels)["request"] == "Fetch")
        assert fetches >= 1
        produce_latency = [v for (n, labels), v in metrics.items()
                           if n == "kafka_network_requestmetrics_totaltime_seconds_count"
                           and dict(labels)["request"] == "Produce"]
        assert produce_latency and produce_latency[0] >= 1
        assert metrics[("kafka_server_socketservermetrics_connection_count", (("listener", "PLAINTEXT"),))] >= 1
        if broker.managed:  # the session's Ottla runs on RocksDB: its size properties are exported
            assert metrics[("ottla_rocksdb_pending_compaction_bytes", ())] >= 0
            assert metrics[("ottla_rocksdb_live_data_size_bytes", ())] >= 0
            assert ("ottla_rocksdb_sst_files_size_bytes", ()) in metrics
    finally:
        consumer.close()

"""Client quotas enforced, seen through confluent-kafka (librdkafka): a producer over producer_byte_rate
and a consumer over consumer_byte_rate are held to within 20% of the quota and get throttle events
(throttle_time_ms in responses, KIP-219).

The rate is measured as Kafka measures it, over quota.window.num (11) samples of 1 s: a new client may
send a whole window's worth (10 s of quota) at once, and is then throttled until the window slides,
so what it gets is periodic with an 11 s period. The test measures over two whole periods (22 s from
the first delivery): the quota bounds that average; any 10 s slice of it is either the burst or the wait. Quotas are set with AlterClientQuotas for a client id unique
to the test, and removed afterwards, so this runs against any broker (KAFKA_BOOTSTRAP too)."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import Consumer, Producer

from compat_tests import samples
from tests.gateway.rawclient import RawClient

QUOTA = 100_000  # bytes per second
MEASURE_S = 22.0  # two quota windows (quota.window.num * quota.window.size.seconds)
VALUE = b"q" * 10_000
ALTER_CLIENT_QUOTAS = 49

pytestmark = pytest.mark.timeout(120)


def alter_quota(bootstrap: str, client_id: str, key: str, value: float | None) -> None:
    host, _, port = bootstrap.rpartition(":")
    raw = RawClient((host, int(port)))
    try:
        response = raw.request(ALTER_CLIENT_QUOTAS, 1, {"entries": [{
            "entity": [{"entity_type": "client-id", "entity_name": client_id}],
            "ops": [{"key": key, "value": value or 0.0, "remove": value is None}]}], "validate_only": False})
    finally:
        raw.close()
    assert response.entries[0].error_code == 0, response


@pytest.fixture
def quota(bootstrap):
    made = []

    def set_quota(client_id: str, key: str) -> None:
        alter_quota(bootstrap, client_id, key, QUOTA)
        made.append((client_id, key))

    yield set_quota
    for client_id, key in made:
        alter_quota(bootstrap, client_id, key, None)


def test_producer_is_held_to_producer_byte_rate(bootstrap, topic, quota):
    client_id = samples.unique_name("quota-producer")
    quota(client_id, "producer_byte_rate")
    throttles: list[int] = []
    delivered = []
    producer = Producer({"bootstrap.servers": bootstrap, "client.id": client_id, "linger.ms": 5,
                         "batch.size": 16_384, "acks": 1, "throttle_cb": lambda e: throttles.append(e.throttle_time),
                         "queue.buffering.max.kbytes": 256})

    def on_delivery(err, msg):
        if err is None:
            delivered.append((time.monotonic(), len(msg.value())))

    deadline = time.monotonic() + MEASURE_S + 5
    while time.monotonic() < deadline:
        try:
            producer.produce(topic, VALUE, on_delivery=on_delivery)
        except BufferError:
            producer.poll(0.05)
        producer.poll(0)
    producer.flush(30)
    start = delivered[0][0]
    in_window = sum(size for at, size in delivered if at - start <= MEASURE_S)
    rate = in_window / MEASURE_S
    assert throttles and max(throttles) > 0, "no throttle event: throttle_time_ms never reached the client"
    assert QUOTA * 0.8 <= rate <= QUOTA * 1.2, f"{rate:.0f} B/s over {MEASURE_S} s, quota {QUOTA}"


def test_consumer_is_held_to_consumer_byte_rate(bootstrap, topic, quota):
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    for _ in range(500):  # 5 MB, twice what the quota lets through in the measured time
        producer.produce(topic, VALUE)
    assert producer.flush(60) == 0
    client_id = samples.unique_name("quota-consumer")
    quota(client_id, "consumer_byte_rate")
    throttles: list[int] = []
    consumer = Consumer({"bootstrap.servers": bootstrap, "client.id": client_id, "group.id": client_id,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "fetch.max.bytes": 100_000, "max.partition.fetch.bytes": 100_000, "message.max.bytes": 100_000,
                         "throttle_cb": lambda e: throttles.append(e.throttle_time)})
    consumer.subscribe([topic])
    received = []
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is not None and msg.error() is None:
                received.append((time.monotonic(), len(msg.value())))
            if received and time.monotonic() - received[0][0] > MEASURE_S + 1:
                break
    finally:
        consumer.close()
    assert received, "nothing consumed"
    start = received[0][0]
    rate = sum(size for at, size in received if at - start <= MEASURE_S) / MEASURE_S
    assert throttles and max(throttles) > 0, "no throttle event: throttle_time_ms never reached the client"
    assert QUOTA * 0.8 <= rate <= QUOTA * 1.2, f"{rate:.0f} B/s over {MEASURE_S} s, quota {QUOTA}"

"""Share groups (KIP-932) through confluent-kafka's ShareConsumer (librdkafka 2.16, preview): the helpers.

Group configs go through IncrementalAlterConfigs on the GROUP resource, as against Kafka: share groups
start at share.auto.offset.reset=latest, so every test here sets earliest first.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterable

from confluent_kafka import AcknowledgeType, Consumer, Producer, ShareConsumer, TopicPartition
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic, ResourceType

CALL_TIMEOUT_S = 15.0


def set_group_configs(bootstrap: str, group: str, configs: dict[str, str]) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    resource = ConfigResource(ResourceType.GROUP, group, incremental_configs=[
        ConfigEntry(name, value, incremental_operation=AlterConfigOpType.SET) for name, value in configs.items()])
    for future in admin.incremental_alter_configs([resource]).values():
        future.result(CALL_TIMEOUT_S)


def create_topic(bootstrap: str, name: str, partitions: int = 1, configs: dict[str, str] | None = None) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(name, partitions, 1, config=configs or {})])
    for future in futures.values():
        future.result(CALL_TIMEOUT_S)


def produce(bootstrap: str, topic: str, values: Iterable[bytes], *, batch: int = 10, partition: int | None = None,
            headers: list | None = None) -> int:
    """Produce values, flushing every `batch` so they land in several record batches; how many."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    count = 0
    for value in values:
        kwargs = {"partition": partition} if partition is not None else {}
        producer.produce(topic, value=value, key=b"k%d" % count, headers=headers, **kwargs)
        count += 1
        if count % batch == 0:
            producer.flush(CALL_TIMEOUT_S)
    assert producer.flush(CALL_TIMEOUT_S) == 0
    return count


def share_consumer(bootstrap: str, group: str, topic: str, **config) -> ShareConsumer:
    consumer = ShareConsumer({"bootstrap.servers": bootstrap, "group.id": group,
                              **{k.replace("_", "."): v for k, v in config.items()}})
    consumer.subscribe([topic])
    return consumer


def poll(consumer: ShareConsumer, timeout: float = 0.5) -> list:
    messages = consumer.poll(timeout) or []
    errors = [m.error() for m in messages if m.error() is not None]
    assert not errors, errors
    return list(messages)


def read_all(bootstrap: str, topic: str, timeout: float = CALL_TIMEOUT_S, expect: int | None = None) -> list:
    """Every record of a one-partition topic, with an ordinary (classic) consumer from the beginning."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{time.monotonic_ns()}",
                         "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    found = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            found.append(message)
        elif message is None and expect is not None and len(found) >= expect:
            break
    consumer.close()
    return found


KILLED_CONSUMER = """
import sys, time
from confluent_kafka import ShareConsumer
c = ShareConsumer({"bootstrap.servers": sys.argv[1], "group.id": sys.argv[2],
                   "share.acknowledgement.mode": "explicit"})
c.subscribe([sys.argv[3]])
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    messages = [m for m in (c.poll(0.5) or []) if m.error() is None]
    if messages:
        print(" ".join(str(m.offset()) for m in messages), flush=True)
        time.sleep(60)  # holds its records until it is killed
"""


def consumer_killed_holding_records(bootstrap: str, group: str, topic: str) -> set[int]:
    """A share consumer in another process acquires records and is killed -9 holding them: their offsets."""
    proc = subprocess.Popen([sys.executable, "-c", KILLED_CONSUMER, bootstrap, group, topic],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
    finally:
        proc.kill()
        proc.wait(10)
    assert line.strip(), "the consumer that was to be killed got no records"
    return {int(o) for o in line.split()}


ACCEPT, RELEASE, REJECT = AcknowledgeType.ACCEPT, AcknowledgeType.RELEASE, AcknowledgeType.REJECT

"""Topic set-up for the compat tests, through kafka-python's KafkaAdminClient."""

from __future__ import annotations

import time

from kafka import KafkaAdminClient
from kafka.errors import TopicAlreadyExistsError

from compat_tests import rawkafka

ADMIN_TIMEOUT_MS = 10_000


def admin_client(bootstrap: str) -> KafkaAdminClient:
    return KafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="compat-admin",
        request_timeout_ms=ADMIN_TIMEOUT_MS,
    )


def create_topic(bootstrap: str, name: str, partitions: int = 1, timeout: float = 15.0) -> None:
    """Create `name` and wait (bounded) until every partition has a leader.

    Retries TOPIC_ALREADY_EXISTS only until the deadline: Kafka deletes topics asynchronously, so
    re-creating a just-deleted name may briefly be refused.
    """
    deadline = time.monotonic() + timeout
    admin = admin_client(bootstrap)
    try:
        while True:
            try:
                admin.create_topics(
                    {name: {"num_partitions": partitions, "replication_factor": 1}},
                    timeout_ms=ADMIN_TIMEOUT_MS,
                )
                break
            except TopicAlreadyExistsError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        admin.close()
    for partition in range(partitions):
        rawkafka.leader_address(bootstrap, name, partition, timeout=max(deadline - time.monotonic(), 1.0))


def wait_until_absent(list_topics, name: str, timeout: float = 10.0) -> set[str]:
    """Poll `list_topics()` (bounded) until `name` is gone; returns the last listing."""
    deadline = time.monotonic() + timeout
    while True:
        names = set(list_topics())
        if name not in names or time.monotonic() > deadline:
            return names
        time.sleep(0.2)

"""A broker for the log-lifecycle tests: Ottla with retention checks and the cleaner every 200 ms.

Kafka's defaults (5 minutes, 15 s) would make these tests wait; against KAFKA_BOOTSTRAP they are
skipped, since an external broker's intervals are not ours to set.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from compat_tests.conftest import Broker, free_port

INTERVAL_MS = "200"


class LifecycleBroker(Broker):
    def command(self) -> list[str]:
        return [*super().command(), "--log-retention-check-interval-ms", INTERVAL_MS,
                "--log-cleaner-backoff-ms", INTERVAL_MS]

    def data_bytes(self) -> int:
        """Bytes of every file under the data dir (RocksDB's SSTs, WAL, manifests)."""
        return sum(p.stat().st_size for p in Path(self.data_dir).rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def lifecycle_broker(tmp_path_factory):
    if os.environ.get("KAFKA_BOOTSTRAP"):
        pytest.skip("needs an Ottla this session starts, with short retention and cleaner intervals")
    root = tmp_path_factory.mktemp("ottla-lifecycle")
    broker = LifecycleBroker("127.0.0.1", free_port(), data_dir=root / "data", log_path=root / "broker.log")
    broker.data_dir.mkdir()
    broker.start()
    try:
        yield broker
    finally:
        broker.stop(signal.SIGTERM)

"""Fixtures for partitions/: every test runs against both engines, with a way to close and reopen."""

from __future__ import annotations

import pytest

from partitions import Logs
from partitions.memory import MemoryStorage
from partitions.rocks import RocksStorage
from wire.records import build_batch

T0 = 1_700_000_000_000


class Engine:
    """One storage engine under test; `reopen()` closes the Logs and loads a new one from the same data."""

    def __init__(self, kind: str, path) -> None:
        self.kind = kind
        self.path = str(path / "rocksdb")
        self._memory = MemoryStorage() if kind == "memory" else None
        self.logs: Logs | None = None

    def storage(self):
        return self._memory if self._memory is not None else RocksStorage(self.path)

    def open(self, **options) -> Logs:
        self.logs = Logs(self.storage(), **options)
        return self.logs

    def reopen(self, **options) -> Logs:
        self.close()
        return self.open(**options)

    def close(self) -> None:
        if self.logs is not None:
            self.logs.close()
            self.logs = None


@pytest.fixture(params=["memory", "rocks"])
def engine(request, tmp_path):
    engine = Engine(request.param, tmp_path)
    yield engine
    engine.close()


@pytest.fixture
def logs(engine) -> Logs:
    return engine.open()


def batch(values, *, t0: int = T0, **options) -> bytes:
    """A batch holding one record per value, keyed k<i>, timestamps t0, t0+1, ..."""
    return build_batch([(b"k%d" % i, value, [], t0 + i) for i, value in enumerate(values)], **options)


def idempotent(values, producer_id: int, producer_epoch: int, base_sequence: int, **options) -> bytes:
    return batch(values, producer_id=producer_id, producer_epoch=producer_epoch, base_sequence=base_sequence,
                 **options)

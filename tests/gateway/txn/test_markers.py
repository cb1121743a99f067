"""The broker's MarkerWriter: every marker of a transaction and the coordinator's completed state in one
atomic storage write, visible only once stored; on both engines, across a reopen."""

from __future__ import annotations

import pytest

from gateway.txn.coordinator import Markers
from gateway.txn.markers import LogMarkerWriter
from partitions.storage import StorageError
from tests.partitions.conftest import T0, engine, idempotent  # noqa: F401 (engine: the fixture)
from wire.errors import ErrorCode, KafkaError
from wire.records import CONTROL_MASK, iter_batches, read_header

PID = 7000
STATE = (b"Xtx", b"completed")


class Counting:
    """Wraps a storage engine: counts its writes, and fails append_many while `fail` is set."""

    def __init__(self, storage) -> None:
        self._storage = storage
        self.writes: list[str] = []
        self.fail = False

    def append(self, *args, **kwargs):
        self.writes.append("append")
        return self._storage.append(*args, **kwargs)

    def append_many(self, writes, states=()):
        self.writes.append("append_many")
        if self.fail:
            raise StorageError("disk on fire")
        return self._storage.append_many(writes, states)

    def __getattr__(self, name):
        return getattr(self._storage, name)


@pytest.fixture
def setup(engine):  # noqa: F811
    logs = engine.open()
    topic = logs.create_topic("t", 3)
    for partition in topic.partitions:
        partition.append(idempotent([b"a", b"b"], PID, 0, 0, transactional=True), T0)
    counting = Counting(logs.storage)
    logs.storage = counting
    return engine, logs, counting


def markers(commit=True, partitions=(("t", 0), ("t", 1), ("t", 2))):
    return Markers("tx", PID, 0, commit, list(partitions), STATE)


def test_all_markers_and_the_completed_state_are_one_write(setup):
    engine, logs, counting = setup
    assert LogMarkerWriter(logs).write(markers(), T0) is True
    assert counting.writes == ["append_many"]
    for partition in logs.get("t").partitions:
        assert (partition.log_end_offset, partition.last_stable_offset) == (3, 3)
    assert dict(logs.storage.scan_state(b"Xtx")) == {b"Xtx": b"completed"}
    logs = engine.reopen()
    for partition in logs.get("t").partitions:
        assert (partition.log_end_offset, partition.last_stable_offset) == (3, 3)
        control = [read_header(b, 0) for _, b in iter_batches(partition.read(0, 1 << 20))][-1]
        assert control.attributes & CONTROL_MASK
    assert dict(logs.storage.scan_state(b"Xtx")) == {b"Xtx": b"completed"}


def test_a_failed_write_stores_and_shows_nothing_and_a_retry_succeeds(setup):
    engine, logs, counting = setup
    counting.fail = True
    with pytest.raises(KafkaError) as raised:
        LogMarkerWriter(logs).write(markers(commit=False), T0)
    assert raised.value.code == ErrorCode.KAFKA_STORAGE_ERROR
    for partition in logs.get("t").partitions:
        assert (partition.log_end_offset, partition.last_stable_offset) == (2, 0)  # still open
    assert logs.storage.scan_state(b"Xtx") == []
    counting.fail = False
    assert LogMarkerWriter(logs).write(markers(commit=False), T0) is True
    logs = engine.reopen()
    for partition in logs.get("t").partitions:
        assert (partition.log_end_offset, partition.last_stable_offset) == (3, 3)
        assert partition.transactions.aborted_overlapping(0, partition.read(0, 1 << 20)) == [
            {"producer_id": PID, "first_offset": 0}]


def test_a_deleted_partition_gets_no_marker(setup):
    engine, logs, counting = setup
    assert LogMarkerWriter(logs).write(markers(partitions=[("t", 0), ("gone", 0)]), T0) is True
    assert logs.get("t").partitions[0].last_stable_offset == 3
    assert logs.get("t").partitions[1].last_stable_offset == 0

"""Produce stores a request's partitions in one storage write, acknowledged only once stored."""

from partitions.memory import MemoryStorage
from partitions.storage import StorageError
from tests.gateway.inprocess import call, new_broker
from wire.errors import ErrorCode
from wire.records import build_batch, iter_batches

PRODUCE, CREATE_TOPICS, FETCH = 0, 19, 1


class CountingStorage(MemoryStorage):
    """The memory engine, counting writes; `fail` makes the next writes raise as a full disk does."""

    def __init__(self) -> None:
        super().__init__()
        self.appends = self.many = 0
        self.fail = False
        self._inside_many = False  # the memory engine's append_many calls append per partition

    def append(self, *args, **kwargs) -> None:
        self.appends += not self._inside_many
        if self.fail:
            raise StorageError("No space left on device")
        super().append(*args, **kwargs)

    def append_many(self, writes, states=()) -> None:
        self.many += 1
        if self.fail:
            raise StorageError("No space left on device")
        self._inside_many = True
        try:
            super().append_many(writes, states)
        finally:
            self._inside_many = False


def _setup(partitions=8):
    storage = CountingStorage()
    broker = new_broker(storage)
    answer = call(broker, CREATE_TOPICS, 7, {"timeout_ms": 1000, "validate_only": False, "topics": [
        {"name": "t", "num_partitions": partitions, "replication_factor": -1, "assignments": [], "configs": []}]})
    assert answer.topics[0].error_code == ErrorCode.NONE
    return broker, storage


def _produce(broker, partitions, repeat=1):
    batch = build_batch([(None, b"v", [], 1000)])
    data = [{"index": p, "records": batch} for p in partitions for _ in range(repeat)]
    answer = call(broker, PRODUCE, 9, {"transactional_id": None, "acks": -1, "timeout_ms": 1000,
                                       "topic_data": [{"name": "t", "partition_data": data}]})
    return [(p.index, p.error_code, p.base_offset) for p in answer.responses[0].partition_responses]


def _stored(broker, partition) -> int:
    log = broker.logs.get("t").partition(partition)
    return sum(1 for _ in iter_batches(log.read(0, 1 << 20))) if log.high_watermark else 0


def test_eight_partitions_of_one_request_are_one_storage_write():
    broker, storage = _setup()
    before_appends, before_many = storage.appends, storage.many
    assert _produce(broker, range(8)) == [(p, ErrorCode.NONE, 0) for p in range(8)]
    assert (storage.appends - before_appends, storage.many - before_many) == (0, 1)
    assert [_stored(broker, p) for p in range(8)] == [1] * 8


def test_a_partition_named_twice_is_stored_in_order():
    broker, storage = _setup(2)
    assert _produce(broker, [0, 1], repeat=2) == [(0, ErrorCode.NONE, 0), (0, ErrorCode.NONE, 1),
                                                  (1, ErrorCode.NONE, 0), (1, ErrorCode.NONE, 1)]
    assert [broker.logs.get("t").partition(p).high_watermark for p in range(2)] == [2, 2]


def test_a_failed_write_refuses_every_partition_it_held_and_shows_none_of_them():
    broker, storage = _setup(3)
    storage.fail = True
    assert _produce(broker, range(3)) == [(p, ErrorCode.KAFKA_STORAGE_ERROR, -1) for p in range(3)]
    assert [broker.logs.get("t").partition(p).log_end_offset for p in range(3)] == [0, 0, 0]
    storage.fail = False  # the disk has room again: offsets go on from where the stored log ends
    assert _produce(broker, range(3)) == [(p, ErrorCode.NONE, 0) for p in range(3)]

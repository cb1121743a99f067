"""A Fetch reads only the batches it answers with (RocksDB engine, its batch values counted): past the
response's limits a partition's batch is sized from the index, never copied out of RocksDB to be dropped."""

from __future__ import annotations

from partitions.rocks import RocksStorage
from tests.gateway.inprocess import call, new_broker
from tests.partitions.test_read_bounds import _CountingDb
from wire.errors import ErrorCode
from wire.records import build_batch

PRODUCE, FETCH, CREATE_TOPICS = 0, 1, 19
PARTITIONS = 3


def _fetch_body(max_bytes: int, partition_max_bytes: int = 1 << 20) -> dict:
    return {"replica_id": -1, "max_wait_ms": 0, "min_bytes": 1, "max_bytes": max_bytes, "isolation_level": 0,
            "session_id": 0, "session_epoch": -1, "forgotten_topics_data": [], "rack_id": "",
            "topics": [{"topic": "t", "partitions": [
                {"partition": p, "current_leader_epoch": -1, "fetch_offset": 0, "last_fetched_epoch": -1,
                 "log_start_offset": -1, "partition_max_bytes": partition_max_bytes} for p in range(PARTITIONS)]}]}


def _rocks_broker(tmp_path):
    storage = RocksStorage(str(tmp_path / "rocksdb"))
    broker = new_broker(storage)
    call(broker, CREATE_TOPICS, 7, {"timeout_ms": 1000, "validate_only": False, "topics": [
        {"name": "t", "num_partitions": PARTITIONS, "replication_factor": -1, "assignments": [], "configs": []}]})
    for i in range(2):
        for p in range(PARTITIONS):
            records = build_batch([(None, b"%d" % p * 10_000, [], 1000 + i)])
            answer = call(broker, PRODUCE, 9, {"transactional_id": None, "acks": -1, "timeout_ms": 1000,
                                               "topic_data": [{"name": "t", "partition_data": [
                                                   {"index": p, "records": records}]}]})
            assert answer.responses[0].partition_responses[0].error_code == ErrorCode.NONE
    stored = [broker.logs.get("t").partition(p).read(0, 1 << 20) for p in range(PARTITIONS)]
    counting = _CountingDb(storage._db)
    storage._db = counting
    return broker, storage, counting, stored


def test_a_fetch_past_its_max_bytes_reads_no_batch_it_drops(tmp_path):
    broker, storage, counting, stored = _rocks_broker(tmp_path)
    try:
        # room for partition 0's two batches and 100 bytes more: partitions 1 and 2 get nothing
        answer = call(broker, FETCH, 12, _fetch_body(max_bytes=len(stored[0]) + 100))
        partitions = answer.responses[0].partitions
        assert [p.error_code for p in partitions] == [ErrorCode.NONE] * PARTITIONS
        assert [p.records for p in partitions] == [stored[0], b"", b""]
        assert counting.counts == {"values": 2, "bytes": len(stored[0])}
        # max_bytes 1: the response's first batch whole (KIP-74), and nothing else read
        counting.counts.update(values=0, bytes=0)
        answer = call(broker, FETCH, 12, _fetch_body(max_bytes=1))
        first = answer.responses[0].partitions[0].records
        assert 0 < len(first) < len(stored[0]) and stored[0].startswith(first)
        assert [p.records for p in answer.responses[0].partitions[1:]] == [b"", b""]
        assert counting.counts == {"values": 1, "bytes": len(first)}
        # partition_max_bytes of one batch: each partition's first batch only
        counting.counts.update(values=0, bytes=0)
        answer = call(broker, FETCH, 12, _fetch_body(max_bytes=1 << 20, partition_max_bytes=len(first)))
        got = [p.records for p in answer.responses[0].partitions]
        assert all(s.startswith(g) and 0 < len(g) < len(s) for g, s in zip(got, stored))
        assert counting.counts == {"values": PARTITIONS, "bytes": sum(map(len, got))}
    finally:
        storage._db = counting._db
        broker.logs.close()

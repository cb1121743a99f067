"""The RocksDB engine: durability across close/reopen and kill -9, and topic deletion leaving nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from rocksdict import Options, Rdict

from partitions import Logs
from partitions.rocks import RocksStorage
from tests.partitions.conftest import T0, batch, idempotent
from wire.records import iter_batches, iter_records

REPO = Path(__file__).resolve().parents[2]
MIB = 1 << 20

CHILD = textwrap.dedent("""
    import sys, time
    from partitions import Logs
    from partitions.rocks import RocksStorage
    from wire.records import build_batch

    logs = Logs(RocksStorage(sys.argv[1]))
    log = logs.create_topic("durable", 1).partitions[0]
    producer_id = logs.next_producer_id()
    print("producer", producer_id, flush=True)
    for i in range(20000):
        records = build_batch([(None, b"value-%d" % i, [], 1000 + i)], producer_id=producer_id,
                              producer_epoch=0, base_sequence=i)
        result = log.append(records, 0)
        print("acked", result.base_offset, flush=True)
    time.sleep(30)
""")


def test_acknowledged_appends_survive_kill_9(tmp_path):
    path = str(tmp_path / "rocksdb")
    child = subprocess.Popen([sys.executable, "-c", CHILD, path], cwd=REPO, stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        producer_id = int(child.stdout.readline().split()[1])
        acked = [int(child.stdout.readline().split()[1]) for _ in range(300)]
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
    assert acked == list(range(300))
    logs = Logs(RocksStorage(path))
    try:
        log = logs.partition("durable", 0)
        high_watermark = log.high_watermark
        assert high_watermark >= 300  # every acknowledged append, maybe a few more that were not yet acked
        values = [r.value for _, b in iter_batches(log.read(0, 1 << 30)) for r in iter_records(b)]
        assert values == [b"value-%d" % i for i in range(high_watermark)]
        last = high_watermark - 1
        retry = idempotent([b"value-%d" % last], producer_id, 0, last)
        assert log.append(retry, T0).base_offset == last and log.append(retry, T0).duplicate
        assert log.append(idempotent([b"next"], producer_id, 0, high_watermark), T0).base_offset == high_watermark
        assert logs.next_producer_id() > producer_id
    finally:
        logs.close()


def test_everything_survives_close_and_reopen(tmp_path):
    path = str(tmp_path / "rocksdb")
    logs = Logs(RocksStorage(path), default_configs={"retention.ms": "1000"})
    topic = logs.create_topic("kept", 3, {"message.timestamp.type": "LogAppendTime"})
    for partition in topic.partitions:
        for i in range(partition.index + 2):
            partition.append(idempotent([b"p%d-%d" % (partition.index, i)], 77, 1, i), T0 + i)
    big = batch([os.urandom(MIB - 100)])
    topic.partitions[0].append(big, T0 + 10)
    fetched = [p.read(0, 1 << 30) for p in topic.partitions]
    watermarks = [p.high_watermark for p in topic.partitions]
    producer_id = logs.next_producer_id()
    logs.close()

    logs = Logs(RocksStorage(path), default_configs={"retention.ms": "1000"})
    try:
        again = logs.get("kept")
        assert (again.topic_id, again.configs) == (topic.topic_id, topic.configs)
        assert again.config("retention.ms") == 1000
        assert [p.high_watermark for p in again.partitions] == watermarks
        assert [p.read(0, 1 << 30) for p in again.partitions] == fetched
        assert again.partitions[0].max_timestamp() == (watermarks[0] - 1, T0 + 10)
        assert again.partitions[2].offset_for_timestamp(T0 + 1) == (1, T0 + 1)
        assert again.partitions[1].append(idempotent([b"p1-1"], 77, 1, 1), T0).duplicate
        assert logs.next_producer_id() == producer_id + 1
    finally:
        logs.close()


def test_deleting_a_topic_removes_all_its_keys(tmp_path):
    path = str(tmp_path / "rocksdb")
    logs = Logs(RocksStorage(path))
    gone = logs.create_topic("gone", 2)
    kept = logs.create_topic("kept", 1)
    for log in gone.partitions + kept.partitions:
        log.append(idempotent([b"a", b"b"], 5, 0, 0), T0)
    logs.delete_topic("gone")
    logs.close()

    options = Options(raw_mode=True)
    db = Rdict(path, options=options)
    try:
        remaining = list(db.keys())
    finally:
        db.close()
    assert not [key for key in remaining if gone.topic_id in key or key.endswith(b"gone")]
    assert len([key for key in remaining if kept.topic_id in key]) == 4  # batch, its index entry, segment, producer

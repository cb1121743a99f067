"""Segment summaries are stored lazily (partitions/segments.py SAVE_EVERY): a new segment's with its first batch,
a closing one's whole, the active one's every SAVE_EVERY batches; opening adds the active segment's last batches
back from their index entries. Whatever point a store is closed or killed at, it opens with the segments it had;
and a store written the old way (every append stored the active summary) opens as before."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from partitions import Logs, segments as segments_module
from partitions.rocks import RocksStorage
from partitions.segments import SAVE_EVERY, SegmentList
from partitions.storage import BatchEntry
from tests.partitions.conftest import T0, batch

REPO = Path(__file__).resolve().parents[2]


def summaries(log) -> list[tuple]:
    return [segment.record() for segment in log.segments]


def stored(engine, topic: str) -> list[tuple]:
    """The summaries as the engine holds them, before any catch-up."""
    log = engine.logs.partition(topic, 0)
    return list(engine.logs.storage.load_partition(log.topic.topic_id, 0).segments)


@pytest.mark.parametrize("count", [1, SAVE_EVERY - 1, SAVE_EVERY, SAVE_EVERY + 5, 3 * SAVE_EVERY + 7])
def test_reopening_gives_the_segments_the_log_had(engine, count):
    logs = engine.open()
    log = logs.create_topic("t", 1, {"segment.ms": "1000"}).partitions[0]  # rolls every ~10 batches below
    for i in range(count):
        log.append(batch([b"v" * (i % 50)], t0=T0 + 100 * i + (i * 7919) % 90), T0 + i)  # timestamps up and down
    before = summaries(log)
    if engine.kind == "memory":  # opened again without closing (as after a kill): the index catches up
        log = Logs(engine.storage()).partition("t", 0)
        assert summaries(log) == before and log.high_watermark == count
    logs = engine.reopen()
    log = logs.partition("t", 0)
    assert summaries(log) == before
    assert log.high_watermark == log.log_end_offset == count
    log.append(batch([b"next"]), T0)  # and the next append carries on from there
    assert log.high_watermark == count + 1
    assert summaries(engine.reopen().partition("t", 0)) == summaries(log)


def test_only_every_save_every_th_append_stores_the_active_summary(engine):
    logs = engine.open()
    log = logs.create_topic("t", 1).partitions[0]
    log.append(batch([b"first"]), T0)
    assert stored(engine, "t")[0].batches == 1  # a new segment: stored with its first batch
    for _ in range(SAVE_EVERY - 1):
        log.append(batch([b"v"]), T0)
    assert stored(engine, "t")[0].batches == 1 and log.segments.items[0].batches == SAVE_EVERY
    log.append(batch([b"v"]), T0)
    assert stored(engine, "t")[0].batches == SAVE_EVERY + 1
    assert summaries(log) == stored(engine, "t")


def test_a_closing_segment_is_stored_whole(engine):
    logs = engine.open()
    log = logs.create_topic("t", 1, {"segment.ms": "1000"}).partitions[0]
    i = 0
    while len(log.segments) < 4:
        log.append(batch([b"v" * 40], t0=T0 + 30 * i), T0)  # a roll every ~34 batches
        i += 1
    assert stored(engine, "t")[:-1] == summaries(log)[:-1]  # every closed one exact; the active may lag


def test_a_segment_closed_by_retention_is_stored_whole_at_the_next_append():
    segments = SegmentList()
    staged = segments.stage([BatchEntry(0, 0, T0, 100)], T0, 1 << 30, 1 << 40)
    staged.commit()
    staged = segments.stage([BatchEntry(1, 0, T0, 100)], T0, 1 << 30, 1 << 40)
    assert staged.records() == []  # the active one's second batch: not stored yet
    staged.commit()
    segments.roll()  # (retention's, when its delete then fails)
    staged = segments.stage([BatchEntry(2, 0, T0, 100)], T0, 1 << 30, 1 << 40)
    assert [record.base_offset for record in staged.records()] == [2, 0]
    assert staged.records()[1].batches == 2 and staged.records()[1].next_offset == 2
    staged.commit()
    assert segments.items[0].unsaved == 0


def test_a_store_written_with_every_summary_stored_opens_the_same(engine, monkeypatch):
    """The layout before lazy summaries: every append stored the active segment's summary (SAVE_EVERY 1 writes
    exactly those keys and values)."""
    monkeypatch.setattr(segments_module, "SAVE_EVERY", 1)
    logs = engine.open()
    log = logs.create_topic("t", 1, {"segment.ms": "1000"}).partitions[0]
    for i in range(100):
        log.append(batch([b"v" * (i % 30)], t0=T0 + 40 * i), T0 + i)
    assert stored(engine, "t") == summaries(log)  # the old layout: nothing to catch up
    before = summaries(log)
    monkeypatch.setattr(segments_module, "SAVE_EVERY", 32)
    log = engine.reopen().partition("t", 0)
    assert summaries(log) == before and log.high_watermark == 100


CHILD = textwrap.dedent("""
    import sys, time
    from partitions import Logs
    from partitions.rocks import RocksStorage
    from wire.records import build_batch

    logs = Logs(RocksStorage(sys.argv[1]))
    log = logs.create_topic("durable", 1, {"segment.ms": "1000"}).partitions[0]
    for i in range(int(sys.argv[2])):
        log.append(build_batch([(None, b"v" * (i % 70), [], 1000 + 60 * i)]), 0)
    print(repr([tuple(segment.record()) for segment in log.segments]), flush=True)
    time.sleep(30)
""")


@pytest.mark.parametrize("count", [SAVE_EVERY + 3, 200])
def test_after_kill_9_the_segments_are_those_acknowledged(tmp_path, count):
    path = str(tmp_path / "rocksdb")
    child = subprocess.Popen([sys.executable, "-c", CHILD, path, str(count)], cwd=REPO, stdout=subprocess.PIPE,
                             text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        before = child.stdout.readline()
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
    logs = Logs(RocksStorage(path))
    try:
        log = logs.partition("durable", 0)
        assert repr([tuple(segment.record()) for segment in log.segments]) + "\n" == before
        assert len(log.segments) > 1 and log.high_watermark == count
    finally:
        logs.close()


def test_close_stores_every_summary_whole(engine):
    """So a cleanly closed data dir is the layout from before SAVE_EVERY (a broker of that version opens it)."""
    logs = engine.open()
    log = logs.create_topic("t", 2).partitions[0]
    for _ in range(SAVE_EVERY + 5):
        log.append(batch([b"v"]), T0)
    assert stored(engine, "t") != summaries(log)
    before = summaries(log)
    engine.close()
    storage = engine.storage()
    topic_id = storage.load_topics()[0].topic_id
    assert list(storage.load_partition(topic_id, 0).segments) == before  # before any catch-up
    assert list(storage.load_partition(topic_id, 1).segments) == []
    storage.close()

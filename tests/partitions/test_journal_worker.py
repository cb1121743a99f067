"""partitions/journal.py's flush worker: one thread for the journal's life. A rotation on the appending
(event loop's) thread only wakes it: starting a thread there waited in Thread.start until the OS ran the
new thread (0.1-11 ms on a busy machine, an append's whole latency)."""

from __future__ import annotations

import threading

from partitions.journal import Journal, Ops, journal_files


def _ops(value: bytes) -> Ops:
    ops = Ops()
    ops.put(b"k", value)
    return ops


def test_rotations_wake_one_worker_and_start_no_thread(tmp_path, monkeypatch):
    flushed = []
    journal = Journal(str(tmp_path), flush=lambda: flushed.append(threading.current_thread().name), limit=1024)
    started = []
    real_start = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda self: (started.append(self.name), real_start(self))[1])
    for i in range(5):
        journal.append(_ops(bytes(2048)))
        journal.rotate_if_full()
        journal.wait()
    assert started == []
    assert flushed == ["ottla-journal-flush"] * 5
    assert [number for number, _ in journal_files(str(tmp_path))] == [6]  # the flushed files removed
    worker = journal._flusher
    journal.close(flushed=True)
    assert not worker.is_alive() and journal_files(str(tmp_path)) == []


def test_a_failed_flush_leaves_the_worker_ready_for_the_next_rotation(tmp_path):
    calls = []

    def flush() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")

    journal = Journal(str(tmp_path), flush=flush, limit=1024)
    journal.append(_ops(bytes(2048)))
    journal.rotate_if_full()
    journal.wait()
    assert [number for number, _ in journal_files(str(tmp_path))] == [1, 2]  # kept: not flushed
    journal.append(_ops(bytes(2048)))
    journal.rotate_if_full()
    journal.wait()
    assert len(calls) == 2 and [number for number, _ in journal_files(str(tmp_path))] == [3]
    journal.close(flushed=True)

"""The latency bench's broker-side stamps (gateway/service_times.py): same answers as the plain pipeline,
a dump per point with every stage, storage writes timed; nothing loaded when off."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys

from gateway import long_poll
from gateway.broker import Broker
from gateway.config import Config
from gateway.pipeline import ConnectionLimits
from gateway.service_times import STAGES, ServiceTimes, StampedPipeline, pipeline_class
from partitions.memory import MemoryStorage
from tests.gateway.test_pipeline import FETCH, PRODUCE, FakeTransport, fetch, metadata, produce, run, settle


def _stamped(path):
    broker = Broker(Config(memory=True), MemoryStorage())
    cls = pipeline_class(broker, str(path))
    transport = FakeTransport()
    pipeline = cls(broker, transport, connection_id="c-1", peer="127.0.0.1:5555", limits=ConnectionLimits())
    transport.pipeline = pipeline
    return broker, transport, pipeline


def test_stamped_requests_answer_in_order_and_each_stage_is_dumped(tmp_path):
    path = tmp_path / "times.json"

    async def main():
        broker, transport, pipeline = _stamped(path)
        try:
            stream = produce("t", b"v" * 100, 1) + produce("t", b"w", 2) + metadata(3)
            for i in range(0, len(stream), 50):  # requests split over chunks: arrival is the first chunk's
                pipeline.receive_data(stream[i:i + 50])
            await settle()
            assert [c for c, _ in transport.frames()] == [1, 2, 3]
            pipeline.receive_data(fetch("t", 4, offset=2, max_wait_ms=5000, min_bytes=1))
            await settle()
            assert transport.frames() == []  # the fetch waits for a record
            pipeline.receive_data(produce("t", b"x", 5))
            await settle(50)
            assert [c for c, _ in transport.frames()] == [4, 5]  # woken by the append, answered in order
            os.kill(os.getpid(), signal.SIGUSR1)  # what the bench sends: the loop's handler dumps
            for _ in range(200):
                if path.exists():
                    break
                await asyncio.sleep(0.01)
            first = json.loads(path.read_text())
            assert first["seq"] == 1
            apis = first["apis"]
            assert apis["Produce"]["total"]["count"] == 3 and apis["Metadata"]["total"]["count"] == 1
            assert apis["Fetch"]["total"]["count"] == 1
            for stage in STAGES:
                assert apis["Produce"][stage]["p50"] >= 0
            # the waiting fetch's handler time holds the wait; a stage never exceeds the total
            assert apis["Fetch"]["handler"]["max"] <= apis["Fetch"]["total"]["max"]
            assert first["storage_write"]["count"] == 3
            assert first["long_poll_wake"]["count"] == 1  # the append woke the waiting fetch once
            assert first["loop_lag"]["count"] >= 0 and "cpu_s" in first["loop_thread"]
            StampedPipeline.times.dump()  # nothing since the first: counts start over
            second = json.loads(path.read_text())
            assert second["seq"] == 2 and second["apis"] == {} and second["storage_write"] == {"count": 0}
        finally:
            StampedPipeline.times.uninstall()
            StampedPipeline.times = None
        assert long_poll.observe is None
    run(main())


def test_service_times_is_not_imported_unless_asked():
    code = ("import sys, gateway.server, gateway.connection as c; "
            "assert c.SERVICE_TIMES is None and 'gateway.service_times' not in sys.modules")
    env = {k: v for k, v in os.environ.items() if k != "OTTLA_SERVICE_TIMES"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)


def test_percentiles_of_a_dump_are_nearest_rank(tmp_path):
    times = ServiceTimes(str(tmp_path / "t.json"))
    for i in range(1, 101):
        times.request(PRODUCE, 0.0, 0.0, 0.0, i / 1000, i / 1000)
    times.request(FETCH, 0.0, 0.001, 0.002, 0.004, 0.005)
    times.dump()
    out = json.loads((tmp_path / "t.json").read_text())["apis"]
    assert out[str(PRODUCE)]["handler"] == {"count": 100, "p50": 50.0, "p99": 99.0, "p99.9": 100.0, "max": 100.0,
                                             "sum": 5050.0}
    fetch_stages = out[str(FETCH)]
    assert [fetch_stages[s]["max"] for s in STAGES] == [1.0, 1.0, 2.0, 1.0, 5.0]


def test_samples_are_bounded_between_dumps(tmp_path, monkeypatch):
    from gateway import service_times

    monkeypatch.setattr(service_times, "MAX_SAMPLES", 10)
    times = ServiceTimes(str(tmp_path / "t.json"))
    for _ in range(25):
        times.request("Produce", 0.0, 0.0, 0.0, 0.001, 0.001)
    times.dump()
    out = json.loads((tmp_path / "t.json").read_text())
    assert out["apis"]["Produce"]["total"]["count"] == 10 and out["counts"]["dropped"] == 15


def test_each_read_records_what_it_left_in_the_kernel_receive_queue(tmp_path):
    """The bytes still queued in the socket after a read (FIONREAD): a wait the stamps cannot see."""
    import socket

    from tests.gateway.test_receive_window import SocketTransport

    path = tmp_path / "times.json"

    async def main():
        left, right = socket.socketpair()
        try:
            broker = Broker(Config(memory=True), MemoryStorage())
            cls = pipeline_class(broker, str(path))
            transport = SocketTransport(right)
            pipeline = cls(broker, transport, connection_id="c-1", peer="127.0.0.1:5555", limits=ConnectionLimits())
            transport.pipeline = pipeline
            left.sendall(b"\0" * 3072)  # still in the kernel when the pipeline gets its chunk
            pipeline.receive_data(metadata(1))
            right.recv(3072)  # drained: the next read leaves nothing
            pipeline.receive_data(metadata(2))
            await settle()
            assert [c for c, _ in transport.frames()] == [1, 2]
            StampedPipeline.times.dump()
            backlog = json.loads(path.read_text())["socket_backlog_kib"]
            assert backlog["count"] == 2 and backlog["max"] == 3.0 and backlog["p50"] == 0.0
        finally:
            StampedPipeline.times.uninstall()
            StampedPipeline.times = None
            left.close()
            right.close()
    run(main())

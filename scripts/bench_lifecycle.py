"""The log lifecycle's costs (issue 8): start-up and RSS against stored data, Fetch with and without an
incremental session, and produce while the cleaner and retention work.

Called by bench.py --lifecycle (its rows join bench.py's table), or alone:
`python scripts/bench_lifecycle.py [--lifecycle-sizes-gb 0,1,10]`. Every part starts its own Ottla
(RocksDB) in a temporary directory:

- start-up: the data (--lifecycle-sizes-gb, 16 KiB batches over 8 partitions) is written straight
  through partitions.Logs (the broker's own append path, no network), then a broker is started on it:
  time from spawn to the first answered Metadata, and RSS after a second of idle.
- Fetch for 1,000 partitions at their end (nothing new): sessionless full fetches (every partition
  sent and answered) against an incremental session (none sent, none answered): time per request,
  request and response bytes.
- produce (librdkafka, 1 KiB, acks=1, 1 partition) while two background producers (3,000 records/s
  each) write plain topics, then while they write a compacted topic (1,000 keys, segment.ms=100,
  cleaned every 200 ms) and an expiring one (retention.ms=1000, checked every 200 ms): the same load,
  so the difference is the maintenance work. Meanwhile a probe times Metadata requests (the worst
  is the request latency the maintenance allowed), beside the cleaner's longest step from its logs.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import bench  # noqa: E402

GB = 1024**3
BATCH_RECORDS = 16
RECORD_BYTES = 1024
FETCH_PARTITIONS = 1000
FETCH_REQUESTS = 200
BACKGROUND_RATE = 3000  # records/s of each background producer in the maintenance rows


def _broker(workdir: Path, name: str, *extra: str) -> bench.BrokerProcess:
    port = bench.free_port()
    argv = [sys.executable, "-m", "gateway", "serve", "--host", bench.HOST, "--port", str(port),
            "--data-dir", str(workdir / "data"), *extra]
    return bench.BrokerProcess(f"Ottla ({name})", argv, port, workdir / f"{name}.log", cwd=bench.REPO)


# ---- start-up and RSS against stored data ----

def generate(data_dir: Path, size_bytes: int, partitions: int = 8) -> int:
    """Write about size_bytes of 16-record batches through the broker's append path; returns batches."""
    from partitions import Logs
    from partitions.rocks import RocksStorage
    from wire.records import build_batch

    os.makedirs(data_dir, exist_ok=True)
    logs = Logs(RocksStorage(str(data_dir / "rocksdb")))
    topic = logs.create_topic("stored", partitions)
    now = int(time.time() * 1000)
    batch = build_batch([(b"k%d" % i, os.urandom(RECORD_BYTES), [], now) for i in range(BATCH_RECORDS)])
    count = max(size_bytes // len(batch), 0)
    for i in range(count):
        topic.partitions[i % partitions].append(batch, now)
    logs.close()
    return count


def startup_rows(sizes_gb: list[float], timeout_s: float) -> list[tuple]:
    out = []
    for size in sizes_gb:
        workdir = Path(tempfile.mkdtemp(prefix="ottla-bench-lifecycle-"))
        try:
            started = time.perf_counter()
            batches = generate(workdir / "data", int(size * GB))
            print(f"#   generated {size:g} GB ({batches:,} batches) in {time.perf_counter() - started:.0f} s",
                  file=sys.stderr)
            broker = _broker(workdir, f"{size:g}GB")
            try:
                startup_ms = broker.start(timeout_s)
                time.sleep(1.0)
                rss_mib = (broker.status_kib("VmRSS") or 0) / 1024
            finally:
                broker.stop()
            label = f"start-up with {size:g} GB stored ({batches:,} batches)"
            out.append((label, "ms to first Metadata", startup_ms, None))
            out.append((label, "MiB RSS", rss_mib, None))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return out


# ---- Fetch for 1,000 partitions, with and without a session ----

def fetch_rows(timeout_s: float) -> list[tuple]:
    from tests.gateway.rawclient import RawClient
    from wire.codec import encode
    from wire.messages import APIS

    workdir = Path(tempfile.mkdtemp(prefix="ottla-bench-lifecycle-"))
    broker = _broker(workdir, "fetch")
    out = []
    try:
        broker.start(timeout_s)
        admin = AdminClient(bench.client_config(f"{bench.HOST}:{broker.port}"))
        topic = f"bench-sessions-{uuid.uuid4().hex[:8]}"
        bench.create_topic(admin, topic, FETCH_PARTITIONS, timeout_s)
        client = RawClient((bench.HOST, broker.port))
        version = 12

        def request(session_id: int, epoch: int, partitions: range) -> dict:
            return {"replica_id": -1, "max_wait_ms": 0, "min_bytes": 0, "max_bytes": 50 << 20, "isolation_level": 0,
                    "session_id": session_id, "session_epoch": epoch, "forgotten_topics_data": [], "rack_id": "",
                    "topics": [{"topic": topic, "partitions": [
                        {"partition": p, "current_leader_epoch": -1, "fetch_offset": 0, "last_fetched_epoch": -1,
                         "log_start_offset": -1, "partition_max_bytes": 1 << 20} for p in partitions]}]
                    if partitions else []}

        def timed(body: dict) -> tuple[float, int, int]:
            request_bytes = len(encode(APIS[1].request, version, body))
            started = time.perf_counter()
            client.send(1, version, body)
            frame = client.recv_frame()
            return (time.perf_counter() - started) * 1000, request_bytes, len(frame)

        full = [timed(request(0, -1, range(FETCH_PARTITIONS))) for _ in range(FETCH_REQUESTS)]
        session = client.request(1, version, request(0, 0, range(FETCH_PARTITIONS))).session_id
        incremental = [timed(request(session, epoch, range(0))) for epoch in range(1, FETCH_REQUESTS + 1)]
        client.close()
        for label, runs in ((f"Fetch of {FETCH_PARTITIONS:,} idle partitions, no session (full)", full),
                            (f"Fetch of {FETCH_PARTITIONS:,} idle partitions, incremental session", incremental)):
            times = sorted(t for t, _, _ in runs)
            out.append((label, "ms per request (median)", bench.percentile(times, 0.5), None))
            out.append((label, "request + response bytes", float(runs[-1][1] + runs[-1][2]), None))
    finally:
        broker.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return out


# ---- produce while the cleaner and retention run ----

def _produce(bootstrap: str, topic: str, records: int, keys: int | None, timeout_s: float,
             stop: threading.Event | None = None, rate: float | None = None) -> tuple[int, float]:
    """`records` records (or until `stop`), at most `rate` per second; (delivered, seconds)."""
    producer = Producer({**bench.client_config(bootstrap), "acks": "1", "linger.ms": 5,
                         "queue.buffering.max.messages": 1_000_000, "message.timeout.ms": int(timeout_s * 1000)})
    payload = os.urandom(RECORD_BYTES)
    delivered = [0]

    def on_delivery(err, _msg) -> None:
        if err is None:
            delivered[0] += 1

    started = time.perf_counter()
    i = 0
    while (stop is None and i < records) or (stop is not None and not stop.is_set()):
        key = b"key-%d" % (i % keys) if keys else None
        try:
            producer.produce(topic, payload, key=key, partition=0, on_delivery=on_delivery)
        except BufferError:
            producer.poll(0.01)
            continue
        producer.poll(0)
        i += 1
        if rate and i % 100 == 0:
            ahead = started + i / rate - time.perf_counter()
            if ahead > 0:
                time.sleep(ahead)
    producer.flush(timeout_s)
    return delivered[0], time.perf_counter() - started


def _probe(host: str, port: int, stop: threading.Event, latencies: list[float]) -> None:
    """Metadata v1 every 5 ms on one connection; each round trip's milliseconds."""
    with socket.create_connection((host, port)) as sock:
        request = bench.metadata_request()
        while not stop.is_set():
            started = time.perf_counter()
            sock.sendall(request)
            size = struct.unpack(">i", bench.recv_exact(sock, 4))[0]
            bench.recv_exact(sock, size)
            latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(0.005)


def maintenance_rows(records: int, timeout_s: float) -> list[tuple]:
    workdir = Path(tempfile.mkdtemp(prefix="ottla-bench-lifecycle-"))
    broker = _broker(workdir, "maintenance", "--log-retention-check-interval-ms", "200",
                     "--log-cleaner-backoff-ms", "200")
    out = []
    try:
        broker.start(timeout_s)
        bootstrap = f"{bench.HOST}:{broker.port}"
        admin = AdminClient(bench.client_config(bootstrap))
        run = uuid.uuid4().hex[:8]
        plain, compacted, expiring = f"bench-plain-{run}", f"bench-compacted-{run}", f"bench-expiring-{run}"
        futures = admin.create_topics([
            NewTopic(plain, 1), NewTopic(f"{plain}-2", 1), NewTopic(f"{plain}-bg1", 1), NewTopic(f"{plain}-bg2", 1),
            NewTopic(compacted, 1, config={"cleanup.policy": "compact", "segment.ms": "100",
                                           "min.cleanable.dirty.ratio": "0.01", "delete.retention.ms": "1000"}),
            NewTopic(expiring, 1, config={"retention.ms": "1000", "segment.ms": "100"})])
        for future in futures.values():
            future.result(timeout_s)
        def beside(targets: list[tuple[str, int | None]], foreground: str) -> tuple[tuple[int, float], list[float]]:
            """Foreground produce while background producers write `targets` at BACKGROUND_RATE each."""
            latencies: list[float] = []
            stop = threading.Event()
            threads = [threading.Thread(target=_produce, args=(bootstrap, t, 0, keys, timeout_s, stop, BACKGROUND_RATE))
                       for t, keys in targets]
            threads.append(threading.Thread(target=_probe, args=(bench.HOST, broker.port, stop, latencies)))
            for thread in threads:
                thread.start()
            time.sleep(2.0)  # the background writers (and the cleaner, retention) get going
            result = _produce(bootstrap, foreground, records, None, timeout_s)
            stop.set()
            for thread in threads:
                thread.join()
            return result, latencies

        plain_bg, quiet_latencies = beside([(f"{plain}-bg1", 1000), (f"{plain}-bg2", None)], plain)
        busy, busy_latencies = beside([(compacted, 1000), (expiring, None)], f"{plain}-2")
        log_text = broker.log_path.read_text(errors="replace")
        cleans = re.findall(r"event='log_cleaned'.*?worst_step_ms=([\d.]+)", log_text)
        deletions = log_text.count("event='segments_deleted'")
        mb = RECORD_BYTES / 1e6
        load = f"2 background producers at {BACKGROUND_RATE:,} records/s"
        out.append((f"produce 1 KiB, acks=1, 1 partition, {load} to plain topics", "MB/s",
                    plain_bg[0] * mb / plain_bg[1], None))
        out.append((f"produce 1 KiB, acks=1, 1 partition, {load} to a compacted and an expiring topic", "MB/s",
                    busy[0] * mb / busy[1], f"{len(cleans)} cleans, {deletions} retention deletions meanwhile"))
        for label, latencies in (("plain topics", quiet_latencies), ("compaction and retention running",
                                                                      busy_latencies)):
            out.append((f"Metadata round trip during that produce, {label} (worst)", "ms", max(latencies, default=0.0),
                        f"p99 {bench.percentile(sorted(latencies), 0.99):.1f} ms" if latencies else None))
        out.append(("cleaner's longest step (event loop held)", "ms", max(map(float, cleans), default=0.0), None))
    finally:
        broker.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return out


def measure(args: argparse.Namespace) -> list[tuple]:
    """(what, metric, value, note) rows for bench.py's table."""
    sizes = [float(s) for s in args.lifecycle_sizes_gb.split(",") if s.strip()]
    out = startup_rows(sizes, args.startup_timeout)
    out += fetch_rows(args.phase_timeout)
    out += maintenance_rows(args.lifecycle_records, args.phase_timeout)
    return out


def add_arguments(p) -> None:
    p.add_argument("--lifecycle-sizes-gb", default="0,1", help="stored data sizes for the start-up rows, GB, "
                   "comma separated (default %(default)s; 10 needs ~12 GB of disk and a few minutes)")
    p.add_argument("--lifecycle-records", type=int, default=100_000,
                   help="records per produce phase beside the cleaner (default %(default)s)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--phase-timeout", type=float, default=60.0)
    p.add_argument("--startup-timeout", type=float, default=60.0)
    add_arguments(p)
    args = p.parse_args(argv)
    try:
        for what, metric, value, note in measure(args):
            print(f"| {what} | {metric} | {value:,.1f} | {note or ''} |")
    finally:
        bench.stop_all_brokers()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

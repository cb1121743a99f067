"""What the metrics cost: produce and consume MB/s, and broker CPU seconds per MB from /proc, with the
HTTP server off (no --http-port: nothing counted), on without the counters (--no-http-metrics) and on
(--http-port, the counters in the pipeline, Produce and Fetch, /metrics scraped every second as a busy
Prometheus would). Brokers are started fresh for every round, the variants interleaved, medians reported.

    python scripts/bench_metrics.py [--records 200000] [--record-size 1024] [--rounds 3] [--memory]
    python scripts/bench.py --metrics ...       # the same, after the main phases

The issue's bound: on within 3% of off (CPU per MB is the steadier figure on a busy machine).
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

REPO = Path(__file__).resolve().parent.parent
READY = re.compile(r"ottla ready on ([\d.]+):(\d+)")
TICKS = os.sysconf("SC_CLK_TCK")
CONSUME_PASSES = 5
VARIANTS = (("off", None), ("http, no counters", ["--no-http-metrics"]), ("on", []))


def _cpu(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(workdir: Path, http_port: int | None, memory: bool, extra: tuple = ()) -> tuple[subprocess.Popen, str]:
    argv = [sys.executable, "-m", "gateway", "serve", "--port", "0", "--log-level", "warning",
            "--data-dir", str(workdir)]
    if memory:
        argv.append("--memory")
    if http_port is not None:
        argv += ["--http-port", str(http_port)]
    argv += list(extra)  # other serve flags (bench_acl: the authorizer)
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        match = READY.search(proc.stdout.readline() or "")
        if match:
            return proc, f"{match.group(1)}:{match.group(2)}"
    proc.kill()
    raise SystemExit("broker did not start")


def _scraper(port: int, stop: threading.Event, counts: list[int]) -> None:
    while not stop.wait(1.0):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            response.read()
        counts[0] += 1


def timed_consume(conf: dict, topic: str, partitions: int, records: int, pid: int) -> tuple[float, float]:
    """Read `records` from offset 0 of every partition: (seconds, broker CPU seconds) from the first record."""
    consumer = Consumer({**conf, "enable.auto.commit": False, "fetch.max.bytes": 50 << 20})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    got, t0, cpu0 = 0, None, 0.0
    deadline = time.perf_counter() + 120
    try:
        while got < records:
            for message in consumer.consume(10_000, 1.0):
                if message.error() is None:
                    if t0 is None:
                        t0, cpu0 = time.perf_counter(), _cpu(pid)
                    got += 1
            if time.perf_counter() > deadline:
                raise SystemExit(f"consumed {got} of {records} in 120 s")
        return time.perf_counter() - t0, _cpu(pid) - cpu0
    finally:
        consumer.close()


def produce_records(bootstrap: str, topic: str, records: int, value: bytes, partitions: int = 1) -> Producer:
    """`records` copies of `value` handed to a fresh producer, round-robin over the partitions (not flushed)."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "acks": "1",
                         "batch.size": 1 << 20, "queue.buffering.max.messages": 1_000_000})
    for i in range(records):
        while True:
            try:
                producer.produce(topic, value, partition=i % partitions)
                break
            except BufferError:
                producer.poll(0.01)
    return producer


def one_round(extra: list[str] | None, args) -> dict[str, float]:
    """One broker: no HTTP server (extra None), or --http-port plus `extra`."""
    metrics_on = extra is not None
    with tempfile.TemporaryDirectory(prefix="ottla-bench-metrics-") as tmp:
        http_port = _free_port() if metrics_on else None
        proc, bootstrap = _start(Path(tmp), http_port, args.memory, extra or ())
        stop, scrapes = threading.Event(), [0]
        scraper = threading.Thread(target=_scraper, args=(http_port, stop, scrapes), daemon=True) \
            if metrics_on else None
        try:
            admin = AdminClient({"bootstrap.servers": bootstrap})
            for future in admin.create_topics([NewTopic("bench-metrics", args.partitions, 1)]).values():
                future.result(30)
            if scraper is not None:
                scraper.start()
            value = os.urandom(args.record_size)
            mb = args.records * args.record_size / 1e6
            cpu0, t0 = _cpu(proc.pid), time.perf_counter()
            producer = produce_records(bootstrap, "bench-metrics", args.records, value, args.partitions)
            producer.flush(120)
            produce_s, produce_cpu = time.perf_counter() - t0, _cpu(proc.pid) - cpu0
            consume_s = consume_cpu = 0.0
            for _ in range(CONSUME_PASSES):  # a pass is short: several, each timed from its first record
                seconds, cpu = timed_consume({"bootstrap.servers": bootstrap, "group.id": "bench-metrics"},
                                             "bench-metrics", args.partitions, args.records, proc.pid)
                consume_s += seconds
                consume_cpu += cpu
            mb_read = mb * CONSUME_PASSES
            return {"produce MB/s": mb / produce_s, "produce broker CPU s/MB": produce_cpu / mb,
                    "consume MB/s": mb_read / consume_s, "consume broker CPU s/MB": consume_cpu / mb_read,
                    "scrapes": scrapes[0]}
        finally:
            stop.set()
            proc.terminate()
            proc.wait(15)


def measure(args) -> list[tuple[str, str, float]]:
    """Each variant once a round, interleaved; medians. "http, no counters" is --http-port with
    --no-http-metrics: what the HTTP server costs without the counting (the connection registry counts
    requests per connection, gateway/clients.py; its observer runs only with --client-report or --trace);
    "on" adds the counters."""
    runs: dict[str, list[dict]] = {name: [] for name, _ in VARIANTS}
    for _ in range(args.rounds):
        for name, extra in VARIANTS:
            runs[name].append(one_round(extra, args))
    rows = []
    for figure in ("produce MB/s", "produce broker CPU s/MB", "consume MB/s", "consume broker CPU s/MB"):
        medians = {name: statistics.median(r[figure] for r in runs[name]) for name, _ in VARIANTS}
        for name, _ in VARIANTS:
            rows.append((f"{name}: {figure}", "median", medians[name]))
        for on, base in (("on", "http, no counters"), ("on", "off")):
            rows.append((f"{on} / {base}: {figure}", "ratio", medians[on] / medians[base] if medians[base] else
                         float("nan")))
    rows.append(("on: /metrics scrapes per round", "median", statistics.median(r["scrapes"] for r in runs["on"])))
    return rows


def table(rows: list[tuple[str, str, float]]) -> str:
    lines = ["| what | figure | value |", "|---|---|---|"]
    lines += [f"| {what} | {metric} | {value:,.4f} |" for what, metric, value in rows]
    return "\n".join(lines)


def report(measure) -> int:
    """A bench module run on its own: the load average before and after `measure()`, then its rows' table."""
    print(f"load average at start: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    rows = measure()
    print(f"load average at end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print(table(rows))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=200_000)
    p.add_argument("--record-size", type=int, default=1024)
    p.add_argument("--partitions", type=int, default=1)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--memory", action="store_true", help="brokers with --memory (no RocksDB)")
    args = p.parse_args(argv)
    return report(lambda: measure(args))


if __name__ == "__main__":
    raise SystemExit(main())

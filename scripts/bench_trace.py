"""What the protocol trace costs: broker CPU per request and per MB, and produce MB/s, with the trace off
(no flags: the pipeline reads one attribute per request), on (--trace FILE: a JSON line per request,
the registry and the compatibility report fed), and optionally a baseline checkout (--baseline DIR:
another tree of Ottla, e.g. main before the hook landed, run with its own code, to show "off" costs
what no hook cost). Two loads per broker: batched produce (1 KiB records, linger 5 ms: few big
requests) and request-bound produce (100-byte records, linger 0, one in flight: a request a record
or so, where a per-request cost shows). Fresh brokers per round, variants interleaved, medians.

    python scripts/bench_trace.py [--rounds 3] [--records 100000] [--small-records 5000] [--baseline DIR]
    python scripts/bench.py --trace ...       # the same, after the main phases
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402
from bench_metrics import _cpu  # noqa: E402


def _start(tree: Path, workdir: Path, trace: Path | None) -> tuple[bench.BrokerProcess, str]:
    """An Ottla of `tree`'s code (`python -m gateway` run in it puts it first on sys.path)."""
    port = bench.free_port()
    argv = [sys.executable, "-m", "gateway", "serve", "--host", bench.HOST, "--port", str(port),
            "--log-level", "warning", "--data-dir", str(workdir / "data")]
    if trace is not None:
        argv += ["--trace", str(trace)]
    broker = bench.BrokerProcess(f"Ottla ({tree})", argv, port, workdir / "broker.log", cwd=tree)
    broker.start(30.0)
    return broker, f"{bench.HOST}:{port}"


def _produce(bootstrap: str, topic: str, records: int, size: int, config: dict) -> float:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "1", "queue.buffering.max.messages": 1_000_000,
                         **config})
    value = os.urandom(size)
    failed = []
    t0 = time.perf_counter()
    for _ in range(records):
        while True:
            try:
                producer.produce(topic, value, partition=0, on_delivery=lambda err, _: err and failed.append(err))
                break
            except BufferError:
                producer.poll(0.01)
        producer.poll(0)
    if producer.flush(120) or failed:
        raise SystemExit(f"produce failed: {failed[:1]}")
    return time.perf_counter() - t0


def one_round(variant: str, tree: Path, args) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="ottla-bench-trace-") as tmp:
        trace = Path(tmp) / "trace.jsonl" if variant == "on" else None
        broker, bootstrap = _start(tree, Path(tmp), trace)
        proc = broker.proc
        try:
            admin = AdminClient({"bootstrap.servers": bootstrap})
            for future in admin.create_topics([NewTopic(t, 1, 1) for t in ("batched", "small")]).values():
                future.result(30)
            cpu0 = _cpu(proc.pid)
            seconds = _produce(bootstrap, "batched", args.records, 1024, {"linger.ms": 5, "batch.size": 1 << 20})
            batched_cpu = _cpu(proc.pid) - cpu0
            mb = args.records * 1024 / 1e6
            cpu0 = _cpu(proc.pid)
            small_s = _produce(bootstrap, "small", args.small_records, 100,
                               {"linger.ms": 0, "max.in.flight.requests.per.connection": 1, "batch.num.messages": 1})
            small_cpu = _cpu(proc.pid) - cpu0
            result = {"batched produce MB/s": mb / seconds,
                      "batched produce broker CPU ms/MB": batched_cpu / mb * 1000,
                      "request-bound produce records/s": args.small_records / small_s,
                      "request-bound produce broker CPU us/record": small_cpu / args.small_records * 1e6}
        finally:
            broker.stop()  # (SIGTERM: the trace's last lines are written)
        result["trace bytes"] = trace.stat().st_size if trace is not None and trace.exists() else 0
        return result


def measure(args) -> list[tuple[str, str, float]]:
    variants = [("off", REPO), ("on", REPO)]
    if args.baseline:
        variants.insert(0, ("baseline", Path(args.baseline).resolve()))
    runs: dict[str, list[dict]] = {name: [] for name, _ in variants}
    for _ in range(args.rounds):
        for name, tree in variants:
            runs[name].append(one_round(name, tree, args))
    rows = []
    for figure in runs["off"][0]:
        if figure == "trace bytes":
            continue
        for name, _ in variants:
            rows.append((f"trace {name}: {figure}", "median", statistics.median(r[figure] for r in runs[name])))
    rows.append(("trace on: bytes written per round", "median", statistics.median(r["trace bytes"]
                                                                                  for r in runs["on"])))
    return rows


def add_arguments(p) -> None:
    p.add_argument("--trace-rounds", type=int, default=3, help="--trace: interleaved rounds")
    p.add_argument("--trace-baseline", metavar="DIR", help="--trace: also run this Ottla tree (e.g. main before the "
                   "trace hook) as the baseline")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=100_000, help="1 KiB records of the batched load")
    p.add_argument("--small-records", type=int, default=5_000, help="100-byte records of the request-bound load")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--baseline", metavar="DIR", help="another Ottla tree to run as the baseline")
    args = p.parse_args(argv)
    print(f"load average at start: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    rows = measure(args)
    print(f"load average at end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print("| what | figure | value |\n|---|---|---|")
    for what, metric, value in rows:
        print(f"| {what} | {metric} | {value:,.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

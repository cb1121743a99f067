"""Fault injection's costs: the dispatch hook when no fault is set (A/B against another checkout),
when a fault is armed for another API, and the pytest fixture's start and stop time.

    python scripts/bench_faults.py --hook [--repo /work/main]   # broker CPU per request, pipelined
    python scripts/bench_faults.py --fixture                     # ottla.testing broker start/stop, ms

Figures are broker CPU seconds from /proc per request (less sensitive to a busy machine than wall
time), the median of `--rounds` runs. Run through `bench.py --faults` too.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

import bench_conn  # noqa: E402

READY = re.compile(r"ottla ready on ([\d.]+):(\d+)")


def _broker(repo: Path, *extra: str) -> tuple[subprocess.Popen, tuple[str, int]]:
    python = repo / ".venv" / "bin" / "python"
    proc = subprocess.Popen([str(python if python.exists() else sys.executable), "-m", "gateway", "serve", "--memory",
                             "--port", "0", "--log-level", "warning", *extra], cwd=repo, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env={**os.environ, "PYTHONPATH": str(repo)})
    match = READY.search(proc.stdout.readline())
    if match is None:
        proc.kill()
        raise SystemExit(f"broker in {repo} did not start")
    return proc, (match.group(1), int(match.group(2)))


def _cpu_per_request(repo: Path, frame: bytes, requests: int, *extra: str) -> float:
    proc, address = _broker(repo, *extra)
    try:
        cpu = bench_conn.cpu_of(proc.pid)
        bench_conn.pipelined(address, frame, 2000)  # warm up
        before = cpu()
        bench_conn.pipelined(address, frame, requests)
        return (cpu() - before) / requests * 1e6
    finally:
        proc.terminate()
        proc.wait(10)


def hook(args) -> list[tuple[str, str, float]]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump([{"api": "DeleteTopics", "error": "UNKNOWN_SERVER_ERROR"}], f)  # armed, never matches
    frames = [("Produce of 1 x 100 B", bench_conn.produce_frame(100, 3)), ("ApiVersions", bench_conn.API_VERSIONS_FRAME)]
    variants = [("no fault set", REPO, ())]
    if args.repo:
        variants.insert(0, (f"{args.repo} (no hook)", Path(args.repo), ()))
    variants.append(("a fault armed for another API", REPO, ("--faults", f.name)))
    rows = []
    for name, frame in frames:
        for label, repo, extra in variants:
            figures = [_cpu_per_request(repo, frame, args.requests, *extra) for _ in range(args.rounds)]
            rows.append((f"faults: pipelined {name}, {label}", "broker CPU per request, us", statistics.median(figures)))
    os.unlink(f.name)
    return rows


def fixture(args) -> list[tuple[str, str, float]]:
    from ottla.testing import OttlaBroker

    rows = []
    for kind, options in (("memory", {}), ("RocksDB (crashable)", {"durable": True})):
        starts, stops = [], []
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(args.rounds * 5):
                started = time.perf_counter()
                broker = OttlaBroker(data_dir=Path(tmp) / str(i), **options)
                broker.start()
                ready = time.perf_counter()
                broker.stop()
                starts.append((ready - started) * 1000)
                stops.append((time.perf_counter() - ready) * 1000)
        rows.append((f"faults: kafka_broker fixture, {kind}", "start to accepting, ms (median)", statistics.median(starts)))
        rows.append((f"faults: kafka_broker fixture, {kind}", "stop, ms (median)", statistics.median(stops)))
    return rows


def add_arguments(p) -> None:
    p.add_argument("--faults-requests", type=int, default=20_000)
    p.add_argument("--faults-rounds", type=int, default=3)
    p.add_argument("--faults-repo", help="A/B: also time the broker of this checkout (one without the hook)")


def measure(args) -> list[tuple[str, str, float]]:
    mine = argparse.Namespace(requests=args.faults_requests, rounds=args.faults_rounds, repo=args.faults_repo)
    return hook(mine) + fixture(mine)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hook", action="store_true")
    p.add_argument("--fixture", action="store_true")
    p.add_argument("--requests", type=int, default=20_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repo", help="A/B: also time the broker of this checkout (e.g. /work/main)")
    args = p.parse_args()
    print_rows((hook(args) if args.hook or not args.fixture else []) + (fixture(args) if args.fixture or not args.hook else []))


def print_rows(rows) -> None:
    print(f"load average: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    for what, metric, value in rows:
        print(f"| {what}: {metric} | {value:,.2f} |")


if __name__ == "__main__":
    main()

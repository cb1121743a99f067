"""Broker CPU a Produce costs before storage, per MB and per request, on a fixed workload (issue 14).

The closed-loop phases of bench.py let librdkafka choose the request sizes (a slower broker gets fuller
batches), so their CPU per MB moves with the load on the machine. Here the requests are fixed bytes,
sent over one socket, raw protocol, a window in flight, to Ottla `--memory` (and Tansu, in memory, with
--against-tansu): the broker's CPU (/proc, user + system) per MB of values and per request is what the
broker alone costs for the same bytes.

    big     `--big-requests` Produce requests of `--records` x `--record-size` B (librdkafka's shape at
            full throughput: batch.size 1,000,000, so ~970 records of 1 KiB, one batch, uncompressed)
    small   `--small-requests` Produce requests of one 100-byte record (the per-request cost)

`--repo DIR` also starts Ottla from another checkout of this project (e.g. a worktree at main) and
alternates the two, `--rounds` times each: an A/B of the same bytes. Medians, [ranges].

    python scripts/bench_wire.py [--rounds 3] [--repo ../main] [--against-tansu]
    python scripts/bench.py --wire ...        # the same rows, after the main phases
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench  # noqa: E402
from bench_conn import framed, pipelined  # noqa: E402
from wire.records import build_batch  # noqa: E402

TOPIC = "bench-wire"
WINDOW = 4  # big requests in flight (librdkafka: max.in.flight 5)
SMALL_WINDOW = 50


def produce_frame(records: int, record_size: int, correlation_id: int) -> bytes:
    value = bytes(range(256)) * (record_size // 256) + bytes(record_size % 256)
    batch = build_batch([(None, value, [], 1_700_000_000_000 + i) for i in range(records)])
    return framed(0, 9, {"transactional_id": None, "acks": 1, "timeout_ms": 5000, "topic_data": [
        {"name": TOPIC, "partition_data": [{"index": 0, "records": batch}]}]}, correlation_id)


def one_run(broker: bench.BrokerProcess, args) -> dict[str, float]:
    broker.start(args.startup_timeout)
    try:
        address = (bench.HOST, broker.port)
        big = produce_frame(args.records, args.record_size, 7)
        small = produce_frame(1, 100, 8)
        out = {}
        before = broker.cpu_seconds()
        pipelined(address, big, args.big_requests, WINDOW)
        mb = args.big_requests * args.records * args.record_size / 1e6
        out["big"] = (broker.cpu_seconds() - before) * 1000 / mb
        before = broker.cpu_seconds()
        pipelined(address, small, args.small_requests, SMALL_WINDOW)
        out["small"] = (broker.cpu_seconds() - before) * 1e6 / args.small_requests
        return out
    finally:
        broker.stop()


def _ottla(repo: Path, workdir: Path, name: str) -> bench.BrokerProcess:
    bench.compile_bytecode(repo)
    port = bench.free_port()
    argv = [sys.executable, "-m", "gateway", "serve", "--host", bench.HOST, "--port", str(port), "--memory"]
    return bench.BrokerProcess(name, argv, port, workdir / f"{name}.log", cwd=repo)


def measure(args) -> dict[str, dict[str, list[float]]]:
    """broker name -> {"big": [ms per MB...], "small": [us per request...]}, runs alternated."""
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="ottla-bench-wire-") as tmp:
        workdir = Path(tmp)
        brokers = [("Ottla", lambda: _ottla(bench.REPO, workdir, "ottla"))]
        if args.repo:
            brokers.append((f"Ottla at {args.repo}", lambda: _ottla(Path(args.repo).resolve(), workdir, "other")))
        if args.against_tansu:
            brokers.append(("Tansu", lambda: bench.tansu_process(workdir)))
        for round_index in range(args.rounds):
            order = brokers if round_index % 2 == 0 else brokers[::-1]
            for name, make in order:
                try:
                    run = one_run(make(), args)
                except (OSError, RuntimeError) as exc:  # e.g. Tansu without auto-created topics
                    print(f"{name}: {exc}", file=sys.stderr)
                    continue
                for key, value in run.items():
                    results.setdefault(name, {}).setdefault(key, []).append(value)
    return results


def _summary(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}]"


def table(results) -> str:
    lines = ["| broker | big: CPU per MB, ms | small: CPU per request, us |", "|---|---|---|"]
    for name, by_kind in results.items():
        big, small = by_kind.get("big"), by_kind.get("small")
        lines.append(f"| {name} | {_summary(big) if big else 'n/a'} | {_summary(small) if small else 'n/a'} |")
    return "\n".join(lines)


def add_arguments(group) -> None:
    """bench.py --wire's options (its own --records and --against-tansu are the phases')."""
    group.add_argument("--wire-rounds", type=int, default=3, help="--wire: runs per broker, alternated")
    group.add_argument("--wire-big-requests", type=int, default=200)
    group.add_argument("--wire-small-requests", type=int, default=10_000)
    group.add_argument("--wire-repo", metavar="DIR", help="--wire: also Ottla from this checkout (A/B)")


def from_bench_args(args) -> argparse.Namespace:
    return argparse.Namespace(rounds=args.wire_rounds, big_requests=args.wire_big_requests,
                              small_requests=args.wire_small_requests, records=970, record_size=1024,
                              repo=args.wire_repo, against_tansu=args.against_tansu,
                              startup_timeout=args.startup_timeout)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--big-requests", type=int, default=200)
    p.add_argument("--small-requests", type=int, default=10_000)
    p.add_argument("--records", type=int, default=970)
    p.add_argument("--record-size", type=int, default=1024)
    p.add_argument("--repo", metavar="DIR", help="also Ottla from this checkout, alternated with this one")
    p.add_argument("--against-tansu", action="store_true")
    p.add_argument("--startup-timeout", type=float, default=30.0)
    args = p.parse_args(argv)
    load = Path("/proc/loadavg").read_text().split()[:3]
    results = measure(args)
    print(f"load average at start {' '.join(load)}, at end {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Broker CPU a Produce costs before storage, per MB and per request, on a fixed workload (issue 14).

The closed-loop phases of bench.py let librdkafka choose the request sizes (a slower broker gets fuller
batches), so their CPU per MB moves with the load on the machine. Here the requests are fixed bytes,
sent over one socket, raw protocol, a window in flight, to Ottla `--memory` (and Tansu, in memory, with
--against-tansu): the broker's CPU (/proc, user + system) per MB of values and per request is what the
broker alone costs for the same bytes.

    big     `--big-requests` Produce requests of `--records` x `--record-size` B (librdkafka's shape at
            full throughput: batch.size 1,000,000, so ~970 records of 1 KiB, one batch, uncompressed)
    small   `--small-requests` Produce requests of one 100-byte record (the per-request cost)
    fetch   `--small-requests` Fetch requests (v12, one partition, from offset 0, partition_max_bytes 1:
            the first batch whole, one 100-byte record; max_wait 0): the per-request cost of a Fetch

`--repo DIR` also starts Ottla from another checkout of this project (e.g. a worktree at main) and
alternates the two, `--rounds` times each: an A/B of the same bytes. Medians, [ranges].

`--codec` (also part of bench.py --wire): in process, the CPU of one body decode / encode of the hot
messages (Produce and Fetch requests and responses of the sizes librdkafka sends: one partition, 100 B
and 1 MB of records; and 8 partitions), through wire.codec as the broker calls it, by the construct
codec alone and by the generated one (wire.fast_codec): microseconds a request, best of `--codec-runs`.
With `OTTLA_CODEC=construct` set in a broker's environment the broker runs construct only (the A/B over
a socket: `--repo` with the same tree and `--construct-too`).

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
FETCH_TOPIC = "bench-wire-fetch"  # 100-byte batches only: the Fetch phase reads one
WINDOW = 4  # big requests in flight (librdkafka: max.in.flight 5)
SMALL_WINDOW = 50


def produce_frame(records: int, record_size: int, correlation_id: int, topic: str = TOPIC) -> bytes:
    value = bytes(range(256)) * (record_size // 256) + bytes(record_size % 256)
    batch = build_batch([(None, value, [], 1_700_000_000_000 + i) for i in range(records)])
    return framed(0, 9, {"transactional_id": None, "acks": 1, "timeout_ms": 5000, "topic_data": [
        {"name": topic, "partition_data": [{"index": 0, "records": batch}]}]}, correlation_id)


def _codec_cases():
    """(name, message, version, kind, value or bytes) for the codec microbench."""
    from wire.messages import APIS

    produce, fetch = APIS[0], APIS[1]
    small = build_batch([(None, bytes(100), [], 1_700_000_000_000)])
    big = build_batch([(None, bytes(1024), [], 1_700_000_000_000 + i) for i in range(970)])

    def produce_request(batch, partitions):
        return {"transactional_id": None, "acks": -1, "timeout_ms": 5000, "topic_data": [
            {"name": TOPIC, "partition_data": [{"index": i, "records": batch} for i in range(partitions)]}]}

    def produce_response(partitions):  # gateway.handlers.produce._partition_result's shape
        return {"responses": [{"name": TOPIC, "partition_responses": [
            {"index": i, "error_code": 0, "base_offset": 1234, "log_append_time_ms": -1, "log_start_offset": 0,
             "record_errors": [], "error_message": None} for i in range(partitions)]}], "throttle_time_ms": 0}

    def fetch_request(partitions):
        return {"replica_id": -1, "max_wait_ms": 500, "min_bytes": 1, "max_bytes": 52428800, "isolation_level": 0,
                "session_id": 0, "session_epoch": -1, "topics": [{"topic": TOPIC, "topic_id": bytes(16), "partitions": [
                    {"partition": i, "current_leader_epoch": 0, "fetch_offset": 1000, "last_fetched_epoch": -1,
                     "log_start_offset": -1, "partition_max_bytes": 1048576} for i in range(partitions)]}],
                "forgotten_topics_data": [], "rack_id": ""}

    def fetch_response(partitions, records):  # gateway.handlers.fetch's shape
        return {"throttle_time_ms": 0, "error_code": 0, "session_id": 0, "responses": [
            {"topic": TOPIC, "topic_id": bytes(16), "partitions": [
                {"partition_index": i, "error_code": 0, "high_watermark": 5000, "last_stable_offset": 5000,
                 "log_start_offset": 0, "aborted_transactions": None, "preferred_read_replica": -1,
                 "records": records} for i in range(partitions)]}]}

    return [
        ("Produce v9 request, 1 partition, 100 B", produce.request, 9, "decode", produce_request(small, 1)),
        ("Produce v9 request, 1 partition, 1 MB", produce.request, 9, "decode", produce_request(big, 1)),
        ("Produce v9 request, 8 partitions, 100 B", produce.request, 9, "decode", produce_request(small, 8)),
        ("Produce v9 response, 1 partition", produce.response, 9, "encode", produce_response(1)),
        ("Produce v9 response, 8 partitions", produce.response, 9, "encode", produce_response(8)),
        ("Fetch v11 request, 1 partition", fetch.request, 11, "decode", fetch_request(1)),
        ("Fetch v16 request, 8 partitions", fetch.request, 16, "decode", fetch_request(8)),
        ("Fetch v11 response, 1 partition, 100 B", fetch.response, 11, "encode", fetch_response(1, small)),
        ("Fetch v16 response, 8 partitions, 1 MB each", fetch.response, 16, "encode", fetch_response(8, big)),
    ]


def codec_rows(runs: int = 7, seconds: float = 0.05) -> list[tuple[str, float, float]]:
    """(case, construct us, generated us): CPU of one decode/encode as the broker calls them
    (gateway.offload: max_elements=500, views / gather), best of `runs` timed loops."""
    import time

    from wire import codec

    rows = []
    for name, message, version, kind, value in _codec_cases():
        if kind == "decode":
            data = b"\0" * 18 + bytes(codec.construct_encode(message, version, value))
            calls = (lambda: codec.construct_decode(message, version, data, 18, 500, True),
                     lambda: codec.decode(message, version, data, 18, 500, True))
        else:
            calls = (lambda: codec.construct_encode(message, version, value, 500, True),
                     lambda: codec.encode(message, version, value, 500, True))
        first = calls[1]()
        if kind == "encode":
            assert bytes(first) == bytes(calls[0]()), name
        else:
            assert first == calls[0](), name
        timed = []
        for call in calls:
            loops, best = 1, None
            while True:  # loops of ~`seconds` each
                start = time.process_time()
                for _ in range(loops):
                    call()
                if time.process_time() - start >= seconds:
                    break
                loops *= 4
            for _ in range(runs):
                start = time.process_time()
                for _ in range(loops):
                    call()
                us = (time.process_time() - start) * 1e6 / loops
                best = us if best is None else min(best, us)
            timed.append(best)
        rows.append((f"{name} {kind}", timed[0], timed[1]))
    return rows


def codec_table(rows) -> str:
    lines = ["| in process, CPU a request (best of runs) | construct, us | generated, us | ratio |",
             "|---|---:|---:|---:|"]
    for name, slow, fast in rows:
        lines.append(f"| {name} | {slow:.2f} | {fast:.2f} | {slow / fast:.1f}x |")
    return "\n".join(lines)


def fetch_frame(correlation_id: int) -> bytes:
    return framed(1, 12, {"replica_id": -1, "max_wait_ms": 0, "min_bytes": 1, "max_bytes": 1 << 20,
                          "isolation_level": 0, "session_id": 0, "session_epoch": -1, "topics": [
                              {"topic": FETCH_TOPIC, "partitions": [{"partition": 0, "fetch_offset": 0,
                                                               "partition_max_bytes": 1}]}],
                          "forgotten_topics_data": [], "rack_id": ""}, correlation_id)


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
        pipelined(address, produce_frame(1, 100, 10, FETCH_TOPIC), 1, 1)  # creates it: two 100-byte batches
        before = broker.cpu_seconds()
        pipelined(address, fetch_frame(9), args.small_requests, SMALL_WINDOW)
        out["fetch"] = (broker.cpu_seconds() - before) * 1e6 / args.small_requests
        return out
    finally:
        broker.stop()


def _ottla(repo: Path, workdir: Path, name: str, construct: bool = False) -> bench.BrokerProcess:
    bench.compile_bytecode(repo)
    port = bench.free_port()
    argv = [sys.executable, "-m", "gateway", "serve", "--host", bench.HOST, "--port", str(port), "--memory"]
    broker = bench.BrokerProcess(name, argv, port, workdir / f"{name}.log", cwd=repo)
    if construct:  # wire.codec reads it at import: the broker runs the construct codec only
        broker.env["OTTLA_CODEC"] = "construct"
    return broker


def measure(args) -> dict[str, dict[str, list[float]]]:
    """broker name -> {"big": [ms per MB...], "small": [us per request...]}, runs alternated."""
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="ottla-bench-wire-") as tmp:
        workdir = Path(tmp)
        brokers = [("Ottla", lambda: _ottla(bench.REPO, workdir, "ottla"))]
        if getattr(args, "construct_too", False):
            brokers.append(("Ottla, OTTLA_CODEC=construct", lambda: _ottla(bench.REPO, workdir, "construct", True)))
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
    lines = ["| broker | big: CPU per MB, ms | small: CPU per request, us | fetch: CPU per request, us |",
             "|---|---|---|---|"]
    for name, by_kind in results.items():
        cells = [_summary(by_kind[k]) if by_kind.get(k) else "n/a" for k in ("big", "small", "fetch")]
        lines.append(f"| {name} | {' | '.join(cells)} |")
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
    p.add_argument("--construct-too", action="store_true",
                   help="also this tree's Ottla with OTTLA_CODEC=construct, alternated (the codec A/B)")
    p.add_argument("--codec", action="store_true", help="only the in-process codec microbench")
    p.add_argument("--codec-runs", type=int, default=7)
    args = p.parse_args(argv)
    load = Path("/proc/loadavg").read_text().split()[:3]
    if args.codec:
        print(f"load average {' '.join(load)}")
        print(codec_table(codec_rows(args.codec_runs)))
        return 0
    results = measure(args)
    print(f"load average at start {' '.join(load)}, at end {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

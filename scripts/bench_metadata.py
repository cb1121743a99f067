"""Metadata of 100,000 partitions and ApiVersions, per request (bench.py --metadata, also run by --scale;
or on its own: `python scripts/bench_metadata.py [--tree DIR] [--memory] [--rounds N]`, which starts
Ottla from DIR, this tree by default, so two trees can be compared; --bootstrap HOST:PORT benches a
running broker, without its CPU). Goal (issue 14): Metadata of 100 topics x 1,000 partitions under 100 ms.

- Metadata: 100 topics x 1,000 partitions created, then Metadata v12 naming them all: the first request
  after the creation (the broker encodes every partition) and the next `repeats` (it may answer from
  what it kept encoded: gateway/encoded_partitions.py), with the broker's CPU a repeated request.
- ApiVersions v3, one request in flight on one connection: the round trip and the broker's CPU a request
  (its /proc user + system time over `api_versions` requests).

Each figure is the round trip of one request on an open connection: the request sent, the whole
response frame received (bench_admin.Client: decoding it, in Python, is the client's cost and is not
timed).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (scripts/bench.py)
import bench_admin  # noqa: E402

API_VERSIONS = 18
META_TOPICS, META_PARTITIONS = 100, 1000
WHAT = f"Metadata of {META_TOPICS} topics x {META_PARTITIONS:,} partitions"


def add_arguments(p) -> None:
    p.add_argument("--metadata-repeats", type=int, default=20, help="repeated Metadata requests timed "
                   "(their broker CPU is summed: /proc counts 10 ms ticks)")
    p.add_argument("--metadata-api-versions", type=int, default=3000, help="ApiVersions requests timed")


def _cpu(broker) -> float | None:
    return broker.cpu_seconds() if broker is not None else None


def metadata_100k(address: tuple[str, int], broker=None, repeats: int = 20) -> dict:
    """Seconds of the first Metadata v12 naming 100 topics x 1,000 partitions, of each repeated one, and
    the broker's CPU seconds a repeated one."""
    client = bench_admin.Client(address)
    run = uuid.uuid4().hex[:6]
    names = [f"bench-meta-{run}-{i:03d}" for i in range(META_TOPICS)]
    try:
        for start in range(0, META_TOPICS, 10):
            _, created = client.timed(bench_admin.CREATE_TOPICS, {"timeout_ms": 120000, "validate_only": False,
                                      "topics": [{"name": n, "num_partitions": META_PARTITIONS, "replication_factor": -1,
                                                  "assignments": [], "configs": []} for n in names[start:start + 10]]})
            for t in created.topics:
                bench_admin._check(t.error_code, f"CreateTopics {t.name}")
        body = {"topics": [{"name": n, "topic_id": bytes(16)} for n in names], "allow_auto_topic_creation": False,
                "include_topic_authorized_operations": False}
        first, answer = client.timed(bench_admin.METADATA, body)
        described = sum(len(t.partitions) for t in answer.topics)
        if described != META_TOPICS * META_PARTITIONS:
            raise bench_admin.AdminBenchError(f"Metadata described {described} partitions")
        repeated, cpu = [], 0.0
        for _ in range(repeats):
            before = _cpu(broker)
            repeated.append(client.timed(bench_admin.METADATA, body)[0])  # (the decode after it: not timed)
            after = _cpu(broker)
            cpu += (after - before) if before is not None else 0.0
        return {"first": first, "repeated": repeated, "cpu": cpu / repeats if broker is not None else None}
    finally:
        client.close()


def api_versions(address: tuple[str, int], broker=None, requests: int = 3000) -> dict:
    """ApiVersions v3 one at a time: round trips (seconds) and the broker's CPU seconds a request."""
    client = bench_admin.Client(address)
    body = {"client_software_name": "ottla-bench", "client_software_version": "1"}
    version = bench_admin.VERSIONS.get(API_VERSIONS)
    bench_admin.VERSIONS[API_VERSIONS] = 3
    try:
        for _ in range(100):  # warm: the connection, the broker's first encodings
            client.timed(API_VERSIONS, body)
        before = _cpu(broker)
        trips = [client.timed(API_VERSIONS, body)[0] for _ in range(requests)]
        after = _cpu(broker)
    finally:
        client.close()
        if version is None:
            del bench_admin.VERSIONS[API_VERSIONS]
    return {"trips": trips, "cpu": (after - before) / requests if before is not None else None}


def measure(address: tuple[str, int], broker=None, repeats: int = 20, api_version_requests: int = 3000) -> list[tuple]:
    """The rows (what, metric, value, note)."""
    rows: list[tuple] = []
    try:
        m = metadata_100k(address, broker, repeats)
        rows.append((WHAT, "first request round trip, ms", m["first"] * 1000, None))
        rows.append((WHAT, f"repeated round trip (median of {repeats}), ms", statistics.median(m["repeated"]) * 1000,
                     f"range {min(m['repeated']) * 1000:.1f}-{max(m['repeated']) * 1000:.1f}"))
        if m["cpu"] is not None:
            rows.append((WHAT, "broker CPU a repeated request, ms", m["cpu"] * 1000, None))
    except Exception as exc:
        print(f"#   {WHAT}: {type(exc).__name__}: {exc}", file=sys.stderr)
        rows.append((WHAT, "first request round trip, ms", None, f"{type(exc).__name__}: {exc}"))
    try:
        a = api_versions(address, broker, api_version_requests)
        rows.append(("ApiVersions v3, one in flight", "round trip (median), us", statistics.median(a["trips"]) * 1e6,
                     None))
        if a["cpu"] is not None:
            rows.append(("ApiVersions v3, one in flight", "broker CPU a request, us", a["cpu"] * 1e6,
                         f"over {api_version_requests:,} requests"))
    except Exception as exc:
        print(f"#   ApiVersions: {type(exc).__name__}: {exc}", file=sys.stderr)
        rows.append(("ApiVersions v3, one in flight", "round trip (median), us", None, f"{type(exc).__name__}: {exc}"))
    return rows


def run(name: str, bootstrap: str, broker, args) -> list[tuple]:
    """bench.py's entry: rows for the broker at `bootstrap` (`broker`: its BrokerProcess, for its CPU)."""
    host, port = bootstrap.rsplit(":", 1)
    rows = measure((host, int(port)), broker, args.metadata_repeats, args.metadata_api_versions)
    for what, metric, value, _ in rows:
        if value is not None:
            print(f"#   {name} {what}: {metric} {value:,.1f}", file=sys.stderr)
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tree", type=Path, default=bench.REPO, help="the Ottla tree to start (default this one)")
    p.add_argument("--bootstrap", metavar="HOST:PORT", help="bench this running broker instead (no CPU figures)")
    p.add_argument("--memory", action="store_true", help="start Ottla with --memory")
    p.add_argument("--rounds", type=int, default=1, help="fresh brokers, one after another")
    add_arguments(p)
    args = p.parse_args(argv)

    def rounds() -> list[tuple]:
        rows: list[tuple] = []
        for i in range(args.rounds):
            if args.bootstrap:
                rows += run(args.bootstrap, args.bootstrap, None, args)
                continue
            with tempfile.TemporaryDirectory(prefix="ottla-bench-metadata-") as tmp:
                workdir = Path(tmp)
                port = bench.free_port()
                argv_ = [sys.executable, "-m", "gateway", "serve", "--host", bench.HOST, "--port", str(port),
                         "--log-level", "warning", "--data-dir", str(workdir / "data")] + (["--memory"] if args.memory else [])
                bench.compile_bytecode(args.tree)
                broker = bench.BrokerProcess(f"Ottla ({args.tree})", argv_, port, workdir / "broker.log", cwd=args.tree)
                try:
                    broker.start(30.0)
                    time.sleep(0.5)
                    rows += [(f"{what} (round {i + 1})", metric, value, note)
                             for what, metric, value, note in run("Ottla", f"{bench.HOST}:{port}", broker, args)]
                finally:
                    broker.stop()
        return rows

    load = lambda: " ".join(Path("/proc/loadavg").read_text().split()[:3])  # noqa: E731
    print(f"load average at start: {load()}")
    rows = rounds()
    print(f"load average at end: {load()}")
    print("| what | figure | value | note |\n|---|---|---|---|")
    for what, metric, value, note in rows:
        print(f"| {what} | {metric} | {'-' if value is None else f'{value:,.1f}'} | {note or ''} |")
    return 0 if all(value is not None for _, _, value, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

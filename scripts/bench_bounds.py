"""What one adversarial request costs everyone else (issue 10, class 1), measured in one process.

Called by bench.py --bounds (printed after its table), or alone: `python scripts/bench_bounds.py
[CASE ...]`. For each case an in-memory broker runs on this process's event loop, a prober client
sends ApiVersions every 2 ms, and an attacker sends one request; the table gives the attack's time
and the prober's round trip (p99, max) during it, with the prober's p99 alone first (what the machine
itself adds). Before the bounds (loaded 2-core machine): Metadata of 100,000 names stalled the
prober 4.6 s, ListOffsets of 10^6 entries 10.8 s, Fetch of one partition 200,000 times 1.4 s,
Metadata of all topics at 100,000 partitions 1.7 s.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.logs import configure  # noqa: E402
from tests.adversarial.stall import InProcessBroker, measure, request_frame  # noqa: E402
from wire.records import build_batch  # noqa: E402


def _fetch(session_epoch: int) -> bytes:
    partition = {"partition": 0, "current_leader_epoch": -1, "fetch_offset": 0, "log_start_offset": -1,
                 "partition_max_bytes": 1 << 20}
    return request_frame(1, 11, {"replica_id": -1, "max_wait_ms": 0, "min_bytes": 0, "max_bytes": 50 << 20,
                                 "isolation_level": 0, "session_id": 0, "session_epoch": session_epoch,
                                 "forgotten_topics_data": [], "rack_id": "",
                                 "topics": [{"topic": "fd", "partitions": [partition] * 200_000}]})


def _one_partition_with_data(broker) -> None:
    broker.logs.create_topic("fd", 1)
    broker.logs.get("fd").partition(0).append(build_batch([(None, b"v" * 1000, [], 1000)]), 1000)


def _big_topics(broker) -> None:
    for i in range(10):
        broker.logs.create_topic(f"big{i}", 10_000)


CASES = {
    "metadata-100k-names": ("Metadata v12 naming 100,000 topics, auto-creation on", lambda: request_frame(
        3, 12, {"topics": [{"name": f"t{i}", "topic_id": b"\0" * 16} for i in range(100_000)],
                "allow_auto_topic_creation": True}), None),
    "list-offsets-1m": ("ListOffsets v7 with 10^6 entries of one partition", lambda: request_frame(
        2, 7, {"replica_id": -1, "isolation_level": 0, "topics": [{"name": "lo", "partitions": [
            {"partition_index": 0, "current_leader_epoch": -1, "timestamp": -1}] * 1_000_000}]}),
        lambda b: b.logs.create_topic("lo", 1)),
    "fetch-200k-dups": ("Fetch v11 naming one partition 200,000 times", lambda: _fetch(-1), _one_partition_with_data),
    "fetch-200k-dups-session": ("the same, opening a fetch session", lambda: _fetch(0), _one_partition_with_data),
    "metadata-all-100k-partitions": ("Metadata v12 of all topics, 10 x 10,000 partitions", lambda: request_frame(
        3, 12, {"topics": None, "allow_auto_topic_creation": False}), _big_topics),
}


async def run(names: list[str]) -> list[tuple]:
    rows = []
    for name in names:
        what, frame, setup = CASES[name]
        async with InProcessBroker() as broker:
            if setup is not None:
                setup(broker.broker)
            stall = await measure(broker, frame())
        rows.append((what, stall))
        print(f"# {name}: {stall}", file=sys.stderr, flush=True)
    return rows


def table(rows: list[tuple]) -> str:
    lines = ["| attack | attack ms | other client's ApiVersions p99 ms | max ms | p99 ms without the attack |",
             "|---|---:|---:|---:|---:|"]
    for what, s in rows:
        lines.append(f"| {what} | {s.attack_s * 1000:,.0f} | {s.p99_ms:.1f} | {s.max_ms:.1f} | {s.baseline_p99_ms:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    names = (sys.argv[1:] if argv is None else argv) or list(CASES)
    configure("error")
    try:
        import uvloop  # the server's own loop

        rows = uvloop.run(run(names))
    except ImportError:
        rows = asyncio.run(run(names))
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

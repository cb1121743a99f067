"""The storage engine's write path alone, in-process: CPU per MB appended to RocksStorage (all threads,
RocksDB's flush and compaction threads included, from getrusage), the final close() counted in.

    python scripts/bench_storage.py [--mb 300] [--batch-kib 1024] [--rounds 3] [--random]
    python scripts/bench.py --storage ...      # the same, after the main phases

Each append is what a Produce of one batch stores: the batch bytes, its index entry and one producer
state key, in one write. The batch is 1 KiB records like bench.py's (one random record repeated, as
librdkafka sends the bench's payload; --random makes every byte random). Also reported: the bytes
written to Ottla's journal, the number of memtable flushes it asked for (0 if the engine has none) and its
longest rotation on the appending thread (cut the file, open the next, wake the flush worker).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TOPIC_ID = bytes(range(16))


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def one_round(mb: int, batch_kib: int, random: bool, partitions: int) -> dict[str, float]:
    if importlib.util.find_spec("partitions") is None:  # a checkout without its venv's editable install
        sys.path.insert(0, str(REPO))
    from partitions.rocks import RocksStorage
    from partitions.storage import BatchEntry

    record = os.urandom(1024)
    batch = os.urandom(batch_kib * 1024) if random else record * batch_kib
    count = mb * 1_000_000 // len(batch)
    with tempfile.TemporaryDirectory(prefix="ottla-bench-storage-") as tmp:
        storage = RocksStorage(os.path.join(tmp, "rocksdb"))
        cpu0, t0 = _cpu(), time.perf_counter()
        longest = 0.0
        for i in range(count):
            entry = BatchEntry(i * batch_kib, batch_kib - 1, 1_700_000_000_000, len(batch))
            started = time.perf_counter()
            storage.append(TOPIC_ID, i % partitions, [(entry, batch)], {1: b"producer-state-20-b"})
            longest = max(longest, time.perf_counter() - started)
        appended_cpu, appended_s = _cpu() - cpu0, time.perf_counter() - t0
        stats = getattr(storage, "journal_stats", lambda: {})()
        storage.close()
        cpu, wall = _cpu() - cpu0, time.perf_counter() - t0
    megabytes = count * len(batch) / 1e6
    return {"cpu_ms_per_mb": 1000 * cpu / megabytes, "append_cpu_ms_per_mb": 1000 * appended_cpu / megabytes,
            "append_wall_ms_per_mb": 1000 * appended_s / megabytes, "wall_ms_per_mb": 1000 * wall / megabytes,
            "longest_ms": 1000 * longest, "rotation_ms": stats.get("longest_rotation_ms", 0.0),
            "journal_mb": stats.get("bytes", 0) / 1e6, "flushes": stats.get("flushes", 0)}


def measure(args: argparse.Namespace) -> list[tuple[str, str, float]]:
    rounds = [one_round(args.storage_mb, args.storage_batch_kib, args.storage_random, args.storage_partitions)
              for _ in range(args.storage_rounds)]
    what = f"RocksStorage append of {args.storage_batch_kib} KiB batches, {args.storage_mb} MB"
    out = []
    for key, label in (("cpu_ms_per_mb", "CPU per MB incl. close, ms (median)"),
                       ("append_cpu_ms_per_mb", "CPU per MB of the appends, ms (median)"),
                       ("append_wall_ms_per_mb", "wall per MB of the appends, ms (median)"),
                       ("longest_ms", "longest append (a write stall), ms (median)"),
                       ("rotation_ms", "longest journal rotation on the appending thread, ms (median)"),
                       ("journal_mb", "journal bytes written, MB"), ("flushes", "journal flushes, count")):
        values = [r[key] for r in rounds]
        out.append((what, f"{label} [{min(values):.2f}-{max(values):.2f}]", statistics.median(values)))
    return out


def add_arguments(p) -> None:
    p.add_argument("--storage-mb", type=int, default=300, help="MB appended a round (default %(default)s)")
    p.add_argument("--storage-batch-kib", type=int, default=1024, help="KiB a batch (default %(default)s)")
    p.add_argument("--storage-rounds", type=int, default=3, help="rounds (default %(default)s)")
    p.add_argument("--storage-partitions", type=int, default=1, help="partitions written in turn")
    p.add_argument("--storage-random", action="store_true", help="every byte random (incompressible)")


def table(rows: list[tuple[str, str, float]]) -> str:
    lines = ["| what | figure | value |", "|---|---|---:|"]
    lines += [f"| {what} | {metric} | {value:,.2f} |" for what, metric, value in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(p)
    args = p.parse_args(argv)
    print(f"# load average {os.getloadavg()[0]:.2f}")
    print(table(measure(args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

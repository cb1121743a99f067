"""`ottla` as a user starts it: wall and CPU time of `ottla topics list` and `ottla --help` (start-up, imports,
one Metadata round trip, exit), and `ottla produce --count` records/s. bench.py --cli adds these rows; alone:

    python scripts/bench_cli.py --bootstrap HOST:PORT [--cli-repeats 15]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid

OTTLA = [sys.executable, "-m", "gateway"]
PRODUCE_COUNT = 200_000


def _timed(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one run, which must exit 0."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    run = subprocess.run(argv, capture_output=True, env=dict(os.environ, NO_COLOR="1"))
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[2:])} exited {run.returncode}: {run.stderr.decode()[-300:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(bootstrap: str, repeats: int) -> dict[str, float]:
    found: dict[str, float] = {}
    for key, argv in (("help", OTTLA + ["--help"]),
                      ("topics_list", OTTLA + ["topics", "list", "--bootstrap-server", bootstrap])):
        samples = [_timed(argv) for _ in range(repeats)]
        found[f"{key}_wall_ms"] = statistics.median(s[0] for s in samples) * 1000
        found[f"{key}_cpu_ms"] = statistics.median(s[1] for s in samples) * 1000
    topic = f"bench-cli-{uuid.uuid4().hex[:6]}"
    _timed(OTTLA + ["topics", "create", topic, "--partitions", "4", "--bootstrap-server", bootstrap])
    wall, _ = _timed(OTTLA + ["produce", topic, "--count", str(PRODUCE_COUNT), "--record-size", "100",
                              "--bootstrap-server", bootstrap, "--acks", "1"])
    found["produce_records_per_s"] = PRODUCE_COUNT / wall
    _timed(OTTLA + ["topics", "delete", topic, "--bootstrap-server", bootstrap])
    return found


def rows(bootstrap: str, args) -> list[tuple[str, str, float | None, str | None]]:
    """(what, metric, value, note) rows for bench.py's table; a failure is every row's note."""
    labels = [("help_wall_ms", "ottla --help, wall ms (median)"), ("help_cpu_ms", "ottla --help, CPU ms (median)"),
              ("topics_list_wall_ms", "ottla topics list, wall ms (median)"),
              ("topics_list_cpu_ms", "ottla topics list, CPU ms (median)"),
              ("produce_records_per_s", f"ottla produce --count {PRODUCE_COUNT:,} (100 B), records/s incl. start-up")]
    try:
        found = measure(bootstrap, args.cli_repeats)
    except Exception as exc:
        print(f"#   cli: {type(exc).__name__}: {exc}", file=sys.stderr)
        return [("cli", label, None, f"{type(exc).__name__}: {exc}") for _, label in labels]
    return [("cli", label, found[key], None) for key, label in labels]


def add_arguments(p) -> None:
    p.add_argument("--cli-repeats", type=int, default=15, help="runs of each timed ottla command")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", required=True, metavar="HOST:PORT")
    add_arguments(parser)
    args = parser.parse_args()
    for what, metric, value, note in rows(args.bootstrap, args):
        print(f"{what:5} {metric:60} {value:12,.1f}" if value is not None else f"{what:5} {metric:60} {note}")

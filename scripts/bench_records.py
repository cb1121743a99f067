"""The cost of record-level validation on the produce path (wire/record_validation.py).

`bench.py --validation` adds these rows: produce phases with lz4 and zstd (every batch is decompressed to be
walked; the uncompressed phases are bench.py's own), and, for Ottla, in-process timings of validate_records on
one batch like those librdkafka sends at full throughput (batch.size 1000000), best of several runs, next to
the batch-level checks (CRC-32C, header) every produced batch already paid and the pure-Python fallback's walk.
`python scripts/bench_records.py` prints the in-process rows alone.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wire import record_validation  # noqa: E402
from wire.records import HEADER_SIZE, build_batch, read_header, validate_batch, validate_records  # noqa: E402

CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
BATCH_BYTES = 1_000_000  # librdkafka's batch.size


def best_us(call, seconds: float = 0.3, runs: int = 5) -> float:
    """Best mean time of one call over `runs` runs of ~seconds/runs each, in microseconds."""
    call()
    best = float("inf")
    for _ in range(runs):
        n, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds / runs or n == 0:
            call()
            n += 1
        best = min(best, elapsed / n)
    return best * 1e6


def payload(size: int) -> bytes:
    """Half random, half zeros: compresses about 2:1, like typical JSON-ish values."""
    return os.urandom(size - size // 2) + bytes(size // 2)


def batch_of(record_size: int, codec: int) -> bytes:
    count = max(1, BATCH_BYTES // (record_size + 8))
    return build_batch([(None, payload(record_size), [], 1_700_000_000_000 + i) for i in range(count)],
                       compression=codec)


def measure() -> list[tuple[str, str, float | None, str | None]]:
    walker = "C" if record_validation.ACCELERATED else "Python (wire._record_walk not built)"
    out: list[tuple[str, str, float | None, str | None]] = []
    for record_size in (1024, 100, 10):
        for name, codec in CODECS.items():
            if record_size != 1024 and codec not in (0, 4):
                continue
            batch = batch_of(record_size, codec)
            header = read_header(batch)
            what = f"record validation, {header.record_count:,} records of {record_size} B, {name}"
            checks = best_us(lambda: validate_batch(batch, 0, header))
            walk = best_us(lambda: validate_records(batch, 0, header))
            mb = header.record_count * record_size / 1e6
            step = "record walk" if codec == 0 else "decompression + record walk"
            out += [
                (what, "batch checks (CRC, header), us per batch", checks, None),
                (what, f"{step} ({walker}), us per batch", walk, None),
                (what, f"{step}, MB/s of values", mb / (walk / 1e6), None),
            ]
            if codec == 0:
                block = memoryview(batch)[HEADER_SIZE:]
                python = best_us(lambda: record_validation.walk_python(block, header.record_count,
                                                                       header.base_timestamp), runs=2)
                out.append((what, "record walk in pure Python, us per batch", python, None))
    return out


COMPRESSED_PHASES = ("lz4", "zstd")


def rows(name: str, bootstrap: str | None, broker, args) -> list[tuple[str, str, float | None, str | None]]:
    """bench.py --validation: compressed produce phases against the broker, then (Ottla) the in-process rows."""
    import uuid

    import bench
    from confluent_kafka.admin import AdminClient

    out: list[tuple[str, str, float | None, str | None]] = []
    try:
        admin = AdminClient(bench.client_config(bootstrap))
        for codec in COMPRESSED_PHASES:
            topic = f"bench-{uuid.uuid4().hex[:8]}-{codec}"
            bench.create_topic(admin, topic, 1, args.phase_timeout)
            phase = bench.Phase("produce", 1, "1", topic, args.records, compression=codec)
            bench.produce_phase(bootstrap, phase, args.record_size, args.phase_timeout, broker)
            note = None if phase.ok else bench.describe_problem(phase)
            cpu_ms_per_mb = (phase.broker_cpu_percent * 10 / phase.mb_per_s
                             if phase.broker_cpu_percent is not None and phase.mb_per_s else None)
            out += [(phase.label, "MB/s", phase.mb_per_s, note),
                    (phase.label, "latency p50, ms", phase.latency_p50_ms, note),
                    (phase.label, "broker core-ms per MB", cpu_ms_per_mb, note)]
    except Exception as exc:  # noqa: BLE001 -- a broker that fails here still gets its other rows
        out.append(("compressed produce", "MB/s", None, f"{type(exc).__name__}: {exc}"))
    if name == "Ottla":
        out += measure()
    return out


def main() -> int:
    for what, metric, value, _ in measure():
        print(f"| {what}: {metric} | {value:,.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What the connection registry (gateway/clients.py) costs a request, in process: the pipeline with a fake
transport (no sockets), N small Produce requests (100-byte records, memory engine) fed a batch at a time,
microseconds a request, best of `--repeat`, for each level:

    off        no --http-port, no --trace: the pipeline reads two attributes a request
    counting   --http-port: client id, requests, APIs and versions per connection (a dict increment)
    report     --client-report: every request observed (handler wrapped, summarized, the report fed)
    trace      --trace FILE: the same plus a JSON line a request written to FILE

    python scripts/bench_clients.py [--requests 5000] [--repeat 5] [--runs 3]
    python scripts/bench.py --clients ...     # the same, after the main phases
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway import handlers  # noqa: E402,F401  (fills the registry)
from gateway.broker import Broker  # noqa: E402
from gateway.config import Config  # noqa: E402
from gateway.pipeline import RequestPipeline  # noqa: E402
from partitions.memory import MemoryStorage  # noqa: E402
from wire.codec import encode  # noqa: E402
from wire.frames import frame  # noqa: E402
from wire.headers import encode_request_header  # noqa: E402
from wire.messages import APIS  # noqa: E402
from wire.records import build_batch  # noqa: E402

LEVELS = ("off", "counting", "report", "trace")
BATCH = 50  # requests fed at once (the pipeline answers them in one pump)


class _Transport:
    def __init__(self) -> None:
        self.sent = 0
        self.pipeline = None

    def writelines(self, data) -> None:
        for chunk in data:
            self.sent += len(chunk)

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        pass


def _produce(correlation_id: int, batch: bytes) -> bytes:
    return frame(encode_request_header(0, 9, correlation_id, "bench-clients") + encode(APIS[0].request, 9, {
        "transactional_id": None, "acks": 1, "timeout_ms": 1000,
        "topic_data": [{"name": "t", "partition_data": [{"index": 0, "records": batch}]}]}))


async def _one(level: str, requests: int, trace_dir: str) -> float:
    broker = Broker(Config(memory=True), MemoryStorage())
    broker.logs.create_topic("t", 1)
    if level == "counting":
        broker.clients.count()
    elif level in ("report", "trace"):
        broker.clients.observe(f"{trace_dir}/trace.jsonl" if level == "trace" else None)
    transport = _Transport()
    pipeline = RequestPipeline(broker, transport, connection_id="c-1", peer="127.0.0.1:5555")
    transport.pipeline = pipeline
    batch = build_batch([(None, b"x" * 100, [], 1000)])
    chunks = [b"".join(_produce(i + j, batch) for j in range(BATCH)) for i in range(0, requests, BATCH)]
    t0 = time.perf_counter()
    for chunk in chunks:
        pipeline.receive_data(chunk)
        for _ in range(3):
            await asyncio.sleep(0)
    while pipeline.pending:
        await asyncio.sleep(0)
    elapsed = time.perf_counter() - t0
    if pipeline.closed or transport.sent < len(chunks) * BATCH * 40:
        raise SystemExit(f"{level}: the requests were not all answered")
    broker.clients.close()
    return elapsed / (len(chunks) * BATCH) * 1e6


def measure(requests: int, repeat: int, runs: int) -> dict[str, list[float]]:
    """level -> best-of-`repeat` microseconds a request, once per run (levels interleaved)."""
    out: dict[str, list[float]] = {level: [] for level in LEVELS}
    with tempfile.TemporaryDirectory(prefix="ottla-bench-clients-") as tmp:
        for _ in range(runs):
            for level in LEVELS:
                out[level].append(min(asyncio.run(_one(level, requests, tmp)) for _ in range(repeat)))
    return out


def table(results: dict[str, list[float]]) -> str:
    lines = ["| level | us a request (best of each run) |", "|---|---|"]
    lines += [f"| {level} | {' / '.join(f'{v:.1f}' for v in values)} |" for level, values in results.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=5000)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args(argv)
    print(table(measure(args.requests, args.repeat, args.runs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The request pipeline's own cost a request, in process (bench.py --pipeline; issue 14, pipeline).

The pipeline (gateway/pipeline.py) with a fake transport and the memory engine, fed the bytes of N
requests through its read path (get_buffer / buffer_updated, as the event loop calls it), against the
same requests decoded, handled and encoded without it (RequestPipeline._serve alone; Heartbeat: a small handler): the difference
is what the pipeline adds a request (frame split, header decode, dispatch, context, ordering,
response framing, back-pressure bookkeeping; not the socket's syscalls, which a real broker adds).
And the frame split alone: gateway.frame_buffer.FrameBuffer read into (get_buffer / buffer_updated, as
a plain connection's loop reads) and handed bytes objects (receive, as a TLS connection's), glibc tuned
as the broker tunes it. Runs in a child process (the malloc settings stay out of the bench's own process).

    python scripts/bench_pipeline.py [--requests 20000] [--repeat 7]    # a markdown table
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _frames(kind: str, count: int) -> list[bytes]:
    from wire.codec import encode
    from wire.frames import frame
    from wire.headers import encode_request_header
    from wire.messages import APIS
    from wire.records import build_batch

    if kind == "heartbeat":
        return [frame(encode_request_header(12, 4, i, "bench") + encode(APIS[12].request, 4, {
            "group_id": "g", "generation_id": 1, "member_id": "m", "group_instance_id": None})) for i in range(count)]
    batch = build_batch([(None, bytes(1024), [], 1000) for _ in range(16)])  # bench_scale's raw request
    return [frame(encode_request_header(0, 9, i, "bench") + encode(APIS[0].request, 9, {
        "transactional_id": None, "acks": 1, "timeout_ms": 1000,
        "topic_data": [{"name": "t", "partition_data": [{"index": 0, "records": batch}]}]})) for i in range(count)]


async def _one(kind: str, count: int, per_read: int, direct: bool) -> float:
    """CPU microseconds a request."""
    from gateway import registry
    from gateway.broker import Broker
    from gateway.config import Config
    from bench_clients import _Transport  # (scripts/: no bytes kept, nothing paused)
    from gateway.pipeline import RequestPipeline, log
    from gateway.registry import RequestContext
    from partitions.memory import MemoryStorage
    from wire.headers import decode_request_header

    broker = Broker(Config(memory=True), MemoryStorage())
    broker.logs.create_topic("t", 1)
    pipeline = RequestPipeline(broker, _Transport(), connection_id="c", peer="p")
    frames = _frames(kind, count)
    if direct:
        payloads = [f[4:] for f in frames]
        started = time.process_time()
        for payload in payloads:
            header = decode_request_header(payload)
            reg = registry.lookup(header.api_key, header.api_version)
            ctx = RequestContext(broker, header.api_key, header.api_version, header.correlation_id, header.client_id,
                                 log, "p", "c")
            try:
                pipeline._serve(ctx, reg, payload, header.body_offset).send(None)
            except StopIteration:
                pass
        return (time.process_time() - started) * 1e6 / count
    reads = [b"".join(frames[i:i + per_read]) for i in range(0, count, per_read)]
    del frames
    started = time.process_time()
    for data in reads:
        view = memoryview(data)
        while len(view):
            into = pipeline.get_buffer()
            n = min(len(into), len(view))
            into[:n] = view[:n]
            pipeline.buffer_updated(n)
            view = view[n:]
        while pipeline._turn_scheduled or not pipeline.reading:
            await asyncio.sleep(0)
    while not pipeline.idle or pipeline.decoder.buffered:
        await asyncio.sleep(0)
    return (time.process_time() - started) * 1e6 / count


def _split(size: int, per_read: int, rounds: int) -> tuple[float, float]:
    """us a frame: (FrameBuffer handed bytes objects of 256 KiB reads, FrameBuffer read into)."""
    from gateway.frame_buffer import FrameBuffer
    from wire.frames import frame

    socket_bytes = memoryview(bytearray(frame(bytes(size)) * per_read))
    scratch = bytearray(256 * 1024)
    handed, buffer = FrameBuffer(), FrameBuffer()
    started = time.process_time()
    for _ in range(rounds):
        pos = 0
        while pos < len(socket_bytes):
            n = min(len(scratch), len(socket_bytes) - pos)
            scratch[:n] = socket_bytes[pos:pos + n]  # the kernel's copy
            handed.receive(bytes(memoryview(scratch)[:n]))  # the bytes object a TLS read makes
            pos += n
            while handed.next_frame() is not None:
                pass
    received = (time.process_time() - started) * 1e6 / rounds / per_read
    started = time.process_time()
    for _ in range(rounds):
        pos = 0
        while pos < len(socket_bytes):
            into = buffer.get_buffer()
            n = min(len(into), len(socket_bytes) - pos)
            into[:n] = socket_bytes[pos:pos + n]  # the kernel's copy
            buffer.buffer_updated(n)
            pos += n
            while buffer.next_frame() is not None:
                pass
    return received, (time.process_time() - started) * 1e6 / rounds / per_read


def rows(requests: int = 20_000, repeat: int = 7) -> list[tuple[str, str, float]]:
    """(what, figure, value), best of `repeat` for each (this process: run it in a child)."""
    import uvloop

    from gateway import handlers  # noqa: F401  (fills the registry)
    from gateway import malloc_tuning

    malloc_tuning.tune()  # as the broker is at its first Produce
    out = []
    direct = min(uvloop.run(_one("heartbeat", requests, 1, True)) for _ in range(repeat))
    out.append(("pipeline in process, Heartbeat v4", "decoded + handled + encoded alone: CPU a request, us", direct))
    for per_read in (1, 4):
        piped = min(uvloop.run(_one("heartbeat", requests, per_read, False)) for _ in range(repeat))
        what = f"pipeline in process, Heartbeat v4, {per_read} a read"
        out.append((what, "through the pipeline: CPU a request, us", piped))
        out.append((what, "the pipeline's own: CPU a request, us", piped - direct))
    for per_read in (1, 4):  # (the memory engine keeps every batch: its heap growth blurs a difference here)
        piped = min(uvloop.run(_one("produce", requests // 5, per_read, False)) for _ in range(repeat))
        out.append((f"pipeline in process, Produce v9 of 16 x 1 KiB, {per_read} a read",
                    "through the pipeline: CPU a request, us", piped))
    for size, per_read in ((100, 16), (16_400, 4), (1_000_000, 4)):
        results = [_split(size, per_read, max(1, 40_000_000 // (size * per_read))) for _ in range(repeat)]
        what = f"frame split in process, {size:,}-byte frames, {per_read} a socket's worth"
        out.append((what, "FrameBuffer handed bytes (receive, as TLS reads): us a frame", min(r[0] for r in results)))
        out.append((what, "FrameBuffer read into (get_buffer, as plain reads): us a frame", min(r[1] for r in results)))
    return out


def measure(requests: int = 20_000, repeat: int = 7) -> list[tuple[str, str, float]]:
    """rows() in a child process."""
    done = subprocess.run([sys.executable, __file__, "--json", "--requests", str(requests), "--repeat", str(repeat)],
                          cwd=REPO, capture_output=True, text=True, check=True)
    return [tuple(r) for r in json.loads(done.stdout.strip().splitlines()[-1])]


def table(measured: list[tuple[str, str, float]]) -> str:
    return "| what | figure | value |\n|---|---|---|\n" + "\n".join(
        f"| {w} | {m} | {v:,.2f} |" for w, m, v in measured)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=20_000)
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--json", action="store_true", help="rows as one JSON line (in this process)")
    args = p.parse_args(argv)
    if args.json:
        import structlog
        import logging

        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
        print(json.dumps(rows(args.requests, args.repeat)))
    else:
        print(table(measure(args.requests, args.repeat)))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())

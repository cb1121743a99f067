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
    python scripts/bench_pipeline.py --socket-only [--socket-repo ../main] [--socket-rounds 5]

The small shapes (ApiVersions, a one-topic Metadata, a Produce of one 100-byte record) give the fixed cost a
request, one a read and five a read (librdkafka keeps up to 5 in flight). `--socket` adds the same shapes
through a broker process on a real socket (one raw client connection; the broker's CPU from /proc), where
the reads, writes and wake-ups of the event loop come on top.
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
    if kind == "apiversions":  # what every client sends first (librdkafka: v3)
        return [frame(encode_request_header(18, 3, i, "bench") + encode(APIS[18].request, 3, {
            "client_software_name": "bench", "client_software_version": "1"})) for i in range(count)]
    if kind == "metadata":  # a tiny Metadata: one topic of one partition, by name
        return [frame(encode_request_header(3, 12, i, "bench") + encode(APIS[3].request, 12, {
            "topics": [{"topic_id": bytes(16), "name": "t"}], "allow_auto_topic_creation": False,
            "include_topic_authorized_operations": False})) for i in range(count)]
    if kind == "produce1":  # one partition, one 100-byte record: the request's fixed cost, least handler work
        one = build_batch([(None, bytes(100), [], 1000)])
        return [frame(encode_request_header(0, 9, i, "bench") + encode(APIS[0].request, 9, {
            "transactional_id": None, "acks": 1, "timeout_ms": 1000,
            "topic_data": [{"name": "t", "partition_data": [{"index": 0, "records": one}]}]})) for i in range(count)]
    if kind == "commit100":  # a consumer's OffsetCommit of 100 partitions ("simple": no generation; bench_groups')
        return [frame(encode_request_header(8, 9, i, "bench") + encode(APIS[8].request, 9, {
            "group_id": "g", "generation_id_or_member_epoch": -1, "member_id": "", "group_instance_id": None,
            "topics": [{"name": "c", "partitions": [{"partition_index": p, "committed_offset": i, "committed_leader_epoch": -1,
                                                   "committed_metadata": ""} for p in range(100)]}]}))
            for i in range(count)]
    if kind == "create_c":  # (the socket rows: the commits' topic of 100 partitions)
        return [frame(encode_request_header(19, 5, i, "bench") + encode(APIS[19].request, 5, {
            "topics": [{"name": "c", "num_partitions": 100, "replication_factor": 1, "assignments": [], "configs": []}],
            "timeout_ms": 5000, "validate_only": False})) for i in range(count)]
    if kind == "produce8":  # the 8-partition end-to-end point's request: 8 partitions x ~3 records
        three = build_batch([(None, bytes(100), [], 1000) for _ in range(3)])
        return [frame(encode_request_header(0, 9, i, "bench") + encode(APIS[0].request, 9, {
            "transactional_id": None, "acks": 1, "timeout_ms": 1000, "topic_data": [
                {"name": "t", "partition_data": [{"index": p, "records": three} for p in range(8)]}]}))
            for i in range(count)]
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
    broker.logs.create_topic("t", 8 if kind == "produce8" else 1)
    broker.logs.create_topic("c", 100)  # (the commits')
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


SMALL = (("apiversions", "ApiVersions v3"), ("metadata", "Metadata v12 of one 1-partition topic"),
         ("produce1", "Produce v9 of 1 partition x 1 record of 100 B"),
         ("produce8", "Produce v9 of 8 partitions x 3 records of 100 B (the 8-partition end-to-end shape)"),
         ("commit100", "OffsetCommit v9 of 100 partitions"))


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
    for kind, what in SMALL:  # the fixed cost: one in flight, and five pipelined (librdkafka's default window)
        count = requests // (40 if kind == "commit100" else 2)  # (a commit of 100 partitions: ~20x a small request)
        alone = min(uvloop.run(_one(kind, count, 1, True)) for _ in range(repeat))
        out.append((f"pipeline in process, {what}", "decoded + handled + encoded alone: CPU a request, us", alone))
        for per_read in (1, 5):
            piped = min(uvloop.run(_one(kind, count, per_read, False)) for _ in range(repeat))
            label = f"pipeline in process, {what}, {per_read} a read"
            out.append((label, "through the pipeline: CPU a request, us", piped))
            out.append((label, "the pipeline's own: CPU a request, us", piped - alone))
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


def _socket_run(repo: Path, workdir: Path, requests: int) -> dict[tuple[str, int], float]:
    """One broker (--memory, from `repo`) on a real socket: its CPU (/proc, all threads) a request for each
    small shape, one in flight and five (librdkafka's max.in.flight), one raw client socket."""
    import bench  # (scripts/)
    from bench_conn import pipelined

    bench.compile_bytecode(repo)
    port = bench.free_port()
    argv = [sys.executable, "-m", "gateway", "serve", "--host", bench.HOST, "--port", str(port), "--memory"]
    broker = bench.BrokerProcess("ottla", argv, port, workdir / "ottla.log", cwd=repo)
    broker.start(30.0)
    out = {}
    try:
        address = (bench.HOST, port)
        pipelined(address, _frames("create_c", 1)[0], 1, 1)  # the commits' topic
        for kind in SOCKET_SHAPES:
            frame = _frames(kind, 1)[0]
            count = requests // (20 if kind == "commit100" else 1)
            for window in SOCKET_WINDOWS:
                pipelined(address, frame, count // 10, window)  # warm: the codecs, the bound loggers
                before = broker.cpu_seconds()
                pipelined(address, frame, count, window)
                out[(kind, window)] = (broker.cpu_seconds() - before) * 1e6 / count
    finally:
        broker.stop()
    return out


SOCKET_WINDOWS = (1, 5)
SOCKET_SHAPES = ("produce1", "apiversions", "metadata", "commit100")  # (the Produce auto-creates the Metadata's topic)


def socket_measure(repos: list[Path], requests: int = 20_000, rounds: int = 3) -> dict[str, list[float]]:
    """(repo label, shape, window) -> broker CPU a request per round; repos alternated round by round."""
    import tempfile

    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="ottla-bench-pipeline-") as tmp:
        for round_index in range(rounds):
            for repo in repos if round_index % 2 == 0 else repos[::-1]:
                for key, value in _socket_run(repo, Path(tmp), requests).items():
                    results.setdefault((repo.name, *key), []).append(value)
    return results


def socket_table(results) -> str:
    import statistics

    names = dict(SMALL)
    lines = ["| broker tree | request | in flight | broker CPU a request, us: median [range] |", "|---|---|---:|---|"]
    for (repo, kind, window), values in results.items():
        lines.append(f"| {repo} | {names[kind]} | {window} | {statistics.median(values):.1f} "
                     f"[{min(values):.1f}-{max(values):.1f}] ({len(values)} runs) |")
    return "\n".join(lines)


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
    p.add_argument("--socket", action="store_true", help="also a broker (--memory) on a real socket: its CPU a "
                   "request for the small shapes, 1 and 5 in flight (broker CPU from /proc)")
    p.add_argument("--socket-requests", type=int, default=20_000)
    p.add_argument("--socket-rounds", type=int, default=3)
    p.add_argument("--socket-repo", metavar="DIR", action="append", default=[],
                   help="--socket: also a broker from this checkout, alternated with this one (A/B)")
    p.add_argument("--socket-only", action="store_true", help="only the socket rows")
    args = p.parse_args(argv)
    if args.socket or args.socket_only:
        sys.path.insert(0, str(REPO / "scripts"))
        repos = [REPO] + [Path(r).resolve() for r in args.socket_repo]
        print(socket_table(socket_measure(repos, args.socket_requests, args.socket_rounds)))
        if args.socket_only:
            return 0
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

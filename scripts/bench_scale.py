"""Cost as work grows (bench.py --scale): throughput and broker CPU per MB as partitions and connections
multiply, and Metadata of 100,000 partitions. The goal (issue 14): flat within 20% from 1 to 1,000
partitions and from 1 to 500 connections.

- partitions: bench.py's closed-loop librdkafka produce (acks=1) and consume phases, the same records
  spread round-robin over 1, 10, 100 and 1,000 partitions (--scale-partitions). Produce also counts
  librdkafka's Produce requests (one partition each): KB a request and broker CPU per request, since
  broker CPU per MB at 1,000 partitions follows the request size the client's batching chose.
  Each produce point also splits the bench client's CPU per MB by thread (its Python loop against librdkafka's
  threads, and the busiest librdkafka thread in % of a core): librdkafka's own cost per MB grows with the
  partitions, and broker + client share the 2 cores.
- raw partitions (--scale-raw-mb MB a point): prebuilt Produce v9 requests of ~1 MB (960 x 1 KiB records, one
  batch a partition over up to 64 partitions a request, as the Java client drains its ready partitions up to
  max.request.size; acks=1, 4 in flight on one connection) at the same partition counts: the client only
  resends bytes, so its cost per MB stays flat and the broker's own flatness shows (MB/s, broker CPU per MB
  and per request); every response's error codes are checked.
- connections: raw Produce v9 requests (one batch of 16 x 1 KiB records each, acks=1) pipelined over
  1, 10, 100 and 500 sockets (--scale-connections) from one selector loop, 4 in flight per socket
  (as librdkafka's default max.in.flight would allow 5), onto an 8-partition topic, for
  --scale-seconds. The client only sends prebuilt bytes and counts answers, so the broker is what
  is measured. Ottla's points also split its event loop's time (/proc schedstat of the main thread):
  CPU a request, asleep (nothing to do: at 1 connection, waiting for the client's next request),
  waiting for a core (the machine's other load), and how often it went to sleep a request.
- Metadata: 100 topics x 1,000 partitions, first and repeated, and ApiVersions (scripts/bench_metadata.py).
- Every point also reports the broker's and this client's CPU (% of a core; the client's is this process:
  the Python loop and librdkafka's threads), so a point says who limits it.
- In-process (Ottla only, memory engine, this process's CPU): one Produce of 1, 10, 100 and 1,000
  partitions of 3 x 1 KiB records each and one Fetch reading them back, decoded, handled and encoded: the
  broker's own cost per partition a request, without sockets or the client. And a Fetch of 1 and 8
  partitions of 10 x 100 KiB batches each (1 MB a partition, librdkafka's max.partition.fetch.bytes):
  broker CPU per MB read. And a long-poll Fetch of 1 and 1,000 partitions at the high watermark woken by
  a one-record append to one of them: its CPU (both passes, the wait's bookkeeping, the encode).
  The Produce cost rows (a request's and a partition's, RocksDB and memory) are scripts/bench_produce_cost.py's.
"""

from __future__ import annotations

import asyncio
import json
import os
import selectors
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import uuid

from confluent_kafka.admin import AdminClient

import bench  # scripts/bench.py
import bench_fetch
import bench_metadata
import bench_produce_cost
from bench_conn import framed
from wire.records import build_batch

PRODUCE = 0
RECORD = 1024
RECORDS_PER_BATCH = 16
CONNECTION_TOPIC_PARTITIONS = 8
WINDOW = 4
RAW_RECORDS_PER_BATCH = 15  # ~15.5 KB batches at >= RAW_BATCHES partitions: the Java client's 16 KiB batch.size
RAW_BATCHES = 64  # partitions a request at most (~1 MB a request: the Java client's max.request.size)
RAW_IN_FLIGHT = 4


def add_arguments(p) -> None:
    p.add_argument("--scale-records", type=int, default=100_000, help="records per partitions phase "
                   "(default %(default)s)")
    p.add_argument("--scale-partitions", default="1,10,100,1000", help="partition counts (default %(default)s)")
    p.add_argument("--scale-connections", default="1,10,100,500", help="connection counts (default %(default)s)")
    p.add_argument("--scale-seconds", type=float, default=3.0, help="seconds of each connections point")
    p.add_argument("--scale-raw-mb", type=int, default=300, help="MB of each raw-protocol partitions point "
                   "(several partitions a request, prebuilt; 0: none; default %(default)s)")
    p.add_argument("--scale-metadata", action=__import__("argparse").BooleanOptionalAction, default=True,
                   help="also time Metadata of 100 topics x 1,000 partitions (default on)")


def _produce_frame(topic: str, partition: int, correlation_id: int) -> bytes:
    now = int(time.time() * 1000)
    batch = build_batch([(None, bytes(RECORD), [], now) for _ in range(RECORDS_PER_BATCH)])
    return framed(PRODUCE, 9, {"transactional_id": None, "acks": 1, "timeout_ms": 30000, "topic_data": [
        {"name": topic, "partition_data": [{"index": partition, "records": batch}]}]}, correlation_id)


def connections_point(address: tuple[str, int], topic: str, count: int, seconds: float, broker) -> dict:
    """Pipelined produce over `count` sockets; records/s, MB/s and broker CPU per MB."""
    selector = selectors.DefaultSelector()
    conns = []
    for i in range(count):
        sock = socket.create_connection(address, timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conns.append({"sock": sock, "frame": _produce_frame(topic, i % CONNECTION_TOPIC_PARTITIONS, i + 1),
                      "buf": bytearray(), "in_flight": 0, "answers": 0, "errors": 0})
    for c in conns:  # one round trip each before the clock: connected, topic known
        c["sock"].sendall(c["frame"])
        _read_answers(c, block=True)
        c["answers"] = 0
    for c in conns:
        c["sock"].setblocking(False)
        selector.register(c["sock"], selectors.EVENT_READ, c)
    cpu_before = broker.cpu_seconds() if broker else None
    loop_before = _loop_thread(broker)
    client_before = time.process_time()
    started = time.perf_counter()
    stop_at = started + seconds
    for c in conns:
        c["sock"].sendall(c["frame"] * WINDOW)
        c["in_flight"] = WINDOW
    while (now := time.perf_counter()) < stop_at:
        for key, _ in selector.select(timeout=min(0.1, stop_at - now)):
            c = key.data
            got = _read_answers(c)
            if got:
                c["in_flight"] -= got
                if time.perf_counter() < stop_at:
                    c["sock"].setblocking(True)
                    c["sock"].sendall(c["frame"] * got)
                    c["sock"].setblocking(False)
                    c["in_flight"] += got
    elapsed = time.perf_counter() - started
    client = time.process_time() - client_before
    loop_after = _loop_thread(broker)
    answered = sum(c["answers"] for c in conns)  # answers after the clock stopped are not counted
    cpu = broker.cpu_seconds() - cpu_before if broker else None
    for c in conns:
        selector.unregister(c["sock"])
        c["sock"].close()
    records = answered * RECORDS_PER_BATCH
    mb = records * RECORD / 1e6
    out = {"records_per_s": records / elapsed, "mb_per_s": mb / elapsed,
           "cpu_ms_per_mb": cpu * 1000 / mb if cpu is not None and mb else None,
           "cpu_percent": 100 * cpu / elapsed if cpu is not None else None, "client_percent": 100 * client / elapsed}
    if loop_before and loop_after and answered:  # the broker's event loop: running, waiting for a core, asleep
        on_cpu, waiting, switches = (after - before for after, before in zip(loop_after, loop_before))
        out.update(loop_on_cpu_percent=100 * on_cpu / elapsed, loop_waiting_percent=100 * waiting / elapsed,
                   loop_asleep_percent=100 * max(0.0, elapsed - on_cpu - waiting) / elapsed,
                   loop_us_per_request=on_cpu * 1e6 / answered, loop_sleeps_per_request=switches / answered)
    return out


def _loop_thread(broker) -> tuple[float, float, int] | None:
    """The broker's main thread (Ottla's event loop): seconds on a CPU, seconds runnable but waiting for one
    (/proc/PID/task/PID/schedstat), and its voluntary context switches (it went to sleep: nothing to do, or
    a lock). None without a broker process."""
    pid = getattr(getattr(broker, "proc", None), "pid", None)
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/task/{pid}/schedstat") as stat, open(f"/proc/{pid}/task/{pid}/status") as status:
            on_cpu, waiting = (int(x) / 1e9 for x in stat.read().split()[:2])
            switches = next(int(line.split()[1]) for line in status if line.startswith("voluntary_ctxt_switches"))
    except (OSError, StopIteration, ValueError):
        return None
    return on_cpu, waiting, switches


def raw_produce_frames(topic: str, partitions: int) -> list[bytes]:
    """Prebuilt Produce v9 requests (acks=1) of RAW_BATCHES x RAW_RECORDS_PER_BATCH 1 KiB records (~1 MB, the Java
    client's max.request.size) at every partition count, one batch a partition (Produce v3+ allows no more):
    over fewer than RAW_BATCHES partitions each partition's batch holds a share of the records (one ~1 MB batch at
    1 partition, as librdkafka sends there), over more each request holds RAW_BATCHES partitions of one ~15 KB
    batch (the Java client's 16 KiB batch.size) and the next request the next RAW_BATCHES, so every partition is
    written. The same bytes a request whatever the partition count: the client's cost per MB does not grow."""
    payload = os.urandom(RECORD)  # one random record repeated, as the librdkafka phases send it
    now = int(time.time() * 1000)
    width = min(partitions, RAW_BATCHES)
    records = RAW_BATCHES * RAW_RECORDS_PER_BATCH
    batches = [build_batch([(None, payload, [], now)] * (records // width + (i < records % width))) for i in range(width)]
    frames = []
    for first in range(0, partitions if partitions > RAW_BATCHES else 1, RAW_BATCHES):
        entries = [{"index": (first + i) % partitions, "records": batch} for i, batch in enumerate(batches)]
        frames.append(framed(PRODUCE, 9, {"transactional_id": None, "acks": 1, "timeout_ms": 30000,
                                          "topic_data": [{"name": topic, "partition_data": entries}]}, len(frames) + 1))
    return frames


def _produce_errors(frame: bytes) -> list[int]:
    """The error codes of one Produce v9 response frame (size field included)."""
    from wire.codec import decode
    from wire.headers import _skip_tagged_fields
    from wire.messages import APIS

    response = decode(APIS[PRODUCE].response, 9, frame, _skip_tagged_fields(frame, 8))  # size, correlation id, tags
    return [p["error_code"] for t in response["responses"] for p in t["partition_responses"]]


def raw_partitions_point(address: tuple[str, int], topic: str, partitions: int, megabytes: int, broker) -> dict:
    """Prebuilt ~1 MB Produce requests (raw_produce_frames), RAW_IN_FLIGHT in flight on one connection, until
    `megabytes` MB of values are acknowledged: MB/s, broker CPU per MB and per request, the client's CPU per MB.
    Every response's error codes are checked (a point with errors reports them)."""
    frames = raw_produce_frames(topic, partitions)
    values = RAW_BATCHES * RAW_RECORDS_PER_BATCH * RECORD  # value bytes a request
    total = max(1, megabytes * 1_000_000 // values)
    sock = socket.create_connection(address, timeout=60)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c = {"sock": sock, "buf": bytearray(), "answers": 0, "frames": []}
    errors = 0

    def answered(block: bool) -> int:
        nonlocal errors
        got = _read_answers(c, block, keep=True)
        for frame in c["frames"]:
            errors += sum(1 for code in _produce_errors(frame) if code)
        c["frames"].clear()
        return got

    for frame in frames:  # every partition has its first batch before the clock
        sock.sendall(frame)
        answered(True)
    sent = done = 0
    pid = getattr(getattr(broker, "proc", None), "pid", None)
    threads_before = _threads_cpu(pid)
    cpu_before = broker.cpu_seconds() if broker else None
    client_before = time.process_time()
    started = time.perf_counter()
    while done < total:
        while sent < total and sent - done < RAW_IN_FLIGHT:
            sock.sendall(frames[sent % len(frames)])
            sent += 1
        done += answered(True)
    elapsed = time.perf_counter() - started
    client = time.process_time() - client_before
    cpu = broker.cpu_seconds() - cpu_before if broker else None
    threads = {name: spent - threads_before.get(name, 0.0) for name, spent in _threads_cpu(pid).items()}
    sock.close()
    mb = total * values / 1e6
    rocks = sum(v for k, v in threads.items() if k.startswith("rocksdb:"))
    return {"mb_per_s": mb / elapsed, "requests": total, "errors": errors, "kb_a_request": len(frames[0]) / 1e3,
            "cpu_ms_per_mb": cpu * 1000 / mb if cpu is not None else None,
            "cpu_us_per_request": cpu * 1e6 / total if cpu is not None else None,
            "main_ms_per_mb": threads[f"main/{pid}"] * 1000 / mb if f"main/{pid}" in threads else None,
            "rocks_ms_per_mb": rocks * 1000 / mb if threads else None,
            "cpu_percent": 100 * cpu / elapsed if cpu is not None else None,
            "client_ms_per_mb": client * 1000 / mb, "client_percent": 100 * client / elapsed}


def _threads_cpu(pid: int | None) -> dict[str, float]:
    """CPU seconds so far of each thread of process `pid` (schedstat), keyed "name/tid"; its main thread (the
    event loop) is "main/pid". Empty without a pid (a broker this bench did not start)."""
    out = {}
    if pid is None:
        return out
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as comm, open(f"/proc/{pid}/task/{tid}/schedstat") as stat:
                name = "main" if tid == str(pid) else comm.read().strip()
                out[f"{name}/{tid}"] = int(stat.read().split()[0]) / 1e9
        except OSError:
            continue
    return out


def _read_answers(c: dict, block: bool = False, keep: bool = False) -> int:
    """Whole response frames now in the socket (at least one when block)."""
    got = 0
    while True:
        try:
            chunk = c["sock"].recv(1 << 16)
        except BlockingIOError:
            break
        if not chunk:
            raise ConnectionError("broker closed the connection")
        c["buf"] += chunk
        buf, pos = c["buf"], 0
        while len(buf) - pos >= 4:
            (size,) = struct.unpack_from(">i", buf, pos)
            if len(buf) - pos - 4 < size:
                break
            if keep:
                c["frames"].append(bytes(buf[pos:pos + 4 + size]))
            pos += 4 + size
            got += 1
        del buf[:pos]
        if block and got:
            break
        if not block:
            continue
    c["answers"] += got
    return got


def _per_mb(seconds: float | None, size: int) -> float | None:
    return seconds * 1000 / (size / 1e6) if seconds is not None and size else None


def _in_process_broker(partitions: int, data_dir: str | None = None):
    """A broker in this process with a topic "t" of `partitions`: memory engine, or RocksDB in data_dir."""
    import structlog

    from gateway.broker import Broker
    from gateway.config import Config
    from gateway.registry import RequestContext, lookup
    from partitions.memory import MemoryStorage
    from wire.codec import decode, encode

    from gateway import handlers  # noqa: F401  (fills the registry)

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))  # this process only
    if data_dir is None:
        broker = Broker(Config(memory=True), MemoryStorage())
    else:
        from partitions.rocks import RocksStorage

        broker = Broker(Config(data_dir=data_dir), RocksStorage(os.path.join(data_dir, "rocksdb")))
    loop = asyncio.new_event_loop()

    def request(api: int, version: int, body: dict):
        registration = lookup(api, version)
        raw = encode(registration.api.request, version, body)

        def once() -> bytes:
            ctx = RequestContext(broker, api, version, 1, "bench-scale", structlog.get_logger())
            decoded = decode(registration.api.request, version, raw)
            return encode(registration.api.response, version, loop.run_until_complete(registration.handler(ctx, decoded)))
        return once

    request(19, 7, {"timeout_ms": 30000, "validate_only": False, "topics": [
        {"name": "t", "num_partitions": partitions, "replication_factor": -1, "assignments": [], "configs": []}]})()
    return broker, request


def _fetch_body(partitions: int, offset: int) -> dict:
    return {"replica_id": -1, "max_wait_ms": 0, "min_bytes": 1, "max_bytes": 52428800, "isolation_level": 1,
            "session_id": 0, "session_epoch": -1, "forgotten_topics_data": [], "rack_id": "",
            "topics": [{"topic": "t", "partitions": [
                {"partition": p, "current_leader_epoch": -1, "fetch_offset": offset, "last_fetched_epoch": -1,
                 "log_start_offset": -1, "partition_max_bytes": 1048576} for p in range(partitions)]}]}


def _cpu_per_call(once, seconds: float = 0.3) -> tuple[float, bytes]:
    out = once()
    calls, started = 0, time.process_time()
    while (spent := time.process_time() - started) < seconds or calls < 3:
        out = once()
        calls += 1
    return spent / calls, out


def in_process_rows() -> list[tuple]:
    """The broker's own CPU per partition of a Produce / Fetch request and per MB of a big Fetch."""
    rows = []
    now = int(time.time() * 1000)
    small = build_batch([(None, bytes(RECORD), [], now) for _ in range(3)])
    for partitions in (1, 10, 100, 1000):
        broker, request = _in_process_broker(partitions)
        produce = request(PRODUCE, 9, {"transactional_id": None, "acks": 1, "timeout_ms": 30000, "topic_data": [
            {"name": "t", "partition_data": [{"index": p, "records": small} for p in range(partitions)]}]})
        cpu, _ = _cpu_per_call(produce)
        end = broker.logs.get("t").partition(0).high_watermark
        fetched, _ = _cpu_per_call(request(1, 12, _fetch_body(partitions, end - 3)))  # the last batch of each
        what = f"scale in-process, {partitions:,} partition{'s' if partitions > 1 else ''} x 3 records a request"
        rows.append((what, "Produce broker CPU per partition, us", cpu * 1e6 / partitions, None))
        rows.append((what, "Fetch broker CPU per partition, us", fetched * 1e6 / partitions, None))
    big = build_batch([(None, bytes(RECORD), [], now) for _ in range(100)])
    for partitions in (1, 8):
        broker, request = _in_process_broker(partitions)
        produce = request(PRODUCE, 9, {"transactional_id": None, "acks": 1, "timeout_ms": 30000, "topic_data": [
            {"name": "t", "partition_data": [{"index": p, "records": big} for p in range(partitions)]}]})
        for _ in range(10):
            produce()
        cpu, out = _cpu_per_call(request(1, 12, _fetch_body(partitions, 0)))
        what = f"scale in-process, Fetch of {partitions} partition{'s' if partitions > 1 else ''} x 10 batches of 100 KiB"
        rows.append((what, "broker CPU per MB, ms", cpu * 1e3 / (len(out) / 1e6), None))
    rows += bench_produce_cost.rows(now)
    rows += bench_fetch.rows()  # consume from RocksDB as librdkafka fetches: broker CPU per MB
    rows += bench_fetch.cost_rows()  # CPU a Fetch and a partition beyond the first (raw and small shapes)
    for partitions in (1, 1000):
        what = f"scale in-process, long-poll Fetch of {partitions:,} partition{'s' if partitions > 1 else ''} woken by one append"
        rows.append((what, "Fetch broker CPU, us", _long_poll_cpu(partitions, now) * 1e6, None))
    return rows


def _long_poll_cpu(partitions: int, now: int, rounds: int = 15) -> float:
    """Median CPU seconds of a Fetch waiting at every partition's high watermark (max_wait 2 s), woken by a
    one-record Produce to partition 0: its first pass, its wait, its second pass and encode."""
    import structlog

    from gateway.registry import RequestContext, lookup
    from wire.codec import decode, encode

    broker, _ = _in_process_broker(partitions)
    produce, fetch = lookup(PRODUCE, 9), lookup(1, 12)
    produced = encode(produce.api.request, 9, {"transactional_id": None, "acks": 1, "timeout_ms": 30000, "topic_data": [
        {"name": "t", "partition_data": [{"index": 0, "records": build_batch([(None, bytes(RECORD), [], now)])}]}]})
    loop = asyncio.new_event_loop()
    spent = []

    async def one() -> None:
        body = _fetch_body(partitions, 0)
        body["max_wait_ms"] = 2000
        for p in body["topics"][0]["partitions"]:
            p["fetch_offset"] = broker.logs.get("t").partition(p["partition"]).high_watermark
        raw = encode(fetch.api.request, 12, body)
        started = time.process_time()
        ctx = RequestContext(broker, 1, 12, 1, "bench-scale", structlog.get_logger())
        task = loop.create_task(fetch.handler(ctx, decode(fetch.api.request, 12, raw)))
        await asyncio.sleep(0.005)  # waiting
        waited = time.process_time()
        await produce.handler(RequestContext(broker, PRODUCE, 9, 2, "bench-scale", structlog.get_logger()),
                              decode(produce.api.request, 9, produced))  # the waiting Fetch wakes on it
        woken = time.process_time()
        encode(fetch.api.response, 12, await task)
        spent.append((waited - started) + (time.process_time() - woken))

    asyncio.set_event_loop(loop)
    for _ in range(rounds):
        loop.run_until_complete(one())
    return statistics.median(spent)


def in_process_subprocess() -> list[tuple]:
    """in_process_rows() in a child process, so what it sets process-wide (the broker's malloc thresholds,
    logging) never reaches the client of the phases measured here."""
    done = subprocess.run([sys.executable, __file__, "--in-process"], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        return [("scale in-process", "Produce broker CPU per partition, us", None,
                 f"failed: {done.stderr.strip().splitlines()[-1:]}")]
    return [tuple(row) for row in json.loads(done.stdout.strip().splitlines()[-1])]


def _client_thread_rows(what: str, phase, note) -> list[tuple]:
    """The bench client's CPU per MB split by thread: its Python loop (produce() calls, delivery reports)
    against librdkafka's threads (batching per partition, building and sending the requests), and the busiest
    librdkafka thread in % of a core: a thread near 100% bounds the point whatever the broker does."""
    threads = phase.client_thread_seconds or {}
    python = sum(v for k, v in threads.items() if not k.startswith("rdk:"))
    rdk = {k: v for k, v in threads.items() if k.startswith("rdk:")}
    rows = [(what, f"{phase.kind} bench client CPU per MB, Python thread, ms", _per_mb(python, phase.bytes), note),
            (what, f"{phase.kind} bench client CPU per MB, librdkafka threads, ms", _per_mb(sum(rdk.values()), phase.bytes),
             note)]
    if rdk and phase.seconds:
        busiest = max(rdk, key=rdk.get)
        rows.append((what, f"{phase.kind} bench client busiest librdkafka thread, % of a core",
                     100 * rdk[busiest] / phase.seconds, note))
        # (one thread: 1,000 / this is the most MB/s it allows, whatever the broker)
        rows.append((what, f"{phase.kind} bench client busiest librdkafka thread CPU per MB, ms",
                     _per_mb(rdk[busiest], phase.bytes), note))
        print(f"#   {what}: busiest librdkafka thread {busiest.split('/')[0]}", file=sys.stderr)
    return rows


def _raw_partitions_rows(name: str, admin, address, run: str, broker, args) -> list[tuple]:
    """raw_partitions_point at each --scale-partitions count: the broker's own flatness, the client's cost per MB
    held constant (prebuilt ~1 MB requests of 64 batches, several partitions a request, acks=1, 4 in flight)."""
    rows = []
    for partitions in (int(p) for p in args.scale_partitions.split(",") if p):
        what = (f"scale raw, {partitions:,} partition{'s' if partitions > 1 else ''} (~1 MB requests of up to "
                f"{RAW_BATCHES} partitions)")
        topic = f"bench-scale-{run}-raw{partitions}"
        try:
            bench.create_topic(admin, topic, partitions, args.phase_timeout)
            r = raw_partitions_point(address, topic, partitions, args.scale_raw_mb, broker)
            admin.delete_topics([topic])
        except Exception as exc:
            print(f"#   {name} {what}: {type(exc).__name__}: {exc}", file=sys.stderr)
            rows.append((what, "produce MB/s", None, f"{type(exc).__name__}: {exc}"))
            continue
        note = f"{r['errors']} partition errors in the responses" if r["errors"] else None
        if name != "Ottla":  # (Tansu's work runs on tokio's worker threads, and it has no RocksDB)
            r["main_ms_per_mb"] = r["rocks_ms_per_mb"] = None
        rows.append((what, "produce MB/s", r["mb_per_s"], note))
        rows.append((what, "produce broker CPU per MB, ms", r["cpu_ms_per_mb"], note))
        rows.append((what, "produce broker CPU per request, us", r["cpu_us_per_request"], note))
        rows.append((what, "produce broker CPU, % of a core", r["cpu_percent"], note))
        rows.append((what, "produce broker CPU per MB, event-loop thread, ms", r["main_ms_per_mb"], note))
        rows.append((what, "produce broker CPU per MB, RocksDB's flush and compaction threads, ms", r["rocks_ms_per_mb"],
                     note))
        rows.append((what, "produce bench client CPU per MB, ms", r["client_ms_per_mb"], note))
        rows.append((what, "produce bench client CPU, % of a core", r["client_percent"], note))
        print(f"#   {name} {what}: {r['mb_per_s']:.1f} MB/s, {r['requests']} requests of {r['kb_a_request']:.0f} KB, "
              f"broker {r['cpu_ms_per_mb'] or 0:.2f} ms/MB ({r['cpu_percent'] or 0:.0f}%; loop thread "
              f"{r['main_ms_per_mb'] or 0:.2f}, RocksDB's {r['rocks_ms_per_mb'] or 0:.2f}), client "
              f"{r['client_ms_per_mb']:.2f} ms/MB ({r['client_percent']:.0f}%), {r['errors']} errors", file=sys.stderr)
    return rows


def measure(name: str, bootstrap: str, broker, args) -> list[tuple]:
    rows: list[tuple] = in_process_subprocess() if name == "Ottla" else []
    admin = AdminClient(bench.client_config(bootstrap))
    run = uuid.uuid4().hex[:6]
    for partitions in (int(p) for p in args.scale_partitions.split(",") if p):
        what = f"scale, {partitions:,} partition{'s' if partitions > 1 else ''}"
        try:
            topic = f"bench-scale-{run}-p{partitions}"
            bench.create_topic(admin, topic, partitions, args.phase_timeout)
            produce = bench.Phase("produce", partitions, "1", topic, args.scale_records)
            bench.produce_phase(bootstrap, produce, args.record_size, args.phase_timeout, broker, count_requests=True)
            consume = bench.Phase("consume", partitions, None, topic, produce.records)
            bench.consume_phase(bootstrap, consume, produce.per_partition, args.phase_timeout, broker)
            host, port = bootstrap.rsplit(":", 1)  # the broker's own flatness: a client whose cost does not grow
            raw = bench_fetch.raw_point((host, int(port)), topic, produce.per_partition, broker, args.scale_seconds)
            admin.delete_topics([topic])
        except Exception as exc:
            print(f"#   {name} {what}: {type(exc).__name__}: {exc}", file=sys.stderr)
            rows.append((what, "produce MB/s", None, f"{type(exc).__name__}: {exc}"))
            continue
        if produce.requests:  # broker CPU per MB follows the request size librdkafka chose (its batching)
            note = None if produce.ok else bench.describe_problem(produce)
            rows.append((what, "produce KB a request (librdkafka's Produce requests)", produce.bytes / 1e3 / produce.requests,
                         note))
            if produce.broker_cpu_seconds is not None:
                rows.append((what, "produce broker CPU per request, us", produce.broker_cpu_seconds * 1e6 / produce.requests,
                             note))
        for phase in (produce, consume):
            note = None if phase.ok else bench.describe_problem(phase)
            rows.append((what, f"{phase.kind} MB/s", phase.mb_per_s, note))
            rows.append((what, f"{phase.kind} broker CPU per MB, ms", phase.broker_cpu_ms_per_mb, note))
            # who limits the point: a broker near 100% of a core, or the client (librdkafka's threads + loop)
            rows.append((what, f"{phase.kind} bench client CPU per MB, ms",
                         _per_mb(phase.client_cpu_seconds, phase.bytes), note))
            rows.append((what, f"{phase.kind} broker CPU, % of a core", phase.broker_cpu_percent, note))
            rows.append((what, f"{phase.kind} bench client CPU, % of a core", phase.client_cpu_percent, note))
            rows += _client_thread_rows(what, phase, note)  # (consume: readpath's rows, the same split)
        rows += bench_fetch.raw_rows(what, raw)
        print(f"#   {name} {what}: raw Fetch {raw['mb_per_s']:.1f} MB/s, broker / client CPU per MB "
              f"{raw['broker_ms_per_mb'] or 0:.2f} / {raw['client_ms_per_mb']:.2f} ms", file=sys.stderr)
        print(f"#   {name} {what}: produce {produce.mb_per_s or 0:.1f} MB/s, {produce.requests or 0} requests (broker / client CPU "
              f"{produce.broker_cpu_percent or 0:.0f}% / {produce.client_cpu_percent or 0:.0f}%), consume "
              f"{consume.mb_per_s or 0:.1f} MB/s ({consume.broker_cpu_percent or 0:.0f}% / "
              f"{consume.client_cpu_percent or 0:.0f}%)", file=sys.stderr)
    host, port = bootstrap.rsplit(":", 1)
    address = (host, int(port))
    if args.scale_raw_mb > 0:
        rows += _raw_partitions_rows(name, admin, address, run, broker, args)
    topic = f"bench-scale-{run}-conns"
    try:
        bench.create_topic(admin, topic, CONNECTION_TOPIC_PARTITIONS, args.phase_timeout)
        for count in (int(c) for c in args.scale_connections.split(",") if c):
            what = f"scale, {count:,} connection{'s' if count > 1 else ''} producing (raw, {WINDOW} in flight each)"
            r = connections_point(address, topic, count, args.scale_seconds, broker)
            rows.append((what, "MB/s", r["mb_per_s"], None))
            rows.append((what, "broker CPU per MB, ms", r["cpu_ms_per_mb"], None))
            rows.append((what, "broker CPU, % of a core", r["cpu_percent"], None))
            rows.append((what, "client CPU, % of a core", r["client_percent"], None))
            if name == "Ottla" and "loop_us_per_request" in r:  # who waits for whom (pipeline, issue 14)
                rows.append((what, "broker event loop CPU a request, us", r["loop_us_per_request"], None))
                rows.append((what, "broker event loop asleep, % of the point", r["loop_asleep_percent"], None))
                rows.append((what, "broker event loop waiting for a core, % of the point", r["loop_waiting_percent"],
                             None))
                rows.append((what, "broker event loop sleeps a request", r["loop_sleeps_per_request"], None))
            print(f"#   {name} {what}: {r['mb_per_s']:.1f} MB/s (broker / client CPU {r['cpu_percent'] or 0:.0f}% / "
                  f"{r['client_percent']:.0f}%)", file=sys.stderr)
        admin.delete_topics([topic])
    except Exception as exc:
        print(f"#   {name} connections: {type(exc).__name__}: {exc}", file=sys.stderr)
        rows.append(("scale, connections", "MB/s", None, f"{type(exc).__name__}: {exc}"))
    if args.scale_metadata and not getattr(args, "metadata", False):  # (--metadata runs it once already)
        rows += bench_metadata.run(name, bootstrap, broker, args)  # Metadata of 100,000 partitions, ApiVersions
    return rows


if __name__ == "__main__" and sys.argv[1:] == ["--in-process"]:
    print(json.dumps(in_process_rows()))
elif __name__ == "__main__" and sys.argv[1:] == ["--small-produce"]:  # those rows alone (an A/B of the handler)
    for row in bench_produce_cost.rows(int(time.time() * 1000)):
        print(f"{row[0]}: {row[1]} {row[2]:.2f}")

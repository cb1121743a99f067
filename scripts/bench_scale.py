"""Cost as work grows (bench.py --scale): throughput and broker CPU per MB as partitions and connections
multiply, and Metadata of 100,000 partitions. The goal (issue 14): flat within 20% from 1 to 1,000
partitions and from 1 to 500 connections.

- partitions: bench.py's closed-loop librdkafka produce (acks=1) and consume phases, the same records
  spread round-robin over 1, 10, 100 and 1,000 partitions (--scale-partitions).
- connections: raw Produce v9 requests (one batch of 16 x 1 KiB records each, acks=1) pipelined over
  1, 10, 100 and 500 sockets (--scale-connections) from one selector loop, 4 in flight per socket
  (as librdkafka's default max.in.flight would allow 5), onto an 8-partition topic, for
  --scale-seconds. The client only sends prebuilt bytes and counts answers, so the broker is what
  is measured.
- Metadata: 100 topics x 1,000 partitions, first and repeated, and ApiVersions (scripts/bench_metadata.py).
"""

from __future__ import annotations

import selectors
import socket
import struct
import sys
import time
import uuid

from confluent_kafka.admin import AdminClient

import bench  # scripts/bench.py
import bench_metadata
from bench_conn import framed
from wire.records import build_batch

PRODUCE = 0
RECORD = 1024
RECORDS_PER_BATCH = 16
CONNECTION_TOPIC_PARTITIONS = 8
WINDOW = 4


def add_arguments(p) -> None:
    p.add_argument("--scale-records", type=int, default=100_000, help="records per partitions phase "
                   "(default %(default)s)")
    p.add_argument("--scale-partitions", default="1,10,100,1000", help="partition counts (default %(default)s)")
    p.add_argument("--scale-connections", default="1,10,100,500", help="connection counts (default %(default)s)")
    p.add_argument("--scale-seconds", type=float, default=3.0, help="seconds of each connections point")
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
    answered = sum(c["answers"] for c in conns)  # answers after the clock stopped are not counted
    cpu = broker.cpu_seconds() - cpu_before if broker else None
    for c in conns:
        selector.unregister(c["sock"])
        c["sock"].close()
    records = answered * RECORDS_PER_BATCH
    mb = records * RECORD / 1e6
    return {"records_per_s": records / elapsed, "mb_per_s": mb / elapsed,
            "cpu_ms_per_mb": cpu * 1000 / mb if cpu is not None and mb else None}


def _read_answers(c: dict, block: bool = False) -> int:
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
            pos += 4 + size
            got += 1
        del buf[:pos]
        if block and got:
            break
        if not block:
            continue
    c["answers"] += got
    return got


def measure(name: str, bootstrap: str, broker, args) -> list[tuple]:
    rows: list[tuple] = []
    admin = AdminClient(bench.client_config(bootstrap))
    run = uuid.uuid4().hex[:6]
    for partitions in (int(p) for p in args.scale_partitions.split(",") if p):
        what = f"scale, {partitions:,} partition{'s' if partitions > 1 else ''}"
        try:
            topic = f"bench-scale-{run}-p{partitions}"
            bench.create_topic(admin, topic, partitions, args.phase_timeout)
            produce = bench.Phase("produce", partitions, "1", topic, args.scale_records)
            bench.produce_phase(bootstrap, produce, args.record_size, args.phase_timeout, broker)
            consume = bench.Phase("consume", partitions, None, topic, produce.records)
            bench.consume_phase(bootstrap, consume, produce.per_partition, args.phase_timeout, broker)
            admin.delete_topics([topic])
        except Exception as exc:
            print(f"#   {name} {what}: {type(exc).__name__}: {exc}", file=sys.stderr)
            rows.append((what, "produce MB/s", None, f"{type(exc).__name__}: {exc}"))
            continue
        for phase in (produce, consume):
            note = None if phase.ok else bench.describe_problem(phase)
            rows.append((what, f"{phase.kind} MB/s", phase.mb_per_s, note))
            rows.append((what, f"{phase.kind} broker CPU per MB, ms", phase.broker_cpu_ms_per_mb, note))
        print(f"#   {name} {what}: produce {produce.mb_per_s or 0:.1f} MB/s, consume {consume.mb_per_s or 0:.1f} MB/s",
              file=sys.stderr)
    host, port = bootstrap.rsplit(":", 1)
    address = (host, int(port))
    topic = f"bench-scale-{run}-conns"
    try:
        bench.create_topic(admin, topic, CONNECTION_TOPIC_PARTITIONS, args.phase_timeout)
        for count in (int(c) for c in args.scale_connections.split(",") if c):
            what = f"scale, {count:,} connection{'s' if count > 1 else ''} producing (raw, {WINDOW} in flight each)"
            r = connections_point(address, topic, count, args.scale_seconds, broker)
            rows.append((what, "MB/s", r["mb_per_s"], None))
            rows.append((what, "broker CPU per MB, ms", r["cpu_ms_per_mb"], None))
            print(f"#   {name} {what}: {r['mb_per_s']:.1f} MB/s", file=sys.stderr)
        admin.delete_topics([topic])
    except Exception as exc:
        print(f"#   {name} connections: {type(exc).__name__}: {exc}", file=sys.stderr)
        rows.append(("scale, connections", "MB/s", None, f"{type(exc).__name__}: {exc}"))
    if args.scale_metadata and not getattr(args, "metadata", False):  # (--metadata runs it once already)
        rows += bench_metadata.run(name, bootstrap, broker, args)  # Metadata of 100,000 partitions, ApiVersions
    return rows

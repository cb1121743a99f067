"""The connection's own cost: pipelined small requests per second, and a second client's ApiVersions
latency while one connection floods (the bound issue 10 sets: p99 under 50 ms).

Raw protocol over one socket, a window of requests in flight as librdkafka keeps them, so the
figures time the broker's dispatch path (framing, ordering, back-pressure), not a client library.
Run alone (`python scripts/bench_conn.py --bootstrap HOST:PORT`) or through `bench.py --connection`.
"""

from __future__ import annotations

import argparse
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from wire.codec import encode  # noqa: E402
from wire.headers import encode_request_header  # noqa: E402
from wire.messages import APIS  # noqa: E402
from wire.records import build_batch  # noqa: E402

PRODUCE, METADATA, API_VERSIONS = 0, 3, 18
WINDOW = 50
TOPIC = "bench-conn"


def framed(api_key: int, version: int, body: dict, correlation_id: int) -> bytes:
    payload = encode_request_header(api_key, version, correlation_id, "bench-conn") + encode(
        APIS[api_key].request, version, body)
    return struct.pack(">i", len(payload)) + payload


def produce_frame(value_size: int, correlation_id: int) -> bytes:
    batch = build_batch([(None, b"v" * value_size, [], 1000)])
    return framed(PRODUCE, 9, {"transactional_id": None, "acks": 1, "timeout_ms": 1000, "topic_data": [
        {"name": TOPIC, "partition_data": [{"index": 0, "records": batch}]}]}, correlation_id)


API_VERSIONS_FRAME = framed(API_VERSIONS, 3, {"client_software_name": "b", "client_software_version": "1"}, 1)


class Reader:
    """Counts whole response frames arriving on a socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.buffer = sock, bytearray()

    def frames(self) -> int:
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("broker closed the connection")
        self.buffer += chunk
        n = pos = 0
        while len(self.buffer) - pos >= 4:
            (size,) = struct.unpack_from(">i", self.buffer, pos)
            if len(self.buffer) - pos - 4 < size:
                break
            pos += 4 + size
            n += 1
        del self.buffer[:pos]
        return n


def pipelined(address: tuple[str, int], frame: bytes, count: int, window: int = WINDOW) -> float:
    """Seconds to send `count` copies of `frame` with `window` in flight and read every answer."""
    sock = socket.create_connection(address)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    reader = Reader(sock)
    sock.sendall(frame)  # warm up (auto-creates the topic)
    while reader.frames() < 1:
        pass
    started = time.perf_counter()
    sent = answered = 0
    while answered < count:
        burst = min(window - (sent - answered), count - sent)
        if burst > 0:
            sock.sendall(frame * burst)
            sent += burst
        answered += reader.frames()
    elapsed = time.perf_counter() - started
    sock.close()
    return elapsed


def round_trips(address: tuple[str, int], count: int) -> list[float]:
    sock = socket.create_connection(address)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    reader = Reader(sock)
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        sock.sendall(API_VERSIONS_FRAME)
        while reader.frames() < 1:
            pass
        samples.append((time.perf_counter() - started) * 1000)
        time.sleep(0.002)
    sock.close()
    return sorted(samples)


def _flood(address: tuple[str, int], stop: threading.Event) -> None:
    frame = produce_frame(100_000, 2)
    try:
        while not stop.is_set():
            pipelined(address, frame, 200)
    except OSError:
        pass


def cpu_of(pid: int):
    """Broker CPU seconds (user + system) from /proc: a per-request cost that other load barely moves."""
    ticks = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    return read


def measure(address: tuple[str, int], requests: int = 20_000, broker_cpu=None) -> list[tuple[str, str, float | None, str | None]]:
    rows = []
    frames = [(f"Produce of 1 x {size} B", produce_frame(size, 3), size) for size in (100, 10_000)]
    frames.append(("ApiVersions", API_VERSIONS_FRAME, 0))
    for name, frame, size in frames:
        cpu_before = broker_cpu() if broker_cpu else None
        seconds = pipelined(address, frame, requests)
        what = f"connection: pipelined {name}, {WINDOW} in flight"
        rows.append((what, "requests/s", requests / seconds, None))
        if size:
            rows.append((what, "MB/s", requests * size / seconds / 1e6, None))
        if broker_cpu:
            rows.append((what, "broker CPU per request, us", (broker_cpu() - cpu_before) / requests * 1e6, None))
    # a flooder in another process, so the measuring client does not share its GIL
    flooder = subprocess.Popen([sys.executable, __file__, "--flood", "--bootstrap", f"{address[0]}:{address[1]}"],
                               stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        samples = round_trips(address, 300)
    finally:
        flooder.kill()
        flooder.wait(10)
    what = "connection: ApiVersions round trip while another connection pipelines 100 KB Produces"
    rows += [(what, "p50, ms", samples[len(samples) // 2], None), (what, "p99, ms", samples[int(len(samples) * 0.99) - 1], None)]
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--bootstrap", required=True, metavar="HOST:PORT")
    p.add_argument("--requests", type=int, default=20_000)
    p.add_argument("--pid", type=int, help="the broker's process id: also report its CPU per request")
    p.add_argument("--flood", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    host, port = args.bootstrap.rsplit(":", 1)
    address = (host, int(port))
    if args.flood:
        _flood(address, threading.Event())
        return
    for what, metric, value, _ in measure(address, args.requests, cpu_of(args.pid) if args.pid else None):
        print(f"| {what}: {metric} | {value:,.1f} |")


if __name__ == "__main__":
    main()

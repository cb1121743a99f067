"""Issue 10 classes 3 and 5 against a real broker process: each test asserts the bound, not survival.

Memory is the broker's resident set (/proc/PID/status VmRSS) before and after the attack; each
attack would grow it by far more than the asserted bound without the bound (the numbers are in
each test). Limits are set small on the command line so the tests stay fast.
"""

from __future__ import annotations

import os
import resource
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.gateway.conftest import ROOT, BrokerProcess
from tests.gateway.rawclient import RawClient
from wire.codec import encode
from wire.headers import encode_request_header
from wire.messages import APIS
from wire.records import build_batch

PRODUCE, FETCH, API_VERSIONS = 0, 1, 18
MiB = 1 << 20
FRAME_MAX = 16 * MiB
POOL = 32 * MiB
RECEIVE_TIMEOUT_MS = 1000
IDLE_MS = 1500


def rss_kib(proc: subprocess.Popen) -> int:
    for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def settled_rss_kib(proc: subprocess.Popen, seconds: float = 0.6) -> int:
    """The broker's RSS once it has stopped moving (the highest of a few samples)."""
    samples = []
    for _ in range(6):
        time.sleep(seconds / 6)
        samples.append(rss_kib(proc))
    return max(samples)


def framed(api_key: int, version: int, body: dict, correlation_id: int) -> bytes:
    payload = encode_request_header(api_key, version, correlation_id, "bounds-test") + encode(
        APIS[api_key].request, version, body)
    return struct.pack(">i", len(payload)) + payload


def fetch_body(topic: str, max_bytes: int = MiB) -> dict:
    return {"replica_id": -1, "max_wait_ms": 0, "min_bytes": 0, "max_bytes": max_bytes, "isolation_level": 0,
            "session_id": 0, "session_epoch": -1, "rack_id": "", "forgotten_topics_data": [],
            "topics": [{"topic": topic, "partitions": [{"partition": 0, "fetch_offset": 0,
                                                        "partition_max_bytes": max_bytes}]}]}


def fetch_frame(topic: str, correlation_id: int, max_bytes: int = MiB) -> bytes:
    return framed(FETCH, 11, fetch_body(topic, max_bytes), correlation_id)


def produce(client: RawClient, topic: str, value: bytes) -> None:
    response = client.request(PRODUCE, 9, {"transactional_id": None, "acks": 1, "timeout_ms": 1000, "topic_data": [
        {"name": topic, "partition_data": [{"index": 0, "records": build_batch([(None, value, [], 1000)])}]}]})
    assert response.responses[0].partition_responses[0].error_code == 0


def high_watermark(client: RawClient, topic: str) -> int:
    response = client.request(2, 5, {"replica_id": -1, "isolation_level": 0, "topics": [
        {"name": topic, "partitions": [{"partition_index": 0, "current_leader_epoch": -1, "timestamp": -1}]}]})
    return response.topics[0].partitions[0].offset


def api_versions_ok(client: RawClient) -> bool:
    return client.request(API_VERSIONS, 3, {"client_software_name": "t", "client_software_version": "1"}).error_code == 0


def unread_socket(address) -> socket.socket:
    """A client socket with a small receive buffer that will never be read."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.connect(address)
    return sock


@pytest.fixture(scope="module")
def bounded():
    process = BrokerProcess("--memory", "--max-request-size", str(FRAME_MAX), "--queued-max-request-bytes", str(POOL),
                            "--request-receive-timeout-ms", str(RECEIVE_TIMEOUT_MS),
                            "--connections-max-idle-ms", str(IDLE_MS))
    yield process
    process.stop()


def test_pipelined_fetches_never_read_hold_one_response_not_all(bounded):
    client = bounded.client()
    value = b"f" * 256 * 1024
    produce(client, "unread", value)
    assert client.request(FETCH, 11, fetch_body("unread")).responses[0].partitions[0].records  # warmed up
    before = settled_rss_kib(bounded.proc)
    sock = unread_socket(bounded.address)
    fetches = b"".join(fetch_frame("unread", i) for i in range(1000))  # ~100 KB asking for 1000 x 256 KB
    sock.sendall(fetches)
    grown = settled_rss_kib(bounded.proc, 1.0) - before
    # unbounded, 1000 responses of 256 KB (256 MiB) would be queued; bounded, about one is
    assert grown < 32 * 1024, f"RSS grew {grown} KiB"
    assert api_versions_ok(bounded.client())  # and everyone else is served meanwhile
    sock.close()
    client.close()


def _send_quietly(sock: socket.socket, data: bytes) -> None:
    try:
        sock.sendall(data)
    except OSError:
        pass  # the broker closed it: that is the point


def test_half_sent_frames_are_bounded_by_the_pool_and_cut_off(bounded):
    client = bounded.client()
    assert api_versions_ok(client)
    before = settled_rss_kib(bounded.proc)
    socks, threads = [], []
    part = struct.pack(">i", FRAME_MAX) + bytes(FRAME_MAX - MiB)  # 15 MiB of a 16 MiB request, then silence
    for _ in range(8):
        sock = socket.create_connection(bounded.address)
        sock.settimeout(20)
        socks.append(sock)
        threads.append(threading.Thread(target=_send_quietly, args=(sock, part), daemon=True))
    for thread in threads:
        thread.start()
    peak = 0
    started = time.monotonic()
    while any(t.is_alive() for t in threads) and time.monotonic() - started < 20:
        peak = max(peak, rss_kib(bounded.proc))
        time.sleep(0.05)
    peak = max(peak, settled_rss_kib(bounded.proc, 0.3))
    # unbounded, 8 x 15 MiB = 120 MiB would be held; the pool admits two 16 MiB requests at a time (30 MiB
    # received; a third would make it 45 MiB)
    assert peak - before < 44 * 1024, f"RSS grew {peak - before} KiB"
    # each stalled sender is cut off after the receive timeout, and its memory given back
    for sock in socks:
        sock.settimeout(15)
        try:
            assert sock.recv(1) == b""
        except ConnectionResetError:
            pass
        sock.close()
    assert api_versions_ok(bounded.client())
    assert settled_rss_kib(bounded.proc) - before < 16 * 1024
    client.close()


def test_an_idle_connection_is_closed_after_connections_max_idle_ms(bounded):
    client = bounded.client()
    assert api_versions_ok(client)
    started = time.monotonic()
    assert client.is_closed_by_peer(wait=IDLE_MS / 1000 + 5)
    assert time.monotonic() - started >= IDLE_MS / 1000 - 0.1
    busy = bounded.client()
    for _ in range(4):  # a connection in use is not idle
        time.sleep(IDLE_MS / 4000)
        assert api_versions_ok(busy)
    busy.close()


FLOODER = r"""
import selectors, socket, sys, time
sys.path.insert(0, sys.argv[3])
from tests.gateway.test_resource_bounds import fetch_frame, framed
from wire.records import build_batch
host, port = sys.argv[1], int(sys.argv[2])
unread = socket.create_connection((host, port))
unread.sendall(b"".join(fetch_frame("flood", i) for i in range(2000)))  # pipelined, never read
busy = socket.create_connection((host, port))  # pipelined 100 KB Produces, answers read: as fast as it goes
busy.setblocking(False)
batch = build_batch([(None, b"p" * 100_000, [], 1000)])
produce = framed(0, 9, {"transactional_id": None, "acks": 1, "timeout_ms": 1000, "topic_data": [
    {"name": "flood", "partition_data": [{"index": 0, "records": batch}]}]}, 1)
selector = selectors.DefaultSelector()
selector.register(busy, selectors.EVENT_READ | selectors.EVENT_WRITE)
print("flooding", flush=True)
out = memoryview(produce * 20)
deadline = time.monotonic() + float(sys.argv[4])
while time.monotonic() < deadline:
    for _, events in selector.select(0.1):
        if events & selectors.EVENT_WRITE:
            sent = busy.send(out)
            out = out[sent:] if sent < len(out) else memoryview(produce * 20)
        if events & selectors.EVENT_READ:
            busy.recv(1 << 20)
"""


def test_api_versions_p99_stays_under_50ms_while_another_connection_floods(bounded):
    """The behaviour, always: each of 500 ApiVersions is answered while the flood goes on (the flood
    is still running after the last one, and appended > 100 Produces meanwhile). The p99 figure, only where it means
    something: on a machine loaded past 1.5x its cores by other processes, the broker waits for a
    core whatever it does, so a miss there is a skip with the figures (as tests/adversarial's stall
    tests do), not a failure; scripts/bench.py measures it on a quiet machine."""
    setup = bounded.client()
    produce(setup, "flood", b"x" * 200_000)
    setup.close()
    flooder = subprocess.Popen([sys.executable, "-c", FLOODER, *map(str, bounded.address), str(ROOT), "60"],
                               cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert flooder.stdout.readline().strip() == "flooding"
        # connected now, not before: the flooder's start-up can outlast connections.max.idle.ms (1.5 s here)
        client = bounded.client()
        time.sleep(0.3)
        produced_before = high_watermark(client, "flood")
        samples = []
        for _ in range(500):
            started = time.perf_counter()
            assert api_versions_ok(client)
            samples.append(time.perf_counter() - started)
            time.sleep(0.005)
        flooded = high_watermark(client, "flood") - produced_before
        assert flooder.poll() is None, "the flood ended before the measurement did"
        assert flooded > 100, f"only {flooded} Produces of 100 KB during the measurement: no flood"
    finally:
        flooder.kill()
        flooder.wait(10)
    samples.sort()
    p99 = samples[int(len(samples) * 0.99) - 1]
    figures = (f"ApiVersions p99 {p99 * 1000:.1f} ms (p50 {samples[len(samples) // 2] * 1000:.1f} ms, "
               f"max {samples[-1] * 1000:.1f} ms) beside {flooded} flood Produces")
    if p99 >= 0.050:
        load = os.getloadavg()[0]
        if load > (os.cpu_count() or 1) * 1.5:
            pytest.skip(f"machine overloaded (load {load:.1f} on {os.cpu_count()} cores): {figures}")
    assert p99 < 0.050, figures
    client.close()


def _connect(address, source_ip: str) -> socket.socket:
    sock = socket.socket()
    sock.bind((source_ip, 0))
    sock.settimeout(5)
    sock.connect(address)
    return sock


def _served(sock: socket.socket) -> bool:
    """Whether the broker answers an ApiVersions on this socket (False: it closed the connection)."""
    sock.sendall(framed(API_VERSIONS, 3, {"client_software_name": "t", "client_software_version": "1"}, 7))
    try:
        return len(sock.recv(4)) == 4
    except ConnectionResetError:
        return False


def test_connection_caps_refuse_cleanly_and_free_up_when_connections_close():
    broker = BrokerProcess("--memory", "--max-connections", "6", "--max-connections-per-ip", "4")
    try:
        ours = [_connect(broker.address, "127.0.0.1") for _ in range(4)]
        assert all(_served(s) for s in ours)
        started = time.monotonic()
        over_ip = _connect(broker.address, "127.0.0.1")
        assert not _served(over_ip) and time.monotonic() - started < 2  # closed at once, not left hanging
        others = [_connect(broker.address, "127.0.0.2"), _connect(broker.address, "127.0.0.3")]
        assert all(_served(s) for s in others)  # another address has its own per-IP allowance
        over_total = _connect(broker.address, "127.0.0.4")
        assert not _served(over_total)  # but 6 is the broker's total
        ours.pop().close()
        time.sleep(0.2)
        again = _connect(broker.address, "127.0.0.1")
        assert _served(again)  # a closed connection frees its place
        for sock in [*ours, *others, over_ip, over_total, again]:
            sock.close()
    finally:
        broker.stop()
    broker.log.seek(0)
    log = broker.log.read()
    assert "cap='max_connections_per_ip'" in log and "cap='max_connections'" in log


def _low_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 128))


def test_fd_soft_limit_is_raised_and_connections_beyond_it_are_refused_not_hung(monkeypatch):
    real_popen = subprocess.Popen
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **kw: real_popen(*a, preexec_fn=_low_fd_limit, **kw))
    broker = BrokerProcess("--memory")
    monkeypatch.undo()
    socks = []
    try:
        limits = Path(f"/proc/{broker.proc.pid}/limits").read_text()
        soft, hard = next(line.split()[3:5] for line in limits.splitlines() if line.startswith("Max open files"))
        assert soft == hard == "128"
        served = refused = 0
        for _ in range(140):  # more than the descriptors the broker has
            sock = socket.create_connection(broker.address, timeout=5)
            socks.append(sock)
            if _served(sock):
                served += 1
            else:
                refused += 1
        assert served >= 64 and refused >= 140 - 128  # never a hang: every connect is answered or closed
        assert broker.alive()
        for sock in socks:
            sock.close()
        socks.clear()
        time.sleep(0.2)
        assert api_versions_ok(broker.client())
    finally:
        for sock in socks:
            sock.close()
        broker.stop()

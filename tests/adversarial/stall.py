"""Measuring what one request costs everyone else: a broker in this process, a prober client timing
ApiVersions round trips while an attacker sends one big request.

Everything shares one event loop, so a handler (or a decode, or an encode) that holds the loop for
200 ms shows up as a 200 ms round trip of the prober: exactly the stall a second client would see.
"""

from __future__ import annotations

import asyncio
import struct
import time
from dataclasses import dataclass

from gateway.config import Config
from gateway.server import Server
from wire.codec import encode
from wire.headers import encode_request_header
from wire.messages import APIS

API_VERSIONS = 18
PROBE_INTERVAL_S = 0.002
BASELINE_S = 0.5


@dataclass
class Stall:
    attack_s: float  # from the attack's first byte sent to its response's last byte read
    probes: int
    p99_ms: float
    max_ms: float
    response_bytes: int
    frame: bytes = b""  # the attack's response frame (correlation id and body)
    baseline_p99_ms: float = 0.0  # the same prober with no attack: what the machine itself adds

    def __str__(self) -> str:
        return (f"attack {self.attack_s * 1000:.0f} ms, response {self.response_bytes:,} B; other client's "
                f"ApiVersions p99 {self.p99_ms:.1f} ms, max {self.max_ms:.1f} ms over {self.probes} probes "
                f"(without the attack: p99 {self.baseline_p99_ms:.1f} ms)")


def request_frame(api_key: int, version: int, body: dict, correlation_id: int = 1, client_id: str = "adversary") -> bytes:
    payload = encode_request_header(api_key, version, correlation_id, client_id)
    payload += encode(APIS[api_key].request, version, body)
    return struct.pack(">i", len(payload)) + payload


async def read_frame(reader: asyncio.StreamReader) -> bytes:
    (size,) = struct.unpack(">i", await reader.readexactly(4))
    return await reader.readexactly(size)


class InProcessBroker:
    """A Server on an ephemeral loopback port, in memory, in the running loop."""

    def __init__(self, **config) -> None:
        self.server = Server(Config(memory=True, port=0, log_level="warning", **config))

    async def __aenter__(self) -> "InProcessBroker":
        await self.server.start()
        self.address = self.server._listener.sockets[0].getsockname()[:2]
        return self

    async def __aexit__(self, *exc) -> None:
        await self.server.shutdown()

    @property
    def broker(self):
        return self.server.broker

    async def connect(self):
        return await asyncio.open_connection(*self.address)


async def _probe(broker: InProcessBroker, stop: asyncio.Event, samples: list[float]) -> None:
    reader, writer = await broker.connect()
    frame = request_frame(API_VERSIONS, 3, {"client_software_name": "probe", "client_software_version": "1"})
    try:
        due = time.perf_counter()
        while not stop.is_set():
            writer.write(frame)
            await read_frame(reader)
            done = time.perf_counter()
            # counted from when the probe was due, not from when a stalled loop got round to sending
            # it: a client whose request arrived during the stall waited that long
            samples.append(done - due)
            due = done + PROBE_INTERVAL_S
            await asyncio.sleep(PROBE_INTERVAL_S)
    finally:
        writer.close()


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples) or [0.0]
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def measure(broker: InProcessBroker, frame: bytes, baseline_s: float = BASELINE_S) -> Stall:
    """Send one request frame from an attacker connection and time the prober's round trips meanwhile;
    first, the prober alone for baseline_s (on a busy machine, scheduling delays are not the broker's)."""
    samples: list[float] = []
    stop = asyncio.Event()
    prober = asyncio.ensure_future(_probe(broker, stop, samples))
    while not samples:
        await asyncio.sleep(0.001)
    samples.clear()
    await asyncio.sleep(baseline_s)
    baseline = _p99(samples)
    samples.clear()
    reader, writer = await broker.connect()
    started = time.perf_counter()
    writer.write(frame)
    response = await read_frame(reader)
    elapsed = time.perf_counter() - started
    stop.set()
    await prober
    writer.close()
    return Stall(elapsed, len(samples), _p99(samples) * 1000, max(samples, default=0.0) * 1000, len(response),
                 response, baseline * 1000)

"""A schema-driven mutation fuzzer over every API and version the broker serves.

Driven by the registry (`gateway.registry.HANDLERS`) and the message declarations (`wire.messages`):
an API another helper adds later is fuzzed as soon as it is registered, with no change here.

Each frame is a request built from its declaration -- mostly plausible values (the broker's own topic
names, ids, partitions and groups, so requests reach deep into the handlers), with fields pushed to their
limits: int extremes, empty, null (where the version allows it) and huge strings, empty, null and huge
arrays, duplicated entries, unknown tagged fields, odd client ids -- or a byte-level mutation of such a
frame or of a frame captured from a real client (tests/wire/golden). Frames run in-process against the
memory engine through the same steps as a connection: header, registry lookup, body decode, handler,
response encode. A handler exception is `handler_failed` and a response that cannot be encoded is
`response_encode_failed`, exactly the two events that close a client's connection; both are findings.
Bad bytes answered by the decoders with ProtocolError are the expected outcome, not findings.
"""

from __future__ import annotations

import asyncio
import random
import struct
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from gateway import handlers  # noqa: F401  (fills the registry)
from gateway import registry
from gateway.broker import Broker
from gateway.clock import now_ms
from gateway.config import Config
from gateway.logs import configure
from gateway.pipeline import RequestPipeline, _BadRequest, _EncodeFailed
from gateway.registry import CloseConnection, RequestContext
from partitions.memory import MemoryStorage
from construct import ConstructError

from wire.codec import ProtocolError, decode, encode
from wire.headers import decode_request_header, encode_request_header
from wire.records import build_batch
from wire.schema import ZERO_UUID, Field, Message

GOLDEN = Path(__file__).resolve().parents[1] / "wire" / "golden"
CLASSIC_STRING_MAX = 0x7FFF  # an int16 length: the most a non-flexible string can hold
INT_RANGES = {"int8": 8, "int16": 16, "int32": 32, "int64": 64}
TOPICS = ("fuzz-a", "fuzz-b", "fuzz-c")
GROUPS = ("fuzz-group", "fuzz-group-2")
FINDINGS = ("handler_failed", "response_encode_failed")
BIG_FRAME = 1 << 16  # frames this large may be decoded off the loop: let them take the time they need
LEARN_MEMBER_IDS = (11, 68)  # JoinGroup, ConsumerGroupHeartbeat: later requests name the member ids they hand out


@dataclass
class Limits:
    """How far values are pushed; the CI run keeps arrays and strings small enough to be quick."""

    huge_array: int = 300
    huge_string: int = CLASSIC_STRING_MAX + 100  # past the int16 limit where the version allows it
    huge_bytes: int = 1 << 16


@dataclass
class Finding:
    kind: str
    api: str
    version: int
    error: str
    where: str
    count: int = 1
    example: bytes = b""


@dataclass
class Report:
    frames: int = 0
    outcomes: Counter = field(default_factory=Counter)
    findings: dict[tuple, Finding] = field(default_factory=dict)
    served: Counter = field(default_factory=Counter)  # (api key, version) that reached a handler
    seconds: float = 0.0

    def add(self, kind: str, api: str, version: int, exc: BaseException, example: bytes) -> None:
        where = _project_frame(exc)
        key = (kind, api, version, type(exc).__name__, where)
        if key in self.findings:
            self.findings[key].count += 1
        else:
            self.findings[key] = Finding(kind, api, version, repr(exc)[:300], where, example=example)

    def summary(self) -> str:
        lines = [f"{self.frames} frames in {self.seconds:.1f} s ({self.frames / max(self.seconds, 1e-9):,.0f}/s); "
                 f"outcomes {dict(self.outcomes)}; {len(self.served)} (api, version) pairs reached a handler; "
                 f"{len(self.findings)} distinct findings"]
        for f in self.findings.values():
            lines.append(f"  {f.kind} {f.api} v{f.version} x{f.count}: {f.error} at {f.where}")
        return "\n".join(lines)


def _project_frame(exc: BaseException) -> str:
    """The innermost traceback frame in the project's own code: what a finding is deduplicated by."""
    where = "?"
    for frame in traceback.extract_tb(exc.__traceback__):
        if "/site-packages/" not in frame.filename and "/lib/python" not in frame.filename:
            where = f"{Path(frame.filename).name}:{frame.lineno}"
    return where


# -- values from declarations ------------------------------------------------------------------------


class Generator:
    """Requests for (api key, version) from the declarations, biased to plausible values and limits."""

    def __init__(self, rng: random.Random, limits: Limits, world: "World") -> None:
        self.rng = rng
        self.limits = limits
        self.world = world

    def request(self, message: Message, version: int) -> dict:
        self._huge_left = 1  # one huge array per request: nested ones would multiply
        return self._struct(message.fields, version, message.is_flexible(version), depth=0)

    def _struct(self, fields, version: int, flexible: bool, depth: int) -> dict:
        out = {}
        for f in fields:
            if f.present_in(version):
                out[f.name] = self._value(f, version, flexible, depth)
        if flexible and self.rng.random() < 0.05:
            out["_unknown_tags"] = [(self.rng.choice((99, 1000, 0x7FFFFFF)), self._raw_bytes(8))]
        return out

    def _value(self, f: Field, version: int, flexible: bool, depth: int):
        rng = self.rng
        nullable = version in f.nullable
        if f.is_array:
            roll = rng.random()
            if nullable and roll < 0.06:
                return None
            if roll < 0.15 or depth > 3:
                return []
            if roll < 0.2 and self._huge_left:
                self._huge_left -= 1
                element = self._element(f, version, flexible, depth)
                return [element] * rng.randint(2, self.limits.huge_array)  # duplicates at scale
            if roll < 0.25:
                return [self._element(f, version, flexible, depth) for _ in range(rng.randint(2, 40))]
            return [self._element(f, version, flexible, depth) for _ in range(rng.randint(1, 3))]
        if f.is_struct:
            if nullable and rng.random() < 0.1:
                return None
            return self._struct(f.fields, version, flexible, depth + 1)
        return self._scalar(f, f.type, version, flexible, nullable)

    def _element(self, f: Field, version: int, flexible: bool, depth: int):
        if f.is_struct:
            return self._struct(f.fields, version, flexible, depth + 1)
        return self._scalar(f, f.element_type, version, flexible, False)

    def _scalar(self, f: Field, kind: str, version: int, flexible: bool, nullable: bool):
        rng = self.rng
        name = f.name
        if kind in INT_RANGES or kind == "uint16":
            return self._int(name, kind)
        if kind == "bool":
            return rng.random() < 0.5
        if kind == "float64":
            return rng.choice((0.0, -1.0, 1e308, float("inf"), float("nan"), rng.random()))
        if kind == "uuid":
            return rng.choice((ZERO_UUID, *self.world.topic_ids(), self._raw_bytes(16)))
        if kind == "string":
            return self._string(name, flexible, nullable)
        if kind in ("bytes", "records"):
            roll = rng.random()
            if nullable and roll < 0.1:
                return None
            if kind == "records" and roll < 0.7:
                return self.world.batch(rng)
            if roll < 0.8:
                return b""
            if roll < 0.95:
                return self._raw_bytes(rng.randint(1, 64))
            return self._raw_bytes(rng.randint(1, self.limits.huge_bytes))
        raise AssertionError(f"no generator for {kind}")

    def _int(self, name: str, kind: str) -> int:
        rng = self.rng
        if kind == "uint16":
            low, high = 0, 0xFFFF
        else:
            bits = INT_RANGES[kind]
            low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        roll = rng.random()
        if roll < 0.25:
            return rng.choice((low, high, low + 1, high - 1, max(low, -2), 0))
        if roll < 0.35:
            return rng.randint(low, high)
        plausible = self.world.plausible_int(name, rng)
        return max(low, min(high, plausible))

    def _string(self, name: str, flexible: bool, nullable: bool) -> str | None:
        rng = self.rng
        roll = rng.random()
        if nullable and roll < 0.08:
            return None
        if roll < 0.14:
            return ""
        if roll < 0.18:
            size = self.limits.huge_string if flexible else CLASSIC_STRING_MAX
            return "x" * rng.choice((CLASSIC_STRING_MAX - 40, CLASSIC_STRING_MAX, size))
        if roll < 0.22:
            return rng.choice(("é" * 300, "\x00", " ", "-", "..", ".", "a" * 250, "ü" * (CLASSIC_STRING_MAX // 2)))
        if roll < 0.26:
            return "".join(rng.choice("ab.-_*[(+)?{}\\|^$") for _ in range(rng.randint(1, 20)))
        return self.world.plausible_string(name, rng)

    def _raw_bytes(self, n: int) -> bytes:
        return self.rng.randbytes(n)


class World:
    """What already exists in the broker, for plausible values: topics, their ids, groups, members."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._batch = build_batch([(b"k", b"v", [("h", b"x")], 1000)])
        self.members: list[str] = [""]

    def topic_ids(self) -> list[bytes]:
        return [t.topic_id for t in list(self.broker.logs.topics.values())[:8]]

    def batch(self, rng: random.Random) -> bytes:
        roll = rng.random()
        if roll < 0.7:
            return self._batch
        if roll < 0.85:
            return build_batch([(None, rng.randbytes(rng.randint(0, 200)), [], rng.randint(-5, 1 << 40))
                                for _ in range(rng.randint(1, 5))], producer_id=rng.choice((-1, 0, 1)),
                               base_sequence=rng.choice((-1, 0, 7)), producer_epoch=rng.choice((-1, 0)))
        data = bytearray(self._batch)
        data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)

    def plausible_int(self, name: str, rng: random.Random) -> int:
        if "partition" in name or name in ("index",):
            return rng.choice((0, 0, 1, 2, 3, -1))
        if "timeout" in name or "wait" in name:
            return rng.choice((0, 10, 6000, 30000, -1))
        if "epoch" in name or "generation" in name:
            return rng.choice((-1, 0, 1, 2))
        if name == "acks":
            return rng.choice((-1, 0, 1, 2))
        if "timestamp" in name or name == "time":
            return rng.choice((-1, -2, -3, -4, -5, 0, 1000, 1 << 41))
        if "offset" in name:
            return rng.choice((0, 1, 5, -1, 1 << 40))
        if "bytes" in name:
            return rng.choice((0, 1, 1 << 20, 0x7FFFFFFF))
        if "id" in name:
            return rng.choice((-1, 0, 1, 1000))
        if "count" in name or "partitions" in name or "factor" in name:
            return rng.choice((-1, 0, 1, 3, 10000))
        return rng.choice((-1, 0, 1, 2, 100))

    def plausible_string(self, name: str, rng: random.Random) -> str:
        if "topic" in name or name in ("name",):
            return rng.choice(TOPICS + ("fuzz-new", "__consumer_offsets"))
        if "group" in name and "instance" not in name:
            return rng.choice(GROUPS)
        if "member" in name:
            return rng.choice(self.members)
        if "instance" in name:
            return rng.choice(("i-1", "i-2"))
        if "protocol_type" in name:
            return "consumer"
        if "protocol" in name or "assignor" in name:
            return rng.choice(("range", "uniform", "roundrobin"))
        if "regex" in name:
            return rng.choice(("fuzz-.*", "(a+)+", "[", ".*"))
        if "rack" in name:
            return "r1"
        if "transactional" in name:
            return "fuzz-txn"
        if name in ("key", "config", "value") or "config" in name:
            return rng.choice(("cleanup.policy", "retention.ms", "compact", "1000", "bogus"))
        return rng.choice(("x", "fuzz", "1"))


# -- running frames --------------------------------------------------------------------------------


class Harness:
    """One in-memory broker and the dispatch steps of a connection, without the socket."""

    def __init__(self, seed: int = 0, limits: Limits | None = None, fresh_every: int = 4000) -> None:
        self.rng = random.Random(seed)
        self.limits = limits or Limits()
        self.fresh_every = fresh_every
        self.report = Report()
        self.golden = [p.read_bytes() for p in sorted(GOLDEN.glob("*.bin"))]
        self.targets = [(key, v) for key, reg in sorted(registry.HANDLERS.items())
                        for v in range(reg.advertised_min, reg.max_version + 1)]
        self._sweep = list(self.targets)
        self._new_broker()

    def _new_broker(self) -> None:
        self.broker = Broker(Config(memory=True, port=9092), MemoryStorage())
        for name in TOPICS:
            self.broker.logs.create_topic(name, 4)
        self.world = World(self.broker)
        self.generator = Generator(self.rng, self.limits, self.world)
        self._since_fresh = 0

    def frame(self) -> bytes:
        """The next frame: a generated request (most), or a byte mutation of one or of a golden frame."""
        rng = self.rng
        if self._sweep:  # first every served (api, version) once, then at random
            return self.generated(*self._sweep.pop())
        roll = rng.random()
        if roll < 0.1 and self.golden:
            return _mutate(rng, rng.choice(self.golden))
        api_key, version = rng.choice(self.targets)
        payload = self.generated(api_key, version)
        return _mutate(rng, payload) if roll < 0.2 else payload

    def generated(self, api_key: int, version: int) -> bytes:
        rng = self.rng
        body = self.generator.request(registry.HANDLERS[api_key].api.request, version)
        client_id = rng.choice(("fuzz", "fuzz", None, "", "c" * CLASSIC_STRING_MAX, "é"))
        header = encode_request_header(api_key, version, rng.randint(-(1 << 31), (1 << 31) - 1), client_id)
        try:
            return header + encode(registry.HANDLERS[api_key].api.request, version, body)
        except (ProtocolError, ConstructError, struct.error, OverflowError, ValueError):
            # a value the request's own encoding cannot carry (a generator limit): send the empty body
            return header + encode(registry.HANDLERS[api_key].api.request, version, {})

    async def run(self, frames: int | None = None, seconds: float | None = None) -> Report:
        started = time.perf_counter()
        n = 0
        while (frames is None or n < frames) and (seconds is None or time.perf_counter() - started < seconds):
            await self.run_frame(self.frame())
            n += 1
        self.report.seconds += time.perf_counter() - started
        return self.report

    async def run_frame(self, payload: bytes) -> str:
        outcome = await self._run_frame(payload)
        self.report.frames += 1
        self.report.outcomes[outcome] += 1
        self._since_fresh += 1
        if self._since_fresh >= self.fresh_every:
            self.broker.close()
            self._new_broker()
        return outcome

    async def _run_frame(self, payload: bytes) -> str:
        try:
            header = decode_request_header(payload)
        except ProtocolError:
            return "bad_header"
        reg = registry.lookup(header.api_key, header.api_version)
        if reg is None:
            return "unsupported"
        ctx = RequestContext(broker=self.broker, api_key=header.api_key, api_version=header.api_version,
                             correlation_id=header.correlation_id, client_id=header.client_id,
                             log=_NullLog(), peer="127.0.0.1:50000")
        # the pipeline's own task body: decode (off the loop when big), handler, encode
        task = asyncio.ensure_future(RequestPipeline._serve(ctx, reg, payload, header.body_offset))
        await _settle(task, self.broker, 6 if len(payload) < BIG_FRAME else 2000)
        if not task.done():
            task.cancel()  # a long poll or a parked join: the client went away
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception as exc:  # noqa: BLE001 -- a handler failing on its cancellation is a finding too
                self.report.add("handler_failed", reg.api.name, header.api_version, exc, payload)
                return "handler_failed"
            return "parked"
        exc = task.exception()
        if isinstance(exc, _BadRequest):
            return "bad_body"
        if isinstance(exc, CloseConnection):  # Produce acks=0 that failed: closed on purpose, as Kafka does
            return "closed"
        self.report.served[header.api_key, header.api_version] += 1
        if isinstance(exc, _EncodeFailed):
            self.report.add("response_encode_failed", reg.api.name, header.api_version, exc.__cause__ or exc, payload)
            return "response_encode_failed"
        if exc is not None:
            self.report.add("handler_failed", reg.api.name, header.api_version, exc, payload)
            return "handler_failed"
        body = task.result()
        if body is None:
            return "no_response"
        if header.api_key in LEARN_MEMBER_IDS and len(self.world.members) < 16:
            member_id = decode(reg.api.response, header.api_version, body).get("member_id")
            if member_id:
                self.world.members.append(member_id)
        return "answered"


async def _settle(task: asyncio.Task, broker: Broker, iterations: int) -> None:
    """Let the task run (a JoinGroup's join phase ends on the timer, as the server's timer would end it);
    a big request's off-loop decode and encode get the iterations they need."""
    for i in range(iterations):
        if task.done():
            return
        await asyncio.sleep(0 if i < 6 else 0.001)
        broker.tick(now_ms())


class _NullLog:
    """A structlog stand-in: the fuzzer checks outcomes, not log lines (and millions of lines cost)."""

    def __getattr__(self, name):
        return self._noop

    def _noop(self, *args, **kwargs):
        return self

    def bind(self, **kwargs):
        return self


def _mutate(rng: random.Random, payload: bytes) -> bytes:
    data = bytearray(payload)
    for _ in range(rng.randint(1, 4)):
        if not data:
            break
        roll = rng.random()
        i = rng.randrange(len(data))
        if roll < 0.5:
            data[i] = rng.randrange(256)
        elif roll < 0.7:
            data[i:i] = rng.randbytes(rng.randint(1, 8))
        elif roll < 0.85:
            del data[i:i + rng.randint(1, 8)]
        else:
            data[i:i + 4] = rng.choice((b"\x7f\xff\xff\xff", b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x80\x00\x00\x00"))
    if rng.random() < 0.2:
        del data[rng.randrange(len(data) + 1):]
    return bytes(data)


def run(frames: int | None = None, seconds: float | None = None, seed: int = 0, limits: Limits | None = None) -> Report:
    configure("error")
    harness = Harness(seed, limits)
    return asyncio.run(harness.run(frames, seconds))


async def call(broker: Broker, api_key: int, version: int, body: dict, client_id: str | None = "adversary"):
    """One request through the connection's steps (encode, decode, handler, encode the response), the
    response decoded back as a client reads it. A handler exception or an unencodable response raises."""
    reg = registry.lookup(api_key, version)
    assert reg is not None, f"api {api_key} v{version} is not served"
    payload = encode_request_header(api_key, version, 1, client_id) + encode(reg.api.request, version, body)
    header = decode_request_header(payload)
    ctx = RequestContext(broker=broker, api_key=api_key, api_version=version, correlation_id=1,
                         client_id=header.client_id, log=_NullLog(), peer="127.0.0.1:50000")
    task = asyncio.ensure_future(RequestPipeline._serve(ctx, reg, payload, header.body_offset))
    await _settle(task, broker, 50 if len(payload) < BIG_FRAME else 5000)
    if not task.done():
        task.cancel()
        raise TimeoutError(f"api {api_key} v{version} is still waiting (a parked join, a long poll)")
    return decode(reg.api.response, version, await task)


def memory_broker(**config) -> Broker:
    return Broker(Config(memory=True, port=9092, **config), MemoryStorage())

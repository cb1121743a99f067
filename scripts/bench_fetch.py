"""Consume from RocksDB in process, as librdkafka fetches (bench.py --scale's in-process rows; alone:
`python scripts/bench_fetch.py`): the broker's CPU per MB consumed, without sockets or the client.

A topic's partitions are filled through the Produce handler (RocksDB, flushed to SST files), then read
back whole as librdkafka's consumer does: a full Fetch creating a fetch session (max.partition.fetch.bytes
1 MiB, fetch.max.bytes 50 MiB, read_committed), then incremental Fetches naming the partitions whose
offsets moved, until every partition is read. Timed: each request's decode, the handler and the
response's encode (the pipeline's own RequestPipeline._serve, so a big response is encoded as pieces
on the worker thread: process CPU, every thread). Not timed: building the requests and decoding the
answers (the client's side). Shapes:

- 1,000 partitions x 4 batches of 25 x 1 KiB records (librdkafka's ~25 KB Produce at 1,000 partitions):
  ~48 MB responses, 2-3 Fetches; the per-partition costs (a storage read a partition, the session).
- 1 partition x 40 batches of 1 MB (librdkafka's batch.size): a 1 MiB partition limit holds one batch,
  so each Fetch stops at the second (which the engine must not copy to drop).

`raw_point()` (bench.py --scale, every partition count, Ottla and Tansu): the broker's own cost as partitions
multiply, over a socket, with a client whose cost per MB does not grow with them (librdkafka's consumer does:
its broker thread walks every partition's fetch state each wake-up). Sessionless Fetch v12 requests are built
once (librdkafka's: 1 MiB a partition, 50 MiB a response, read_committed, max_wait 500 ms: Tansu answers a
max_wait 0 Fetch with no partitions; there is data, so neither waits), each naming every
partition of the scale topic from a batch's base offset (as a consumer asks; found by one decoded walk of
the topic first, not timed) a different eighth into its log, and sent round-robin for a few seconds,
two in flight; the client only receives the answers and counts their bytes (frame sizes, nothing decoded).
Rows: MB/s, broker CPU per MB (/proc, all threads), client CPU per MB (this thread), bytes per response.

`cost_rows()` (bench.py --scale's in-process rows; alone `python scripts/bench_fetch.py --costs`): the broker's
CPU a Fetch and a partition beyond the first, in process (decode, handler, encode as the pipeline serves),
memory and RocksDB engines, median of COST_ROUNDS rounds: the raw point's shape (1,000 partitions x 4 x 25 KB,
one sessionless Fetch from the first batches: a 50 MiB answer, about half the partitions refused at their
index) against 1 partition of the same; and the end-to-end point's consumer Fetch: 8 partitions, before each
Fetch one 3 x 1 KiB batch appended to all 8 (or to 1 of them, in turn), asked with an incremental fetch session
(the Java client's, kafka-python's) or sessionless (librdkafka's), against 1 partition of the same.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import struct
import sys
import tempfile
import time

SHAPES = ((1000, 4, 25), (1, 40, 1000))  # (partitions, batches a partition, 1 KiB records a batch)
ROUNDS = 3


def _consume_cpu(partitions: int, batches: int, records: int, rounds: int = ROUNDS) -> tuple[float, int, int]:
    """(median CPU seconds per MB consumed, bytes of one consume, Fetches of one consume)."""
    import structlog

    from gateway import handlers  # noqa: F401  (fills the registry)
    from gateway.broker import Broker
    from gateway.config import Config
    from gateway.pipeline import RequestPipeline
    from gateway.registry import RequestContext, lookup
    from partitions.rocks import RocksStorage
    from wire.codec import decode, encode
    from wire.records import build_batch, split_batches

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))  # this process only
    with tempfile.TemporaryDirectory(prefix="ottla-bench-fetch-") as tmp:
        storage = RocksStorage(os.path.join(tmp, "rocksdb"))
        broker = Broker(Config(data_dir=tmp), storage)
        loop = asyncio.new_event_loop()
        spent = [0.0]

        def call(api: int, version: int, body: dict, timed: bool = False):
            registration = lookup(api, version)
            raw = encode(registration.api.request, version, body)

            async def handle():  # decode, handler, encode, as the pipeline serves a request
                ctx = RequestContext(broker, api, version, 1, "bench-fetch", structlog.get_logger())
                return await RequestPipeline._serve(ctx, registration, raw, 0)
            started = time.process_time()
            out = loop.run_until_complete(handle())
            if timed:
                spent[0] += time.process_time() - started
            return decode(registration.api.response, version, bytes(out)), len(out)

        call(19, 7, {"timeout_ms": 30000, "validate_only": False, "topics": [
            {"name": "t", "num_partitions": partitions, "replication_factor": -1, "assignments": [], "configs": []}]})
        value, now = os.urandom(1024), int(time.time() * 1000)
        for _ in range(batches):
            for p in range(partitions):
                call(0, 9, {"transactional_id": None, "acks": 1, "timeout_ms": 30000, "topic_data": [
                    {"name": "t", "partition_data": [{"index": p, "records": build_batch([(None, value, [], now)] * records)}]}]})
        storage._db.flush()  # what a consumer behind the producer reads: SST files, not the memtable

        def fetch(offsets, session_id=0, epoch=0, changed=None):
            return call(1, 12, {
                "replica_id": -1, "max_wait_ms": 0, "min_bytes": 1, "max_bytes": 50 << 20, "isolation_level": 1,
                "session_id": session_id, "session_epoch": epoch, "forgotten_topics_data": [], "rack_id": "",
                "topics": [{"topic": "t", "partitions": [
                    {"partition": p, "current_leader_epoch": -1, "fetch_offset": offsets[p], "last_fetched_epoch": -1,
                     "log_start_offset": -1, "partition_max_bytes": 1 << 20}
                    for p in (changed if changed is not None else range(partitions))]}]}, timed=True)

        def consume() -> tuple[int, int]:
            offsets, total, fetches = [0] * partitions, 0, 0
            answer, size = fetch(offsets)
            session_id, epoch = answer.session_id, 1
            while True:
                total += size
                fetches += 1
                changed = []
                for topic in answer.responses:
                    for p in topic.partitions:
                        if p.records:
                            *_, (_, last) = split_batches(p.records)
                            offsets[p.partition_index] = last.base_offset + last.last_offset_delta + 1
                            changed.append(p.partition_index)
                if not changed:
                    return total, fetches
                answer, size = fetch(offsets, session_id, epoch, changed)
                epoch += 1

        consume()  # warm: imports, the session cache
        per_mb = []
        for _ in range(rounds):
            spent[0] = 0.0
            total, fetches = consume()
            per_mb.append(spent[0] / (total / 1e6))
        broker.close()
        loop.close()
    return statistics.median(per_mb), total, fetches


COST_ROUNDS = 7  # median and best of this many rounds (the host's speed moves by up to 40% run to run)


class _InProcess:
    """A broker in this process (memory engine, or RocksDB in a temporary directory) with a topic "t", and
    `call(api, version, body, timed)`: encode the request, serve it as the pipeline does (decode, handler,
    encode: RequestPipeline._serve), decode the answer; timed calls add their process CPU to `spent`."""

    def __init__(self, partitions: int, engine: str, tmp: str) -> None:
        import structlog

        from gateway import handlers  # noqa: F401  (fills the registry)
        from gateway.broker import Broker
        from gateway.config import Config

        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))  # this process only
        if engine == "memory":
            from partitions.memory import MemoryStorage

            self.storage = MemoryStorage()
            self.broker = Broker(Config(memory=True), self.storage)
        else:
            from partitions.rocks import RocksStorage

            self.storage = RocksStorage(os.path.join(tmp, "rocksdb"))
            self.broker = Broker(Config(data_dir=tmp), self.storage)
        self.loop = asyncio.new_event_loop()
        self.spent = 0.0
        self.call(19, 7, {"timeout_ms": 30000, "validate_only": False, "topics": [
            {"name": "t", "num_partitions": partitions, "replication_factor": -1, "assignments": [], "configs": []}]})

    def call(self, api: int, version: int, body: dict, timed: bool = False, raw: bytes | None = None):
        import structlog

        from gateway.pipeline import RequestPipeline
        from gateway.registry import RequestContext, lookup
        from wire.codec import decode, encode

        registration = lookup(api, version)
        if raw is None:
            raw = encode(registration.api.request, version, body)

        async def handle():
            ctx = RequestContext(self.broker, api, version, 1, "bench-fetch", structlog.get_logger())
            return await RequestPipeline._serve(ctx, registration, raw, 0)
        started = time.process_time()
        out = self.loop.run_until_complete(handle())
        if timed:
            self.spent += time.process_time() - started
        return decode(registration.api.response, version, bytes(out)), len(out)

    def produce(self, batches: dict[int, bytes]) -> None:
        self.call(0, 9, {"transactional_id": None, "acks": 1, "timeout_ms": 30000, "topic_data": [
            {"name": "t", "partition_data": [{"index": p, "records": b} for p, b in batches.items()]}]})

    def close(self) -> None:
        self.broker.close()
        self.loop.close()


def _fetch_request(offsets: dict[int, int], session_id: int = 0, epoch: int = -1) -> dict:
    """librdkafka's Fetch sizes (1 MiB a partition, 50 MiB a response, read_committed), max_wait 0."""
    return {"replica_id": -1, "max_wait_ms": 0, "min_bytes": 1, "max_bytes": 50 << 20, "isolation_level": 1,
            "session_id": session_id, "session_epoch": epoch, "forgotten_topics_data": [], "rack_id": "",
            "topics": [{"topic": "t", "partitions": [
                {"partition": p, "current_leader_epoch": -1, "fetch_offset": offset, "last_fetched_epoch": -1,
                 "log_start_offset": -1, "partition_max_bytes": 1 << 20} for p, offset in offsets.items()]}]}


def _stats(values: list[float]) -> dict:
    return {"median": statistics.median(values), "best": min(values), "worst": max(values)}


def raw_shape_cost(partitions: int, engine: str, rounds: int = COST_ROUNDS, repeats: int = 3) -> dict:
    """The raw point's shape in process: `partitions` x 4 batches of 25 x 1 KiB records, one sessionless
    Fetch v12 from every partition's first batch (a 1,000-partition answer stops at fetch.max.bytes 50 MiB,
    so about half its partitions are refused at their index). Per round: `repeats` of the same Fetch.
    {"request_ms": median/best/worst CPU a request, "ms_per_mb": same per MB answered, "bytes": answer}."""
    import tempfile

    from wire.records import build_batch

    with tempfile.TemporaryDirectory(prefix="ottla-bench-fetch-") as tmp:
        b = _InProcess(partitions, engine, tmp)
        value, now = os.urandom(1024), int(time.time() * 1000)
        batch = build_batch([(None, value, [], now)] * 25)
        for _ in range(4):
            b.produce({p: batch for p in range(partitions)})
        if engine != "memory":
            b.storage._db.flush()  # what a consumer behind the producer reads: SST files
        from gateway.registry import lookup
        from wire.codec import encode

        raw = encode(lookup(1, 12).api.request, 12, _fetch_request({p: 0 for p in range(partitions)}))
        _, size = b.call(1, 12, None, raw=raw)  # warm
        per_request = []
        for _ in range(rounds):
            b.spent = 0.0
            for _ in range(repeats):
                b.call(1, 12, None, timed=True, raw=raw)
            per_request.append(b.spent / repeats)
        b.close()
    return {"request_ms": _stats([s * 1e3 for s in per_request]),
            "ms_per_mb": _stats([s * 1e3 / (size / 1e6) for s in per_request]), "bytes": size}


def small_fetch_cost(partitions: int, engine: str, mode: str, new: int | None = None, rounds: int = COST_ROUNDS,
                     fetches: int = 300) -> dict:
    """The end-to-end point's consumer Fetch in process: before each timed Fetch, one batch of 3 x 1 KiB
    records is appended to `new` (default all) of the `partitions` (not timed); the Fetch then asks from the
    consumer's offsets. mode "session": an incremental fetch session (KIP-227, as the Java client, aiokafka
    and kafka-python send: only the partitions whose offsets moved are named); "sessionless": every
    partition, epoch -1 (librdkafka). {"request_us": median/best/worst CPU a Fetch over the rounds}."""
    import tempfile

    from wire.records import build_batch

    new = partitions if new is None else new
    with tempfile.TemporaryDirectory(prefix="ottla-bench-fetch-") as tmp:
        b = _InProcess(partitions, engine, tmp)
        now = int(time.time() * 1000)
        batch = build_batch([(None, os.urandom(1024), [], now) for _ in range(3)])
        offsets = {p: 0 for p in range(partitions)}
        session_id, epoch = 0, -1
        if mode == "session":
            answer, _ = b.call(1, 12, _fetch_request(offsets, 0, 0))
            session_id, epoch = answer.session_id, 1
            assert session_id, "no fetch session created"
        changed = dict(offsets)
        per_fetch = []
        turn = 0
        for r in range(rounds + 1):  # the first round warms
            spent = 0.0
            for _ in range(fetches):
                targets = [(turn + i) % partitions for i in range(new)]
                turn += 1
                b.produce({p: batch for p in targets})
                asked = changed if mode == "session" else offsets
                b.spent = 0.0
                answer, _ = b.call(1, 12, _fetch_request(asked, session_id, epoch), timed=True)
                spent += b.spent
                if mode == "session":
                    epoch += 1
                    assert answer.error_code == 0, answer.error_code
                changed = {}
                got = 0
                for topic in answer.responses:
                    for p in topic.partitions:
                        if p.records:
                            offsets[p.partition_index] = p.high_watermark
                            changed[p.partition_index] = p.high_watermark
                            got += 1
                assert got == new, (got, new)
            if r:
                per_fetch.append(spent / fetches)
        b.close()
    return {"request_us": _stats([s * 1e6 for s in per_fetch])}


def cost_rows(engines=("memory", "rocksdb")) -> list[tuple]:
    """CPU a Fetch and a partition beyond the first (bench.py --scale's in-process rows; alone
    `python scripts/bench_fetch.py --costs`)."""
    out = []
    for engine in engines:
        one, many = raw_shape_cost(1, engine), raw_shape_cost(1000, engine)
        what = f"scale in-process, sessionless Fetch of 1,000 partitions x 4 x 25 KB from the first batch ({engine})"
        out.append((what, "broker CPU a Fetch, ms (median of 7)", many["request_ms"]["median"], None))
        out.append((what, "broker CPU per MB, ms (median of 7)", many["ms_per_mb"]["median"], None))
        out.append((what, "same, 1 partition, ms per MB", one["ms_per_mb"]["median"], None))
        out.append((what, "broker CPU a partition beyond the first, us",
                    (many["request_ms"]["median"] - one["request_ms"]["median"]) * 1e3 / 999, None))
        for mode, new in (("session", None), ("session", 1), ("sessionless", None)):
            small = small_fetch_cost(8, engine, mode, new)["request_us"]["median"]
            single = small_fetch_cost(1, engine, mode)["request_us"]["median"] if new is None else None
            what = (f"scale in-process, Fetch of 8 partitions, {'all 8' if new is None else new} with a new 3 x 1 KiB "
                    f"batch, {'incremental session' if mode == 'session' else 'sessionless'} ({engine})")
            out.append((what, "broker CPU a Fetch, us (median of 7)", small, None))
            if single is not None:
                out.append((what, "broker CPU a partition beyond the first, us", (small - single) / 7, None))
    return out


RAW_REQUESTS = 8  # distinct Fetch requests, each from a different eighth of every partition's log
RAW_WINDOW = 2  # in flight: the broker always has the next one


def _fetch_frame(topic: str, offsets: list[int], correlation_id: int) -> bytes:
    from bench_conn import framed  # scripts/bench_conn.py

    return framed(1, 12, {
        "replica_id": -1, "max_wait_ms": 500, "min_bytes": 1, "max_bytes": 50 << 20, "isolation_level": 1,
        "session_id": 0, "session_epoch": -1, "forgotten_topics_data": [], "rack_id": "",
        "topics": [{"topic": topic, "partitions": [
            {"partition": p, "current_leader_epoch": -1, "fetch_offset": offset, "last_fetched_epoch": -1,
             "log_start_offset": -1, "partition_max_bytes": 1 << 20} for p, offset in enumerate(offsets)]}]},
        correlation_id)


def _answer(sock: socket.socket) -> bytes:
    data = bytearray()
    while len(data) < 4 or len(data) < 4 + struct.unpack_from(">i", data)[0]:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("broker closed the connection")
        data += chunk
    return bytes(data[4 + 4 + 1:])  # (the size, response header v1: correlation id, no tags)


def batch_bases(sock: socket.socket, topic: str, per_partition: list[int]) -> list[list[int]]:
    """Each partition's batch base offsets, from a decoded walk of the topic (not timed): the offsets a
    consumer fetches from, so the timed requests ask for what librdkafka asks for."""
    from wire.codec import decode
    from wire.messages import APIS
    from wire.records import split_batches

    bases: list[list[int]] = [[] for _ in per_partition]
    offsets = [0] * len(per_partition)
    while any(offset < n for offset, n in zip(offsets, per_partition)):
        sock.sendall(_fetch_frame(topic, offsets, 99))
        moved = False
        for t in decode(APIS[1].response, 12, _answer(sock)).responses:
            for p in t.partitions:
                if p.records:
                    for _, header in split_batches(p.records):
                        if header.base_offset >= offsets[p.partition_index]:
                            bases[p.partition_index].append(header.base_offset)
                            offsets[p.partition_index] = header.base_offset + header.last_offset_delta + 1
                            moved = True
        if not moved:
            raise RuntimeError(f"the walk of {topic} stopped at {offsets}")
    return bases


def raw_frames(topic: str, bases: list[list[int]]) -> list[bytes]:
    """RAW_REQUESTS Fetches; the k-th asks every partition from the batch k/RAW_REQUESTS into its log."""
    return [_fetch_frame(topic, [b[k * len(b) // RAW_REQUESTS] if b else 0 for b in bases], 100 + k)
            for k in range(RAW_REQUESTS)]


def raw_point(address: tuple[str, int], topic: str, per_partition: list[int], broker, seconds: float) -> dict:
    """Prebuilt Fetch requests round-robin for `seconds`, RAW_WINDOW in flight; answers counted by their
    frame sizes only. {"mb_per_s", "broker_ms_per_mb", "client_ms_per_mb", "bytes_per_response"}."""
    sock = socket.create_connection(address)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    frames = raw_frames(topic, batch_bases(sock, topic, per_partition))
    buffer = memoryview(bytearray(4 << 20))
    head = bytearray(4)
    state = {"left": 0, "head": 0}  # bytes left of the current answer's body; bytes of its size field read

    def receive() -> tuple[int, int]:
        """One recv: (answers completed, bytes received)."""
        got = sock.recv_into(buffer)
        if not got:
            raise ConnectionError("broker closed the connection")
        done, pos = 0, 0
        while pos < got:
            if state["left"]:
                take = min(state["left"], got - pos)
                state["left"] -= take
                pos += take
                if not state["left"]:
                    done += 1
                continue
            take = min(4 - state["head"], got - pos)
            head[state["head"]:state["head"] + take] = buffer[pos:pos + take]
            state["head"] += take
            pos += take
            if state["head"] == 4:
                state["head"], state["left"] = 0, struct.unpack(">i", head)[0]
        return done, got

    def run(until: float, count_from: float | None = None) -> tuple[int, int]:
        sent = answered = received = 0
        while True:
            if sent - answered < RAW_WINDOW and time.perf_counter() < until:
                sock.sendall(frames[sent % len(frames)])
                sent += 1
                continue
            if answered == sent:
                return answered, received
            done, got = receive()
            answered += done
            received += got

    try:
        run(time.perf_counter() + 0.3)  # warm: the broker's first reads of these offsets, the connection
        broker_before, client_before = broker.cpu_seconds() if broker else None, time.thread_time()
        started = time.perf_counter()
        answers, received = run(started + seconds)
        wall = time.perf_counter() - started
        client = time.thread_time() - client_before
        broker_cpu = broker.cpu_seconds() - broker_before if broker else None
    finally:
        sock.close()
    mb = received / 1e6
    return {"mb_per_s": mb / wall, "broker_ms_per_mb": broker_cpu * 1e3 / mb if broker_cpu is not None else None,
            "client_ms_per_mb": client * 1e3 / mb, "bytes_per_response": received / max(answers, 1),
            "broker_percent": 100 * broker_cpu / wall if broker_cpu is not None else None}


def raw_rows(what: str, r: dict) -> list[tuple]:
    label = f"raw Fetch (prebuilt, {RAW_WINDOW} in flight, not decoded)"
    return [(what, f"{label} MB/s", r["mb_per_s"], None),
            (what, f"{label} broker CPU per MB, ms", r["broker_ms_per_mb"], None),
            (what, f"{label} bench client CPU per MB, ms", r["client_ms_per_mb"], None),
            (what, f"{label} KB a response", r["bytes_per_response"] / 1e3, None),
            (what, f"{label} broker CPU, % of a core", r["broker_percent"], None)]


def rows() -> list[tuple]:
    out = []
    for partitions, batches, records in SHAPES:
        per_mb, total, fetches = _consume_cpu(partitions, batches, records)
        what = (f"scale in-process, consume from RocksDB of {partitions:,} partition{'s' if partitions > 1 else ''} "
                f"x {batches} batches of {records} KiB ({total / 1e6:.0f} MB in {fetches} Fetches, a session)")
        out.append((what, "broker CPU per MB, ms", per_mb * 1e3, None))
    return out


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for row in (cost_rows() if "--costs" in sys.argv else rows()):
        print(f"{row[0]}: {row[1]} {row[2]:.3f}")

"""The request pipeline with a fake transport (no sockets): framing, ordering, back-pressure, bounds, timeouts."""

from __future__ import annotations

import asyncio
import struct

import pytest

from gateway import handlers  # noqa: F401  (fills the registry)
from gateway import registry
from gateway.broker import Broker
from gateway.config import Config
from gateway.memory_pool import MemoryPool
from gateway.pipeline import ANONYMOUS, ConnectionLimits, RequestPipeline
from partitions.memory import MemoryStorage
from wire.codec import decode, encode
from wire.frames import frame
from wire.headers import encode_request_header, response_header_size
from wire.messages import APIS
from wire.records import build_batch

PRODUCE, FETCH, METADATA, API_VERSIONS = 0, 1, 3, 18


class FakeTransport:
    """What the pipeline needs of an asyncio transport; `stalled` keeps written bytes unsent."""

    def __init__(self) -> None:
        self.sent = bytearray()
        self.unsent: list[bytes] = []
        self.stalled = False
        self.reading = True
        self.closed = False
        self.pipeline: RequestPipeline | None = None
        self.written_at = self.closed_at = None  # loop time of the last write, of the close

    def writelines(self, data) -> None:
        self.written_at = asyncio.get_running_loop().time()
        for chunk in data:
            (self.unsent.append if self.stalled else self.sent.extend)(bytes(chunk))

    def get_write_buffer_size(self) -> int:
        return sum(map(len, self.unsent))

    def pause_reading(self) -> None:
        assert self.reading
        self.reading = False

    def resume_reading(self) -> None:
        assert not self.reading
        self.reading = True

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.closed_at = asyncio.get_running_loop().time()
            asyncio.get_running_loop().call_soon(self.pipeline.connection_lost)

    def drain(self) -> None:
        self.stalled = False
        for chunk in self.unsent:
            self.sent.extend(chunk)
        self.unsent.clear()
        self.pipeline.write_buffer_drained()

    def frames(self) -> list[tuple[int, bytes]]:
        """(correlation id, payload) of every whole response frame sent so far, removed."""
        out = []
        while len(self.sent) >= 4:
            (size,) = struct.unpack_from(">i", self.sent)
            if len(self.sent) < 4 + size:
                break
            payload = bytes(self.sent[4:4 + size])
            del self.sent[:4 + size]
            out.append((struct.unpack_from(">i", payload)[0], payload))
        return out

    def responses(self, api_key: int, version: int) -> list[tuple[int, object]]:
        skip = response_header_size(api_key, version)
        return [(c, decode(APIS[api_key].response, version, p, skip)) for c, p in self.frames()]


def request(api_key: int, version: int, body: dict, correlation_id: int) -> bytes:
    return frame(encode_request_header(api_key, version, correlation_id, "pipeline-test")
                 + encode(APIS[api_key].request, version, body))


def metadata(correlation_id: int) -> bytes:
    return request(METADATA, 9, {"topics": None, "allow_auto_topic_creation": False}, correlation_id)


def api_versions(correlation_id: int) -> bytes:
    return request(API_VERSIONS, 3, {"client_software_name": "t", "client_software_version": "1"}, correlation_id)


def fetch(topic: str, correlation_id: int, *, offset=0, max_wait_ms=0, min_bytes=0, max_bytes=1 << 20) -> bytes:
    return request(FETCH, 11, {
        "replica_id": -1, "max_wait_ms": max_wait_ms, "min_bytes": min_bytes, "max_bytes": max_bytes,
        "isolation_level": 0, "session_id": 0, "session_epoch": -1, "rack_id": "", "forgotten_topics_data": [],
        "topics": [{"topic": topic, "partitions": [{"partition": 0, "fetch_offset": offset,
                                                    "partition_max_bytes": max_bytes}]}]}, correlation_id)


def produce(topic: str, value: bytes, correlation_id: int) -> bytes:
    return request(PRODUCE, 9, {"transactional_id": None, "acks": 1, "timeout_ms": 1000, "topic_data": [
        {"name": topic, "partition_data": [{"index": 0, "records": build_batch([(None, value, [], 1000)])}]}]},
        correlation_id)


async def settle(turns: int = 20) -> None:
    for _ in range(turns):
        await asyncio.sleep(0)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 10))


def make(limits: ConnectionLimits | None = None, pool: MemoryPool | None = None, **config):
    broker = Broker(Config(memory=True, **config), MemoryStorage())
    transport = FakeTransport()
    pipeline = RequestPipeline(broker, transport, connection_id="c-1", peer="127.0.0.1:5555",
                               pool=pool, limits=limits or ConnectionLimits())
    transport.pipeline = pipeline
    return broker, transport, pipeline


def test_requests_fed_whole_split_or_byte_by_byte_answer_in_order():
    async def main():
        for step in (None, 1, 7):
            _, transport, pipeline = make()
            stream = api_versions(1) + metadata(2) + api_versions(3)
            chunks = [stream] if step is None else [stream[i:i + step] for i in range(0, len(stream), step)]
            for chunk in chunks:
                pipeline.receive_data(chunk)
                await settle(2)
            await settle()
            answers = transport.frames()
            assert [c for c, _ in answers] == [1, 2, 3]
            assert decode(APIS[API_VERSIONS].response, 3, answers[0][1], 4).error_code == 0
            assert pipeline.pool.used == 0 and pipeline.idle
    run(main())


def test_responses_stay_in_request_order_behind_a_waiting_fetch():
    async def main():
        broker, transport, pipeline = make()
        pipeline.receive_data(produce("t", b"v", 1))
        await settle()
        transport.sent.clear()
        pipeline.receive_data(fetch("t", 2, offset=1, max_wait_ms=200, min_bytes=1) + metadata(3))
        await settle()
        assert transport.sent == b""  # the metadata answer is ready but waits for the fetch's
        await asyncio.sleep(0.3)
        await settle()
        assert struct.unpack_from(">i", transport.sent, 4)[0] == 2
    run(main())


def test_a_second_fetch_waits_for_the_first_so_unread_fetches_cannot_pile_up():
    async def main():
        broker, transport, pipeline = make()
        pipeline.receive_data(produce("t", b"v", 1))
        await settle()
        assert [c for c, _ in transport.frames()] == [1]
        pipeline.receive_data(b"".join(fetch("t", 2 + i, offset=1, max_wait_ms=2000, min_bytes=1) for i in range(5)))
        await settle()
        assert len(pipeline.pending) == 1 and not pipeline.idle  # one fetch waits; the next is held back
        assert not transport.reading  # and nothing more is read meanwhile
        producer = RequestPipeline(broker, FakeTransport())
        producer.receive_data(produce("t", b"w", 9))
        await settle(100)
        # the waiting fetch woke with the new batch; each held one then ran and found it at once
        answers = transport.responses(FETCH, 11)
        assert [c for c, _ in answers] == [2, 3, 4, 5, 6]
        assert all(a.responses[0].partitions[0].records for _, a in answers)
        assert transport.reading and pipeline.idle
    run(main())


def test_unread_responses_stop_dispatch_and_reading_at_the_byte_bound():
    async def main():
        limits = ConnectionLimits(max_unsent_bytes=64 * 1024)
        broker, transport, pipeline = make(limits)
        value = b"x" * 100_000
        pipeline.receive_data(produce("big", value, 1))
        await settle()
        transport.sent.clear()
        transport.stalled = True  # a client that never reads
        pipeline.receive_data(b"".join(fetch("big", 10 + i) for i in range(200)))
        for _ in range(10):
            await settle()
        assert not transport.reading
        # one fetch response (100 KB) went over the 64 KiB bound; nothing was dispatched after it
        assert transport.get_write_buffer_size() < 2 * len(value)
        assert len(transport.unsent) == 2  # header+prefix, body of one response
        transport.drain()
        for _ in range(400):
            await settle(1)
            if transport.unsent:
                transport.drain()
        answers = transport.responses(FETCH, 11)
        assert [c for c, _ in answers] == list(range(10, 210))
        assert transport.reading and pipeline.pool.used == 0
    run(main())


def test_a_frame_waits_for_pool_budget_and_reads_again_when_it_is_released():
    async def main():
        pool = MemoryPool(1000)
        pool.charge(1000)  # someone else holds the whole budget
        broker, transport, pipeline = make(pool=pool)
        pipeline.receive_data(metadata(1))
        await settle()
        assert transport.sent == b"" and not transport.reading and pool.waiting == 1
        pool.release(1000)
        await settle()
        assert [c for c, _ in transport.responses(METADATA, 9)] == [1]
        assert transport.reading and pool.used == 0
    run(main())


def test_half_sent_frame_counts_against_the_pool_and_is_cut_off_after_the_receive_timeout():
    async def main():
        pool = MemoryPool()
        limits = ConnectionLimits(receive_timeout_s=0.2)
        broker, transport, pipeline = make(limits, pool)
        declared = 10_000_000
        pipeline.receive_data(struct.pack(">i", declared) + b"\x00" * 1000)
        await settle()
        assert pool.used == declared + 4  # the declared size is reserved, though only 1 KB is allocated
        assert pipeline.decoder.buffered == 1004
        await asyncio.sleep(0.1)
        pipeline.receive_data(b"\x00" * 1000)  # a trickle does not reset the clock
        await asyncio.sleep(0.15)
        await settle()
        assert transport.closed and pool.used == 0
    run(main())


def test_receive_timeout_does_not_run_while_we_are_not_reading():
    async def main():
        pool = MemoryPool(100)
        pool.charge(100)
        broker, transport, pipeline = make(ConnectionLimits(receive_timeout_s=0.1), pool)
        pipeline.receive_data(metadata(1)[:10])
        await asyncio.sleep(0.25)
        assert not transport.closed  # waiting for the pool is the broker's doing, not the client's
        pool.release(100)
        pipeline.receive_data(metadata(1)[10:])
        await settle()
        assert [c for c, _ in transport.responses(METADATA, 9)] == [1]
    run(main())


def test_idle_connection_is_closed_but_not_while_a_request_waits():
    async def main():
        loop = asyncio.get_running_loop()
        broker, transport, pipeline = make(ConnectionLimits(idle_timeout_s=0.2))
        pipeline.receive_data(produce("t", b"v", 1))
        pipeline.receive_data(fetch("t", 2, offset=1, max_wait_ms=500, min_bytes=1))
        started = loop.time()
        while len(transport.frames()) < 1 or pipeline.pending:  # until the long poll times out
            await asyncio.sleep(0.01)
        # the times the pipeline wrote and closed, not when this loop got round to look (later, under load)
        answered = transport.written_at
        assert answered - started >= 0.45  # answered when the long poll timed out
        while not transport.closed:
            await asyncio.sleep(0.01)
        # not closed while the fetch waited (a waiting fetch is not idleness): idle counted from the last bytes out
        assert transport.closed_at - answered >= 0.19
    run(main())


def test_bad_frame_size_closes_and_releases():
    async def main():
        broker, transport, pipeline = make(max_request_size=1000)
        pipeline.receive_data(struct.pack(">i", 1001))
        await settle()
        assert transport.closed and pipeline.pool.used == 0
    run(main())


def test_context_carries_connection_id_principal_listener_and_a_handler_bug_closes(monkeypatch):
    seen = []
    real = registry.lookup(METADATA, 9)

    async def handler(ctx, req):
        seen.append((ctx.connection_id, ctx.principal, ctx.listener_name, ctx.peer, ctx.broker is broker))
        raise RuntimeError("boom")

    monkeypatch.setitem(registry.HANDLERS, METADATA, registry.Registration(real.api, 0, real.max_version, 0, handler))

    async def main():
        nonlocal broker
        broker, transport, pipeline = make()
        pipeline.receive_data(metadata(1))
        await settle()
        assert transport.closed
        await settle()
        assert pipeline.pool.used == 0

    broker = None
    run(main())
    assert seen == [("c-1", ANONYMOUS, "PLAINTEXT", "127.0.0.1:5555", True)]


def test_config_refuses_a_pool_smaller_than_one_request():
    with pytest.raises(ValueError):
        Config(queued_max_request_bytes=1000, max_request_size=2000)
    assert Config(queued_max_request_bytes=-1).queued_max_request_bytes == -1


def test_a_fetch_response_gathers_at_most_fetch_max_bytes():
    async def main():
        broker, transport, pipeline = make(fetch_max_bytes=150_000)
        for i in range(3):
            pipeline.receive_data(produce("capped", b"v" * 100_000, i))
            await settle()
        transport.frames()
        pipeline.receive_data(fetch("capped", 10, max_bytes=10 << 20))
        await settle()
        (_, answer), = transport.responses(FETCH, 11)
        records = answer.responses[0].partitions[0].records
        assert 100_000 < len(records) < 150_000  # the first batch whole, the next two over the cap
    run(main())


def test_under_memory_pressure_a_stalled_half_sent_request_gives_way():
    async def main():
        pool = MemoryPool(2000)
        limits = ConnectionLimits(receive_timeout_s=30, stall_timeout_s=0.2)
        broker, stalled, first = make(limits, pool)
        first.receive_data(struct.pack(">i", 5000) + b"\x00" * 100)  # reserves 5004: the pool is spent
        await settle()
        other = RequestPipeline(broker, FakeTransport(), pool=pool, limits=limits)
        other.transport.pipeline = other
        other.receive_data(metadata(1))
        await settle()
        assert pool.waiting == 1 and not other.transport.frames()
        await asyncio.sleep(0.1)
        first.receive_data(b"\x00" * 100)  # progress resets the stall clock
        await asyncio.sleep(0.15)
        assert not stalled.closed
        await asyncio.sleep(0.25)
        await settle()
        assert stalled.closed  # no progress for 0.2 s while someone waited: cut off
        await settle()
        assert [c for c, _ in other.transport.frames()] == [1]
        assert pool.used == 0
    run(main())


def test_a_stalled_request_is_left_alone_while_nobody_waits_for_memory():
    async def main():
        broker, transport, pipeline = make(ConnectionLimits(receive_timeout_s=30, stall_timeout_s=0.1))
        pipeline.receive_data(struct.pack(">i", 5000) + b"\x00" * 100)
        await asyncio.sleep(0.35)
        assert not transport.closed
    run(main())


def test_a_bad_frame_behind_a_held_back_request_closes_when_reached_and_never_raises():
    async def main():
        broker, transport, pipeline = make(ConnectionLimits(max_unsent_bytes=10))
        transport.stalled = True
        pipeline.receive_data(api_versions(1) + api_versions(2))
        await settle()
        pipeline.receive_data(struct.pack(">i", -7))  # dispatch has stopped: nothing reads this size yet
        assert not transport.closed and not transport.reading
        transport.drain()
        await settle()
        assert transport.closed and len(transport.frames()) == 2
    run(main())


def test_a_turn_dispatches_at_most_its_share_and_the_rest_follows_in_order():
    from gateway.pipeline import TURN_REQUESTS

    async def main():
        _, transport, pipeline = make()
        pipeline.receive_data(b"".join(api_versions(i) for i in range(2 * TURN_REQUESTS + 3)))
        assert [c for c, _ in transport.frames()] == list(range(TURN_REQUESTS))  # this turn's share, one write
        assert pipeline._turn_scheduled  # the rest waits for the next turn (the other connections go first)
        await settle()
        assert [c for c, _ in transport.frames()] == list(range(TURN_REQUESTS, 2 * TURN_REQUESTS + 3))
        assert pipeline.idle and not pipeline._turn_scheduled
    run(main())


def test_a_request_over_the_turn_bytes_with_nothing_behind_it_leaves_no_turn_pending():
    async def main():
        _, transport, pipeline = make()
        pipeline.receive_data(produce("big", b"x" * 100_000, 1))  # over TURN_BYTES on its own
        await settle()
        assert [c for c, _ in transport.frames()] == [1]
        pipeline.receive_data(produce("big", b"y" * 100_000, 2) + api_versions(3))
        assert [c for c, _ in transport.frames()] == [2]  # the big one used the share; the next is a turn later
        assert pipeline._turn_scheduled
        await settle()
        assert [c for c, _ in transport.frames()] == [3]
        pipeline.receive_data(produce("big", b"z" * 100_000, 4))
        assert not pipeline._turn_scheduled  # nothing more buffered: no empty turn is scheduled
        pipeline.receive_data(api_versions(5))  # the next event brings its own share: answered at once
        assert [c for c, _ in transport.frames()] == [4, 5]
    run(main())

"""The in-process Produce cost rows of bench.py --scale (bench_scale.in_process_rows; alone: `python
scripts/bench_scale.py --small-produce`): the broker's CPU per request and per partition of a request,
decoded, handled and encoded in this process, no sockets, no client.

- librdkafka's request at 1,000 partitions (1 partition x 24 x 1 KiB), memory engine and RocksDB;
- the raw partitions point's ~1 MB requests (1 partition, and 64 partitions of ~15 KB), RocksDB: one pass, and
  alternated rounds whose best round gives the per-partition cost beyond the first, with the RocksDB keys and
  journal bytes a partition's write holds (deterministic);
- the 8-partition latency point's request (8 partitions x 3 x 1 KiB), memory engine and RocksDB.
"""

from __future__ import annotations

import os
import tempfile
import time

import bench_scale as scale
from wire.records import build_batch


def rows(now: int) -> list[tuple]:
    return small_produce_rows(now) + raw_in_process_rows() + raw_best_rows() + eight_partition_rows(now)


def produce_call(broker, bodies: list[bytes], views: bool):
    """once(i): the Produce v9 request bodies[i % len(bodies)] decoded, handled by the registered handler (which
    must not suspend: uncompressed, one broker) and its response encoded, as the pipeline does it."""
    from gateway.registry import RequestContext, lookup
    from wire.codec import decode, encode
    import structlog

    registration = lookup(scale.PRODUCE, 9)
    log = structlog.get_logger()

    def once(i: int) -> bytes:
        ctx = RequestContext(broker, scale.PRODUCE, 9, i, "bench-scale", log)
        coro = registration.handler(ctx, decode(registration.api.request, 9, bodies[i % len(bodies)], views=views))
        try:
            coro.send(None)
        except StopIteration as stop:
            return encode(registration.api.response, 9, stop.value)
        raise RuntimeError("the Produce handler suspended")
    return once


SMALL_RECORDS = 24  # librdkafka's median Produce at 1,000 partitions: one partition, ~25 KB (bench --trace)


def small_produce_rows(now: int, requests: int = 6000) -> list[tuple]:
    """librdkafka's request at 1,000 partitions, in process: one partition of 24 x 1 KiB records a Produce
    (acks=1), round-robin over a 1,000-partition topic, decoded, handled and encoded; CPU of every thread
    (RocksDB's flush and compaction threads count) per request, memory engine and RocksDB. A fixed request
    count (the memory engine keeps every batch: a longer run measures its page faults)."""
    from gateway.registry import lookup
    from wire.codec import encode

    rows = []
    batch = build_batch([(None, os.urandom(scale.RECORD), [], now)] * SMALL_RECORDS)
    registration = lookup(scale.PRODUCE, 9)
    for engine in ("memory", "RocksDB"):
        with tempfile.TemporaryDirectory(prefix="ottla-bench-scale-") as tmp:
            broker, _ = scale._in_process_broker(1000, tmp if engine == "RocksDB" else None)
            raws = [encode(registration.api.request, 9, {"transactional_id": None, "acks": 1, "timeout_ms": 30000,
                                                         "topic_data": [{"name": "t", "partition_data": [
                                                             {"index": p, "records": batch}]}]}) for p in range(1000)]
            once = produce_call(broker, raws, views=False)
            for i in range(1000):  # every partition has its first batch and segment
                once(i)
            started = time.process_time()
            for i in range(requests):
                once(i)
            cpu = (time.process_time() - started) / requests
            broker.close()
        what = (f"scale in-process, Produce of 1 partition x {SMALL_RECORDS} x 1 KiB ({len(batch):,} B) a request, "
                f"1,000-partition topic, {engine}")
        rows.append((what, "broker CPU per request, us", cpu * 1e6, None))
        rows.append((what, "broker CPU per MB, ms", cpu * 1e3 / (len(batch) / 1e6), None))
    return rows


LATENCY_POINT_RECORDS = 3  # the 8-partition latency point: ~25 records a request over 8 partitions (127,900/s in 5,111)


def eight_partition_rows(now: int, requests: int = 3000, rounds: int = 5) -> list[tuple]:
    """The 8-partition latency point's request shape in process: 8 partitions x 3 x 1 KiB a Produce (acks=1) into an
    8-partition topic, decoded, handled and encoded; the event-loop thread's CPU per request, median of `rounds`
    rounds, memory engine and RocksDB. Its per-partition cost is most of it (bench --latency --latency-configs 1:8)."""
    from gateway.registry import lookup
    from wire.codec import encode
    import statistics

    rows = []
    batch = build_batch([(None, os.urandom(scale.RECORD), [], now)] * LATENCY_POINT_RECORDS)
    registration = lookup(scale.PRODUCE, 9)
    raw = encode(registration.api.request, 9, {"transactional_id": None, "acks": 1, "timeout_ms": 30000,
                                               "topic_data": [{"name": "t", "partition_data": [
                                                   {"index": p, "records": batch} for p in range(8)]}]})
    for engine in ("memory", "RocksDB"):
        with tempfile.TemporaryDirectory(prefix="ottla-bench-scale-") as tmp:
            broker, _ = scale._in_process_broker(8, tmp if engine == "RocksDB" else None)
            once = produce_call(broker, [raw], views=False)
            for i in range(100):
                once(i)
            spent = []
            for r in range(rounds):
                started = time.thread_time()
                for i in range(requests // rounds):
                    once(i)
                spent.append((time.thread_time() - started) / (requests // rounds))
            broker.close()
        what = (f"scale in-process, Produce of 8 partitions x {LATENCY_POINT_RECORDS} x 1 KiB a request (the "
                f"8-partition latency point's shape), {engine}, event-loop thread, median of {rounds} rounds")
        rows.append((what, "broker CPU per request, us", statistics.median(spent) * 1e6, None))
    return rows


def raw_in_process_rows(requests: int = 200) -> list[tuple]:
    """The raw partitions point's requests (bench_scale.raw_produce_frames) handled in process over RocksDB, 1 and 64
    partitions a request into a topic of 1 and 1,000 partitions: the event-loop thread's CPU per request (decode,
    handler, log, journal and RocksDB write, encode; no sockets) and per partition of a request beyond the first."""
    from wire.headers import decode_request_header

    spent = {}
    for partitions in (1, 1000):
        with tempfile.TemporaryDirectory(prefix="ottla-bench-scale-") as tmp:
            broker, _ = scale._in_process_broker(partitions, tmp)
            bodies = [frame[4 + decode_request_header(frame[4:]).body_offset:]
                      for frame in scale.raw_produce_frames("t", partitions)]
            once = produce_call(broker, bodies, views=True)
            for i in range(2 * len(bodies)):  # every partition has its first batch and segment
                once(i)
            started = time.thread_time()
            for i in range(requests):
                once(i)
            spent[partitions] = (time.thread_time() - started) / requests
            broker.close()
    one, many = spent[1], spent[1000]
    batches = scale.RAW_BATCHES
    what = (f"scale in-process, raw partitions point's ~1 MB Produce ({batches * scale.RAW_RECORDS_PER_BATCH} x 1 KiB)"
            ", RocksDB, event-loop thread")
    return [(what, "1 partition a request (1-partition topic): broker CPU per request, us", one * 1e6, None),
            (what, f"{batches} partitions a request (1,000-partition topic): broker CPU per request, us", many * 1e6,
             None),
            (what, "broker CPU per partition of a request beyond the first, us", (many - one) * 1e6 / (batches - 1),
             None)]


def raw_best_rows(rounds: int = 11, per_round: int = 30) -> list[tuple]:
    """raw_in_process_rows' two requests (1 partition of ~1 MB into a 1-partition topic, 64 partitions of ~15 KB
    into a 1,000-partition topic; RocksDB), in alternating rounds of `per_round` requests on two warm brokers:
    the best round of each (the host's speed moves by up to 40% from one second to the next: the best round is
    the least disturbed) and the per-partition cost beyond the first from them. Plus what the storage write of
    one partition holds, which does not depend on the host: RocksDB keys (journal ops) and journal bytes."""
    from wire.headers import decode_request_header

    with tempfile.TemporaryDirectory(prefix="ottla-bench-scale-") as tmp:
        points = {}
        for partitions in (1, 1000):
            broker, _ = scale._in_process_broker(partitions, os.path.join(tmp, str(partitions)))
            bodies = [frame[4 + decode_request_header(frame[4:]).body_offset:]
                      for frame in scale.raw_produce_frames("t", partitions)]
            once = produce_call(broker, bodies, views=True)
            for i in range(2 * len(bodies)):  # every partition has its first batch and segment
                once(i)
            points[partitions] = (broker, once)
        best = {1: float("inf"), 1000: float("inf")}
        done = 0
        stats = {}
        for _ in range(rounds):
            for partitions, (broker, once) in points.items():
                before = broker.storage.journal_stats()
                started = time.thread_time()
                for i in range(done, done + per_round):
                    once(i)
                best[partitions] = min(best[partitions], (time.thread_time() - started) / per_round)
                after = broker.storage.journal_stats()
                stats[partitions] = ((after["ops"] - before["ops"]) / per_round,
                                     (after["bytes"] - before["bytes"]) / per_round)
            done += per_round
        for broker, _ in points.values():
            broker.close()
    batches = scale.RAW_BATCHES
    what = (f"scale in-process, raw partitions point's ~1 MB Produce ({batches * scale.RAW_RECORDS_PER_BATCH} x 1 KiB)"
            ", "
            f"RocksDB, event-loop thread, best of {rounds} alternated rounds of {per_round}")
    ops_1, bytes_1 = stats[1]
    ops_64, bytes_64 = stats[1000]
    return [(what, "1 partition a request: broker CPU per request, us", best[1] * 1e6, None),
            (what, f"{batches} partitions a request: broker CPU per request, us", best[1000] * 1e6, None),
            (what, "broker CPU per partition of a request beyond the first, us",
             (best[1000] - best[1]) * 1e6 / (batches - 1), None),
            (what, f"RocksDB keys written per partition ({batches} partitions a request)", ops_64 / batches,
             None),
            (what, f"journal bytes per partition beyond the value bytes ({batches} partitions a request)",
             (bytes_64 - bytes_1) / (batches - 1), None)]

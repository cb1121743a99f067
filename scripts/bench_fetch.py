"""Consume from RocksDB in process, as librdkafka fetches (bench.py --scale's in-process rows; alone:
`python scripts/bench_fetch.py`): the broker's CPU per MB consumed, without sockets or the client.

A topic's partitions are filled through the Produce handler (RocksDB, flushed to SST files), then read
back whole as librdkafka's consumer does: a full Fetch creating a fetch session (max.partition.fetch.bytes
1 MiB, fetch.max.bytes 50 MiB, read_committed), then incremental Fetches naming the partitions whose
offsets moved, until every partition is read. Timed: each request's decode, the handler and the
response's encode (as the pipeline runs them: gateway.offload, so a big response is encoded as pieces
on the worker thread: process CPU, every thread). Not timed: building the requests and decoding the
answers (the client's side). Shapes:

- 1,000 partitions x 4 batches of 25 x 1 KiB records (librdkafka's ~25 KB Produce at 1,000 partitions):
  ~48 MB responses, 2-3 Fetches; the per-partition costs (a storage read a partition, the session).
- 1 partition x 40 batches of 1 MB (librdkafka's batch.size): a 1 MiB partition limit holds one batch,
  so each Fetch stops at the second (which the engine must not copy to drop).
"""

from __future__ import annotations

import asyncio
import os
import statistics
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
    from gateway.offload import decode_request, encode_response
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

            async def handle():
                request = await decode_request(registration.api.request, version, raw, 0)
                ctx = RequestContext(broker, api, version, 1, "bench-fetch", structlog.get_logger())
                return await encode_response(registration.api.response, version, await registration.handler(ctx, request))
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
    for row in rows():
        print(f"{row[0]}: {row[1]} {row[2]:.3f}")

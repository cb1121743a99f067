"""Share groups (KIP-932) with librdkafka's ShareConsumer beside a classic consumer group, on the same data.

Called by `bench.py --share` (or run alone: `python scripts/bench_share.py --bootstrap HOST:PORT`). For
1 and 8 partitions: produce the records once, read them all with a classic group (subscribe, group.id,
auto.offset.reset=earliest), then with 1, 2 and 4 share consumers (implicit acknowledgement; each in
its own thread, librdkafka's own threads doing the work) in a fresh share group whose start offsets are
set to 0 with AlterShareGroupOffsets first (share groups start at "latest"). Reported: records/s, MB/s,
broker CPU per record (share beside classic: the issue's goal is at most 2x), and the acknowledgement
round trip (explicit mode, commit_sync of one poll's records) p50/p99.
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import Consumer, KafkaError, Producer, ShareConsumer
from confluent_kafka.admin import AdminClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import bench  # noqa: E402  (scripts/bench.py: Phase-free helpers, CPU meter)
from wire.codec import decode, encode  # noqa: E402
from wire.headers import encode_request_header, response_header_size  # noqa: E402
from wire.messages import APIS  # noqa: E402

ALTER_SHARE_GROUP_OFFSETS = 91
SHARE_CONSUMERS = (1, 2, 4)


@dataclass
class Run:
    label: str
    records: int = 0
    bytes: int = 0
    seconds: float | None = None
    broker_cpu_s: float | None = None
    complete: bool = False

    @property
    def records_per_s(self):
        return self.records / self.seconds if self.seconds else None

    @property
    def mb_per_s(self):
        return self.bytes / self.seconds / 1e6 if self.seconds else None

    @property
    def cpu_us_per_record(self):
        return self.broker_cpu_s / self.records * 1e6 if self.broker_cpu_s is not None and self.records else None


@dataclass
class ShareResult:
    runs: list[Run] = field(default_factory=list)
    ack_rtt_ms: list[float] = field(default_factory=list)
    failure: str | None = None


def alter_start_offsets(bootstrap: str, group: str, topic: str, partitions: int) -> None:
    """AlterShareGroupOffsets (key 91) v0: the group starts at offset 0 of every partition."""
    host, port = bootstrap.rsplit(":", 1)
    body = {"group_id": group, "topics": [{"topic_name": topic, "partitions": [
        {"partition_index": p, "start_offset": 0} for p in range(partitions)]}]}
    api = APIS[ALTER_SHARE_GROUP_OFFSETS]
    payload = encode_request_header(ALTER_SHARE_GROUP_OFFSETS, 0, 1, "bench-share") + encode(api.request, 0, body)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(struct.pack(">i", len(payload)) + payload)
        size = struct.unpack(">i", bench.recv_exact(sock, 4))[0]
        frame = bench.recv_exact(sock, size)
    answer = decode(api.response, 0, frame, response_header_size(ALTER_SHARE_GROUP_OFFSETS, 0))
    errors = [answer.error_code] + [p.error_code for t in answer.responses for p in t.partitions]
    if any(errors):
        raise RuntimeError(f"AlterShareGroupOffsets answered {errors}")


def produce(bootstrap: str, topic: str, records: int, size: int, timeout_s: float) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "batch.num.messages": 1000})
    value = b"x" * size
    for i in range(records):
        while True:
            try:
                producer.produce(topic, value=value, key=b"%d" % i)
                break
            except BufferError:
                producer.poll(0.01)
    if producer.flush(timeout_s):
        raise RuntimeError("produce did not finish")


def classic(bootstrap: str, topic: str, expected: int, broker, timeout_s: float) -> Run:
    run = Run("classic group, 1 consumer")
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-classic-{uuid.uuid4().hex[:6]}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": True, "fetch.queue.backoff.ms": 10})
    consumer.subscribe([topic])
    cpu0, started, last = broker.cpu_seconds() if broker else None, None, None
    deadline = time.perf_counter() + timeout_s
    try:
        while run.records < expected and time.perf_counter() < deadline:
            for message in consumer.consume(10_000, 0.5):
                if message.error() is None:
                    started = started or time.perf_counter()
                    run.records += 1
                    run.bytes += len(message)
                    last = time.perf_counter()
    finally:
        consumer.close()
    _finish(run, started, last, cpu0, broker, expected)
    return run


def shared(bootstrap: str, topic: str, partitions: int, members: int, expected: int, broker,
           timeout_s: float) -> Run:
    run = Run(f"share group, {members} consumer{'s' if members > 1 else ''}")
    group = f"bench-share-{uuid.uuid4().hex[:6]}"
    alter_start_offsets(bootstrap, group, topic, partitions)
    consumers = [ShareConsumer({"bootstrap.servers": bootstrap, "group.id": group}) for _ in range(members)]
    for consumer in consumers:
        consumer.subscribe([topic])
    lock = threading.Lock()
    times: list[float] = []
    deadline = time.perf_counter() + timeout_s

    def work(consumer) -> None:
        while time.perf_counter() < deadline:
            with lock:
                if run.records >= expected:
                    return
            got = [m for m in (consumer.poll(0.2) or []) if m.error() is None]
            if got:
                with lock:
                    times.append(time.perf_counter())
                    run.records += len(got)
                    run.bytes += sum(len(m) for m in got)

    cpu0 = broker.cpu_seconds() if broker else None
    threads = [threading.Thread(target=work, args=(c,)) for c in consumers]
    begin = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    end = max(times) if times else None
    cpu1 = broker.cpu_seconds() if broker else None
    for consumer in consumers:
        consumer.close()
    run.seconds = end - begin if end else None
    run.broker_cpu_s = cpu1 - cpu0 if cpu0 is not None and cpu1 is not None else None
    run.complete = run.records >= expected
    return run


def _finish(run: Run, started, last, cpu0, broker, expected: int) -> None:
    run.seconds = last - started if started and last else None
    cpu1 = broker.cpu_seconds() if broker else None
    run.broker_cpu_s = cpu1 - cpu0 if cpu0 is not None and cpu1 is not None else None
    run.complete = run.records >= expected


def ack_round_trips(bootstrap: str, topic: str, partitions: int, samples: int, timeout_s: float) -> list[float]:
    """commit_sync of one poll's records in explicit mode, timed: one ShareAcknowledge round trip each."""
    group = f"bench-ack-{uuid.uuid4().hex[:6]}"
    alter_start_offsets(bootstrap, group, topic, partitions)
    consumer = ShareConsumer({"bootstrap.servers": bootstrap, "group.id": group,
                              "share.acknowledgement.mode": "explicit", "max.poll.records": "10"})
    consumer.subscribe([topic])
    rtt = []
    deadline = time.perf_counter() + timeout_s
    try:
        while len(rtt) < samples and time.perf_counter() < deadline:
            got = [m for m in (consumer.poll(0.5) or []) if m.error() is None]
            if not got:
                continue
            for message in got:
                consumer.acknowledge(message)
            started = time.perf_counter()
            consumer.commit_sync(10)
            rtt.append((time.perf_counter() - started) * 1000)
    finally:
        consumer.close()
    return rtt


def measure(name: str, bootstrap: str, broker, args: argparse.Namespace) -> ShareResult:
    result = ShareResult()
    admin = AdminClient({"bootstrap.servers": bootstrap})
    try:
        for partitions in bench.PARTITION_COUNTS:
            topic = f"bench-share-{uuid.uuid4().hex[:8]}-p{partitions}"
            bench.create_topic(admin, topic, partitions, args.phase_timeout)
            produce(bootstrap, topic, args.share_records, args.record_size, args.phase_timeout)
            for run in [classic(bootstrap, topic, args.share_records, broker, args.phase_timeout)] + [
                    shared(bootstrap, topic, partitions, k, args.share_records, broker, args.phase_timeout)
                    for k in SHARE_CONSUMERS]:
                run.label = f"{run.label}, {partitions} partition{'s' if partitions > 1 else ''}"
                result.runs.append(run)
                print(f"# {name}: {run.label}: {run.records} records, "
                      f"{(run.records_per_s or 0):,.0f} records/s", file=sys.stderr)
            if partitions == 1:
                result.ack_rtt_ms = ack_round_trips(bootstrap, topic, partitions, args.ack_samples,
                                                    args.phase_timeout)
    except Exception as exc:  # report what was measured
        result.failure = f"{type(exc).__name__}: {exc}"
        print(f"# {name} share bench failed: {result.failure}", file=sys.stderr)
    return result


def rows(result: ShareResult) -> list[tuple[str, str, float | None, str | None]]:
    out = []
    classic_cpu = {}
    for run in result.runs:
        note = None if run.complete else "incomplete"
        out += [(run.label, "records/s", run.records_per_s, note), (run.label, "MB/s", run.mb_per_s, note),
                (run.label, "broker CPU per record, ns", run.cpu_us_per_record and run.cpu_us_per_record * 1000, note)]
        partitions = run.label.rsplit(", ", 1)[1]
        if run.label.startswith("classic"):
            classic_cpu[partitions] = run.cpu_us_per_record
        elif classic_cpu.get(partitions) and run.cpu_us_per_record:
            out.append((run.label, "broker cost per record, x classic", run.cpu_us_per_record / classic_cpu[partitions],
                        note))
    rtt = sorted(result.ack_rtt_ms)
    note = None if rtt else result.failure or "no samples"
    out += [("share ack round trip (commit_sync)", "p50, ms", bench.percentile(rtt, 50) if rtt else None, note),
            ("share ack round trip (commit_sync)", "p99, ms", bench.percentile(rtt, 99) if rtt else None, note)]
    return out


def add_arguments(p) -> None:
    p.add_argument("--share-records", type=int, default=50_000, help="records per share bench topic (default %(default)s)")
    p.add_argument("--ack-samples", type=int, default=300, help="acknowledgement round trips to time (default %(default)s)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--record-size", type=int, default=1024)
    p.add_argument("--phase-timeout", type=float, default=60.0)
    add_arguments(p)
    args = p.parse_args(argv)
    result = measure("broker", args.bootstrap, None, args)
    for what, metric, value, note in rows(result):
        print(f"| {what} | {metric} | {bench.fmt(value, metric)} | {note or ''} |")
    return 0 if result.failure is None else 1


if __name__ == "__main__":
    raise SystemExit(main())

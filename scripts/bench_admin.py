"""Admin API cost at scale: Metadata and DescribeTopicPartitions over 1,000 topics x 10 partitions, and
CreatePartitions of one topic to 1,000 partitions (bench.py --admin, or on its own: --bootstrap HOST:PORT).

Each figure is the round trip of one request on an open connection: the request sent, the whole
response frame received (decoding it, in Python, is the client's cost and not timed). Targets (issue 7):
Metadata and one DescribeTopicPartitions page under 20 ms each, CreatePartitions to 1,000 under 1 s.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import struct
import sys
import time
import uuid

import bench  # scripts/bench.py: recv_exact
from wire.codec import decode, encode
from wire.errors import ErrorCode
from wire.headers import encode_request_header, response_header_size
from wire.messages import APIS

METADATA, CREATE_TOPICS, CREATE_PARTITIONS, DESCRIBE_TOPIC_PARTITIONS = 3, 19, 37, 75
VERSIONS = {METADATA: 12, CREATE_TOPICS: 7, CREATE_PARTITIONS: 3, DESCRIBE_TOPIC_PARTITIONS: 0}
TOPICS, PARTITIONS, GROWN_TO = 1000, 10, 1000
TOPICS_PER_CREATE = 100


class AdminBenchError(Exception):
    pass


class Client:
    """One blocking connection; `timed` returns (seconds to the whole response frame, decoded response)."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.sock = socket.create_connection(address, timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.correlation_id = 0

    def timed(self, api_key: int, body: dict) -> tuple[float, object]:
        version = VERSIONS[api_key]
        self.correlation_id += 1
        payload = encode_request_header(api_key, version, self.correlation_id, "ottla-bench-admin")
        payload += encode(APIS[api_key].request, version, body)
        started = time.perf_counter()
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)
        (size,) = struct.unpack(">i", bench.recv_exact(self.sock, 4))
        frame = bench.recv_exact(self.sock, size)
        seconds = time.perf_counter() - started
        return seconds, decode(APIS[api_key].response, version, frame, response_header_size(api_key, version))

    def close(self) -> None:
        self.sock.close()


def _check(code: int, what: str) -> None:
    if code not in (ErrorCode.NONE, ErrorCode.TOPIC_ALREADY_EXISTS):
        raise AdminBenchError(f"{what} answered {ErrorCode(code).name}")


def measure(address: tuple[str, int], repeats: int = 20) -> dict[str, list[float]]:
    """Seconds per request, by measurement."""
    client = Client(address)
    run = uuid.uuid4().hex[:6]
    names = [f"bench-admin-{run}-{i:04d}" for i in range(TOPICS)]
    samples: dict[str, list[float]] = {}
    try:
        for start in range(0, TOPICS, TOPICS_PER_CREATE):
            _, created = client.timed(CREATE_TOPICS, {"timeout_ms": 60000, "validate_only": False, "topics": [
                {"name": n, "num_partitions": PARTITIONS, "replication_factor": -1, "assignments": [], "configs": []}
                for n in names[start:start + TOPICS_PER_CREATE]]})
            for t in created.topics:
                _check(t.error_code, f"CreateTopics {t.name}")
        wanted = [{"name": n, "topic_id": bytes(16)} for n in names]
        metadata = {"topics": wanted, "allow_auto_topic_creation": False, "include_topic_authorized_operations": False}
        seconds, answer = client.timed(METADATA, metadata)
        if sum(len(t.partitions) for t in answer.topics) != TOPICS * PARTITIONS:
            raise AdminBenchError("Metadata did not describe every partition")
        samples["metadata"] = [client.timed(METADATA, metadata)[0] for _ in range(repeats)]
        page = {"topics": [{"name": n} for n in names], "response_partition_limit": 2000, "cursor": None}
        samples["dtp_page"] = [client.timed(DESCRIBE_TOPIC_PARTITIONS, page)[0] for _ in range(repeats)]
        walks = []
        for _ in range(max(3, repeats // 4)):
            cursor, total, seen = None, 0.0, 0
            while True:
                seconds, answer = client.timed(DESCRIBE_TOPIC_PARTITIONS, {**page, "cursor": cursor})
                total += seconds
                seen += sum(len(t.partitions) for t in answer.topics)
                if answer.next_cursor is None:
                    break
                cursor = {"topic_name": answer.next_cursor.topic_name,
                          "partition_index": answer.next_cursor.partition_index}
            if seen != TOPICS * PARTITIONS:
                raise AdminBenchError(f"DescribeTopicPartitions pages described {seen} partitions")
            walks.append(total)
        samples["dtp_walk"] = walks
        grown = []
        for i in range(3):
            name = f"bench-admin-{run}-grow-{i}"
            _, created = client.timed(CREATE_TOPICS, {"timeout_ms": 60000, "validate_only": False, "topics": [
                {"name": name, "num_partitions": 1, "replication_factor": -1, "assignments": [], "configs": []}]})
            _check(created.topics[0].error_code, "CreateTopics")
            seconds, answer = client.timed(CREATE_PARTITIONS, {"timeout_ms": 60000, "validate_only": False,
                                                               "topics": [{"name": name, "count": GROWN_TO,
                                                                           "assignments": None}]})
            _check(answer.results[0].error_code, "CreatePartitions")
            grown.append(seconds)
        samples["create_partitions"] = grown
    finally:
        client.close()
    return samples


def rows(samples: dict[str, list[float]] | str) -> list[tuple[str, str, float | None, str | None]]:
    """(what, metric, value, note) rows for bench.py's table (a string: why there are none)."""
    what = f"admin, {TOPICS:,} topics x {PARTITIONS} partitions"
    labels = [("metadata", f"{what}: Metadata of all, ms"),
              ("dtp_page", f"{what}: DescribeTopicPartitions page of 2,000, ms"),
              ("dtp_walk", f"{what}: DescribeTopicPartitions all pages, ms"),
              ("create_partitions", f"admin: CreatePartitions 1 -> {GROWN_TO:,} partitions, ms")]
    if isinstance(samples, str):
        return [(label.split(": ")[0], label.split(": ", 1)[1], None, samples) for _, label in labels]
    return [(label.split(": ")[0], label.split(": ", 1)[1] + " (median)",
             statistics.median(samples[key]) * 1000, None) for key, label in labels]


def run(bootstrap: str, args) -> dict[str, list[float]] | str:
    """measure(), or why it could not (a broker's failure is a row's note, not the bench's crash)."""
    host, port = bootstrap.rsplit(":", 1)
    try:
        return measure((host, int(port)), args.admin_repeats)
    except Exception as exc:
        print(f"#   admin: {type(exc).__name__}: {exc}", file=sys.stderr)
        return f"{type(exc).__name__}: {exc}"


def add_arguments(p) -> None:
    p.add_argument("--admin-repeats", type=int, default=20, help="timed Metadata / DescribeTopicPartitions requests")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--bootstrap", required=True, metavar="HOST:PORT")
    add_arguments(p)
    args = p.parse_args(argv)
    host, port = args.bootstrap.rsplit(":", 1)
    for what, metric, value, note in rows(measure((host, int(port)), args.admin_repeats)):
        print(f"| {what} | {metric} | {value:,.1f} |" if value is not None else f"| {what} | {metric} | {note} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

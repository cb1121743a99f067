"""A tiny raw Kafka client (socket + struct only) that reads stored record-batch headers."""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass

API_FETCH = 1
API_METADATA = 3
FETCH_VERSION = 4
METADATA_VERSION = 4  # the first with allow_auto_topic_creation: looking never creates
# baseOffset q, batchLength i, partitionLeaderEpoch i, magic b, crc I, attributes h,
# lastOffsetDelta i, baseTimestamp q, maxTimestamp q, producerId q, producerEpoch h,
# baseSequence i, recordCount i
BATCH_HEADER = struct.Struct(">qiibIhiqqqhii")
BATCH_LOG_OVERHEAD = 12  # baseOffset + batchLength, not counted in batchLength
CODEC_NAMES = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}


class RawKafkaError(Exception):
    """The broker answered with an error code, or with bytes this client cannot read."""


@dataclass(frozen=True)
class BatchHeader:
    """The 61-byte header of one stored record batch (magic 2)."""

    base_offset: int
    batch_length: int
    partition_leader_epoch: int
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    record_count: int

    @property
    def compression(self) -> str:
        return CODEC_NAMES.get(self.attributes & 7, f"unknown({self.attributes & 7})")

    @property
    def is_transactional(self) -> bool:
        return bool(self.attributes & 0x10)

    @property
    def is_control(self) -> bool:
        return bool(self.attributes & 0x20)

    @property
    def next_offset(self) -> int:
        return self.base_offset + self.last_offset_delta + 1


@dataclass(frozen=True)
class FetchedPartition:
    error_code: int
    high_watermark: int
    last_stable_offset: int
    records: bytes


@dataclass(frozen=True)
class PartitionMetadata:
    error_code: int
    leader_id: int


@dataclass(frozen=True)
class Metadata:
    brokers: dict[int, tuple[str, int]]
    controller_id: int
    topics: dict[str, tuple[int, dict[int, PartitionMetadata]]]  # name -> (error_code, partitions)


class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, fmt: str):
        s = struct.Struct(">" + fmt)
        if self.pos + s.size > len(self.data):
            raise RawKafkaError("response truncated")
        values = s.unpack_from(self.data, self.pos)
        self.pos += s.size
        return values[0] if len(values) == 1 else values

    def string(self) -> str | None:
        n = self.take("h")
        if n < 0:
            return None
        value = self.data[self.pos : self.pos + n].decode()
        self.pos += n
        return value

    def bytes_(self) -> bytes | None:
        n = self.take("i")
        if n < 0:
            return None
        value = self.data[self.pos : self.pos + n]
        self.pos += n
        return value


def _string(value: str) -> bytes:
    raw = value.encode()
    return struct.pack(">h", len(raw)) + raw


def parse_bootstrap(bootstrap: str) -> tuple[str, int]:
    host, _, port = bootstrap.strip().rpartition(":")
    return host, int(port)


class RawKafka:
    """One blocking connection speaking request header v1 / response header v0."""

    def __init__(self, host: str, port: int, timeout: float = 10.0, client_id: str = "rawkafka"):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.client_id = client_id
        self.correlation_id = 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawKafka:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _recv_exact(self, n: int) -> bytes:
        chunks = []
        while n:
            chunk = self.sock.recv(min(n, 1 << 20))
            if not chunk:
                raise RawKafkaError("connection closed by broker")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def request(self, api_key: int, api_version: int, body: bytes) -> _Reader:
        self.correlation_id += 1
        header = struct.pack(">hhi", api_key, api_version, self.correlation_id) + _string(self.client_id)
        payload = header + body
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)
        (size,) = struct.unpack(">i", self._recv_exact(4))
        reader = _Reader(self._recv_exact(size))
        if reader.take("i") != self.correlation_id:
            raise RawKafkaError("correlation id mismatch")
        return reader

    def metadata(self, topics: list[str] | None) -> Metadata:
        """Metadata v4 without auto-creation; topics=None asks for all topics."""
        if topics is None:
            body = struct.pack(">i", -1)
        else:
            body = struct.pack(">i", len(topics)) + b"".join(_string(t) for t in topics)
        r = self.request(API_METADATA, METADATA_VERSION, body + struct.pack(">?", False))
        r.take("i")  # throttle_time_ms
        brokers = {}
        for _ in range(r.take("i")):
            node_id = r.take("i")
            host = r.string()
            port = r.take("i")
            r.string()  # rack
            brokers[node_id] = (host, port)
        r.string()  # cluster_id
        controller_id = r.take("i")
        result = {}
        for _ in range(r.take("i")):
            error_code = r.take("h")
            name = r.string()
            r.take("?")  # is_internal
            partitions = {}
            for _ in range(r.take("i")):
                p_error, index, leader = r.take("hii")
                for _ in range(r.take("i")):
                    r.take("i")  # replica_nodes
                for _ in range(r.take("i")):
                    r.take("i")  # isr_nodes
                partitions[index] = PartitionMetadata(p_error, leader)
            result[name] = (error_code, partitions)
        return Metadata(brokers, controller_id, result)

    def fetch(
        self, topic: str, partition: int, offset: int, max_bytes: int = 1 << 20, max_wait_ms: int = 100
    ) -> FetchedPartition:
        """Fetch v4 (read_uncommitted, min_bytes 1) for one partition; returns the raw record set."""
        body = struct.pack(">iiiib", -1, max_wait_ms, 1, max_bytes, 0)
        body += struct.pack(">i", 1) + _string(topic)
        body += struct.pack(">i", 1) + struct.pack(">iqi", partition, offset, max_bytes)
        r = self.request(API_FETCH, FETCH_VERSION, body)
        r.take("i")  # throttle_time_ms
        for _ in range(r.take("i")):
            name = r.string()
            for _ in range(r.take("i")):
                index, error_code, high_watermark, last_stable_offset = r.take("ihqq")
                aborted = r.take("i")
                for _ in range(max(aborted, 0)):
                    r.take("qq")
                records = r.bytes_() or b""
                if name == topic and index == partition:
                    return FetchedPartition(error_code, high_watermark, last_stable_offset, records)
        raise RawKafkaError(f"fetch response has no {topic}-{partition}")


def batch_headers(records: bytes) -> list[BatchHeader]:
    """Headers of the whole batches in a record set; a trailing partial batch is dropped."""
    headers = []
    pos = 0
    while pos + BATCH_HEADER.size <= len(records):
        header = BatchHeader(*BATCH_HEADER.unpack_from(records, pos))
        end = pos + BATCH_LOG_OVERHEAD + header.batch_length
        if header.batch_length <= 0 or end > len(records):
            break
        if header.magic != 2:
            raise RawKafkaError(f"batch at offset {header.base_offset} has magic {header.magic}")
        headers.append(header)
        pos = end
    return headers


def leader_address(bootstrap: str, topic: str, partition: int, timeout: float = 10.0) -> tuple[str, int]:
    """The host:port of the partition leader, waiting (bounded) until one is elected."""
    host, port = parse_bootstrap(bootstrap)
    deadline = time.monotonic() + timeout
    with RawKafka(host, port) as conn:
        while True:
            md = conn.metadata([topic])
            error_code, partitions = md.topics.get(topic, (3, {}))
            p = partitions.get(partition)
            if error_code == 0 and p is not None and p.error_code == 0 and p.leader_id in md.brokers:
                return md.brokers[p.leader_id]
            if time.monotonic() > deadline:
                raise RawKafkaError(f"no leader for {topic}-{partition}: {md.topics.get(topic)}")
            time.sleep(0.1)


def stored_batches(bootstrap: str, topic: str, partition: int = 0, timeout: float = 10.0) -> list[BatchHeader]:
    """Every stored batch of one partition from offset 0 up to the high watermark."""
    host, port = leader_address(bootstrap, topic, partition, timeout)
    deadline = time.monotonic() + timeout
    batches: list[BatchHeader] = []
    offset = 0
    with RawKafka(host, port, timeout=timeout) as conn:
        while True:
            fetched = conn.fetch(topic, partition, offset)
            if fetched.error_code:
                raise RawKafkaError(f"fetch {topic}-{partition}@{offset}: error {fetched.error_code}")
            found = [b for b in batch_headers(fetched.records) if b.next_offset > offset]
            batches.extend(found)
            if found:
                offset = found[-1].next_offset
            if offset >= fetched.high_watermark:
                return batches
            if time.monotonic() > deadline:
                raise RawKafkaError(f"stuck at offset {offset} < high watermark {fetched.high_watermark}")
            if not found:
                time.sleep(0.05)


def topic_names(bootstrap: str) -> set[str]:
    """Names of all topics the bootstrap broker lists in Metadata."""
    host, port = parse_bootstrap(bootstrap)
    with RawKafka(host, port) as conn:
        return set(conn.metadata(None).topics)

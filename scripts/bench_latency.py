"""Open-loop produce latency and end-to-end latency, Ottla beside Tansu in one session (bench.py --latency).

Closed-loop figures (bench.py's phases) time a producer that sends as fast as it can, so their
latency is mostly the client's own queue. Here a librdkafka producer offers a fixed rate instead:
10%, 50% and 90% (--latency-fractions) of the lower of the two brokers' peak, measured first by a
closed-loop produce of the same shape (acks, partitions) on each. Every record's latency is
produce() to its acknowledgement (librdkafka's Message.latency(), read in one delivery callback set in
the config; a tick's due records go out in one tight loop); the schedule is kept by count, so a broker that answers late
does not slow the offered rate (what a service's users see); between bursts the producer waits in
1 ms polls rather than spinning (a spinning loop took a core from the broker and librdkafka's threads),
and a point it could not keep (below 95% of the rate) says how long its loop waited for a core.
Broker CPU per MB over the same seconds makes efficiency a ratio at equal work. End-to-end: at 50% of peak, a consumer in its own
process (no shared GIL) reads the topic as it is written, taking what has arrived at once; latency
is produce() to the consumer's receipt, from a CLOCK_MONOTONIC stamp in each value. Each point runs
--latency-repeat times; --latency-stamps adds Ottla's own service times (gateway/service_times.py);
--latency-timeline splits each end-to-end record's time at the broker's append (the topic is
LogAppendTime, for both brokers: the timestamp each record comes back with is when the broker stored
it, in whole ms), so the rows say whether the tail is before the append (producer, Produce request,
storage) or after it (the Fetch, the consumer).

Both brokers run side by side and the points are interleaved (Ottla, Tansu, Tansu, Ottla, ...), so
the shared machine's drift hits both alike. Client settings are the same for both: linger.ms
(--latency-linger-ms, default 1), batch.size 1,000,000, no idempotence.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import struct
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, TIMESTAMP_LOG_APPEND_TIME, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

import bench  # scripts/bench.py: processes, phases, percentile, topic creation

CONFIGS = (("1", 1), ("all", 1), ("1", 8), ("all", 8))
STATS_INTERVAL_MS = 500  # --latency-timeline: librdkafka statistics windows of the end-to-end producer
TIMELINE_TOPIC = {"message.timestamp.type": "LogAppendTime"}  # --latency-timeline: records carry their append time
STAMP = struct.Struct("<d")  # CLOCK_MONOTONIC seconds at produce(), the first 8 bytes of an end-to-end value


def add_arguments(p) -> None:
    p.add_argument("--latency-seconds", type=float, default=2.0, help="seconds each open-loop point offers "
                   "(default %(default)s)")
    p.add_argument("--latency-fractions", default="10,50,90", help="offered rates, %% of the lower peak "
                   "(default %(default)s)")
    p.add_argument("--latency-peak", type=float, default=0.0, help="records/s to take as the peak instead of "
                   "measuring it (the same figure for every shape)")
    p.add_argument("--latency-peak-records", type=int, default=150_000, help="records of each peak measurement")
    p.add_argument("--latency-linger-ms", type=float, default=1.0, help="librdkafka linger.ms of the open-loop "
                   "producer, both brokers (default %(default)s)")
    p.add_argument("--latency-configs", default="1:1,all:1,1:8,all:8", help="acks:partitions shapes "
                   "(default %(default)s)")
    p.add_argument("--latency-stamps", action="store_true", help="Ottla stamps every request (gateway/"
                   "service_times.py): rows of its service-time percentiles per point (read, queued, handler, "
                   "ordered, total), storage writes, GC pauses, event-loop lateness and what each read left in the kernel's "
                   "receive queue (a wait the stamps cannot see)")
    p.add_argument("--latency-timeline", action="store_true", help="end to end on a LogAppendTime topic (both "
                   "brokers): rows of produce() to the broker's append and the append to the consumer's receipt, and "
                   "where the slowest 1%% of records spent their time")
    p.add_argument("--latency-repeat", type=int, default=3, help="offer every point this many times, alternating the "
                   "brokers (rows: the median, and the lowest and highest of the runs; default %(default)s)")


class Stamps:
    """The broker's service times (gateway/service_times.py) over one point: SIGUSR1 before and after."""

    def __init__(self, broker: bench.BrokerProcess, path: Path) -> None:
        self.broker, self.path = broker, path

    def _seq(self) -> int:
        try:
            return json.loads(self.path.read_text())["seq"]
        except (OSError, ValueError, KeyError):
            return 0

    def dump(self, timeout_s: float = 5.0) -> dict | None:
        before = self._seq()
        os.kill(self.broker.proc.pid, signal.SIGUSR1)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                out = json.loads(self.path.read_text())
                if out["seq"] > before:
                    return out
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.01)
        return None


def producer_config(bootstrap: str, acks: str, linger_ms: float, timeout_s: float) -> dict:
    return {
        **bench.client_config(bootstrap),
        "acks": acks,
        "linger.ms": linger_ms,
        "batch.size": 1_000_000,
        "queue.buffering.max.messages": 2_000_000,
        "queue.buffering.max.kbytes": 2_097_151,
        "message.timeout.ms": int(timeout_s * 1000),
        "enable.idempotence": False,
    }


def summary(latencies: list[float]) -> dict:
    if not latencies:
        return {"p50": None, "p99": None, "p99.9": None}
    latencies.sort()
    return {q: bench.percentile(latencies, float(q[1:])) * 1000 for q in ("p50", "p99", "p99.9")}


def open_loop(bootstrap: str, topic: str, partitions: int, acks: str, rate: float, seconds: float,
              record_size: int, linger_ms: float, broker: bench.BrokerProcess | None, stamp: bool = False,
              stamps: Stamps | None = None, tick: bool = True, client_stats: bool = False) -> dict:
    """Offer `rate` records/s for `seconds`; per-record produce()-to-acknowledgement latencies.

    The latency is librdkafka's own (Message.latency(): its clock at the call minus the record's enqueue
    time), read in one delivery callback set in the config: no Python clock read or callback object per
    record (a functools.partial a record took about a third of the loop's CPU). librdkafka computes it when
    poll() serves the delivery report, so a report served late includes the wait for the loop's next poll
    (the loop polls between bursts in 1-ms waits that return on the first report, so the added wait is at
    most a tick's burst); the same for both brokers, and an over-estimate, never an under-estimate."""
    latencies: list[float] = []
    state = {"errors": 0, "first_error": None}
    append = latencies.append

    def delivered(err, msg) -> None:
        if err is None:
            append(msg.latency())
        else:
            state["errors"] += 1
            state["first_error"] = state["first_error"] or str(err)

    windows: list[dict] = []  # client_stats: librdkafka's per-broker latency windows (statistics.interval.ms)

    def on_stats(text: str) -> None:
        for b in json.loads(text).get("brokers", {}).values():
            if b.get("nodeid", -1) >= 0 and b.get("rtt", {}).get("cnt"):
                windows.append({k: b[k] for k in ("int_latency", "outbuf_latency", "rtt")})

    extra = {"statistics.interval.ms": STATS_INTERVAL_MS, "stats_cb": on_stats} if client_stats else {}
    producer = Producer({**producer_config(bootstrap, acks, linger_ms, 30.0), "on_delivery": delivered, **extra})
    payload = os.urandom(record_size)
    for p in range(partitions):  # connections, metadata and each leader's first request before the clock
        producer.produce(topic, b"warm-up" if stamp else payload, partition=p)  # (too short for a stamp)
    producer.flush(30.0)
    latencies.clear()
    state["errors"], state["first_error"] = 0, None
    windows.clear()
    clock = time.perf_counter
    monotonic = time.monotonic

    total = max(1, int(rate * seconds))
    produce, poll = producer.produce, producer.poll
    tail = payload[STAMP.size:]
    pack = STAMP.pack
    if stamps is not None:
        stamps.dump()  # what came before this point (warm-up) is not its
    cpu_before = broker.cpu_seconds() if broker else None
    client_before = time.process_time()  # this process: the Python loop and librdkafka's threads
    waited_before = _run_delay()
    started = clock()
    sent = 0
    while sent < total:
        due = min(total, int((clock() - started) * rate) + 1)
        # the records due now, in one tight loop (the same for every broker)
        try:
            if stamp:
                for sent in range(sent, due):
                    produce(topic, pack(monotonic()) + tail, partition=sent % partitions)
            else:
                for sent in range(sent, due):
                    produce(topic, payload, partition=sent % partitions)
            sent = due
        except BufferError:  # the client's queue is full: the broker is far behind the offered rate
            poll(0.001)  # `sent` is the record that did not go; it goes again
            continue
        # serve delivery callbacks until the next record is due (poll returns as soon as one is served).
        # poll's timeout is whole ms: below 1 ms it would spin, taking a core from the broker and from
        # librdkafka's own threads, so the records due within the next ms go out together after it
        # (linger.ms batches them so anyway); each one's latency still starts at its produce()
        poll(0.001 if tick or (sent + 1) / rate - (clock() - started) > 0.001 else 0)
    offered_s = clock() - started
    client_cpu = time.process_time() - client_before
    waited = _run_delay() - waited_before
    left = producer.flush(30.0)
    cpu = broker.cpu_seconds() - cpu_before if broker else None
    served = stamps.dump() if stamps is not None else None
    if served:  # requests the broker served a second, and its loop thread's CPU per request (all APIs)
        count = sum(api["total"].get("count", 0) for api in served["apis"].values())
        produces = _dig(served, ("apis", "Produce", "total")).get("count", 0)
        served["produce_requests_per_s"] = produces / offered_s
        served["loop_cpu_us_per_request"] = served["loop_thread"]["cpu_s"] / count * 1e6 if count else None
        backlog = served.get("socket_backlog_kib", {}).get("max")  # bytes a read left in the kernel, as time
        served["socket_backlog_max_ms"] = backlog * 1024 / (sent / offered_s * record_size) * 1000 if backlog else None
    if client_stats:
        producer.poll(0)  # a window that ended during flush
    delivered_count = len(latencies)
    latencies = [x for x in latencies if x is not None]
    mb = delivered_count * record_size / 1e6
    return {"offered_rate": sent / offered_s, "target_rate": rate, "records": len(latencies), "errors": state["errors"] + left,
            "first_error": state["first_error"], "broker_cpu_ms_per_mb": cpu / mb * 1000 if cpu and mb else None,
            "served": served, "client_cpu_percent": 100 * client_cpu / offered_s,
            "producer_waited_percent": 100 * waited / offered_s, "client_windows": _client_windows(windows),
            **summary(latencies)}


def _client_windows(windows: list[dict]) -> dict | None:
    """librdkafka's own split of a produce (its statistics, per STATS_INTERVAL_MS window; us -> ms): int_latency is
    produce() until the record is in a ProduceRequest (linger, the client's queue), outbuf_latency a request's
    wait to be sent, rtt its send to the response read (the socket both ways and the broker). The worst window's
    p99 of each: librdkafka keeps per-window histograms, not records."""
    if not windows:
        return None
    return {key: {"p50": statistics.median(w[key]["p50"] for w in windows) / 1000,
                  "p99": max(w[key]["p99"] for w in windows) / 1000} for key in ("int_latency", "outbuf_latency", "rtt")}


def _run_delay(task: str = "self/task/self") -> float:
    """Seconds a thread (this one by default) was runnable but waited for a core: the scheduler's run
    delay, from /proc/.../schedstat. A producer loop that waits cannot keep the offered rate."""
    if task == "self/task/self":
        task = f"self/task/{threading.get_native_id()}"
    try:
        return int(Path(f"/proc/{task}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


def timeline(records: list[tuple[float, float, float]]) -> dict:
    """(produced, appended, received) seconds on one clock per record: where the time went, before and after
    the broker's append (appended is whole ms: LogAppendTime). Empty when the broker did not stamp appends."""
    if not records:
        return {}
    out = {}
    for name, values in (("to_append", [a - p for p, a, _ in records]), ("after_append", [r - a for _, a, r in records])):
        values.sort()
        out[name] = {q: bench.percentile(values, float(q[1:])) * 1000 for q in ("p50", "p99")}
    slowest = sorted(records, key=lambda t: t[2] - t[0])[-max(1, len(records) // 100):]
    shares = sorted(min(1.0, max(0.0, (a - p) / (r - p))) for p, a, r in slowest if r > p)
    out["slowest_before_append_percent"] = 100 * statistics.median(shares) if shares else None
    return out


def consumer_main(bootstrap: str, topic: str, partitions: int, count: int, timeout_s: float,
                  split: bool = False) -> None:
    """The end-to-end reader (its own process): prints 'ready', then one JSON line of percentiles.
    split: the topic is LogAppendTime, and each record's time is split at the broker's append (timeline)."""
    consumer = Consumer({**bench.client_config(bootstrap), "group.id": f"ottla-bench-e2e-{uuid.uuid4().hex[:8]}",
                         "enable.auto.commit": False, "fetch.queue.backoff.ms": 10,
                         "enable.partition.eof": False})
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    consumer.consume(num_messages=1, timeout=0.5)  # connected and fetching before the producer starts
    print("ready", flush=True)
    latencies, errors, first_error = [], 0, None
    monotonic, unpack = time.monotonic, STAMP.unpack_from
    stamped: list[tuple[float, float, float]] = []  # (produced, appended, received), CLOCK_MONOTONIC seconds
    wall_minus_monotonic = time.time() - time.monotonic()  # (one machine: the producer's clock is this one)
    deadline = time.monotonic() + timeout_s
    consume, poll = consumer.consume, consumer.poll
    while len(latencies) < count and time.monotonic() < deadline:
        # what has arrived, at once; else wait for the next one. (consume(1000, timeout) would wait until
        # 1,000 records are there or the timeout passed: at 40,000 records/s 25 ms of the reader's own)
        msgs = consume(num_messages=1000, timeout=0)
        if not msgs:
            msg = poll(0.05)
            msgs = [msg] if msg is not None else ()
        # received when consume()/poll() handed them over: one clock read a batch (a read per record counted
        # this loop's own work on the records before it, up to ~1.5 ms for the last of 1,000)
        now = monotonic()
        for msg in msgs:
            if msg.error() is not None:
                if msg.error().code() != KafkaError._PARTITION_EOF:
                    errors += 1
                    first_error = first_error or str(msg.error())
                continue
            value = msg.value()
            if len(value) >= STAMP.size:
                produced = unpack(value)[0]
                latencies.append(now - produced)
                if split:
                    kind, appended_ms = msg.timestamp()
                    if kind == TIMESTAMP_LOG_APPEND_TIME:
                        stamped.append((produced, appended_ms / 1000 - wall_minus_monotonic, now))
    consumer.close()
    print(json.dumps({"records": len(latencies), "errors": errors, "first_error": first_error,
                      "timeline": timeline(stamped) if split else None, **summary(latencies)}), flush=True)


def end_to_end(bootstrap: str, topic: str, partitions: int, rate: float, seconds: float, record_size: int,
               linger_ms: float, broker: bench.BrokerProcess | None, stamps: Stamps | None = None,
               split: bool = False) -> dict:
    total = max(1, int(rate * seconds))
    reader = subprocess.Popen([sys.executable, __file__, "--e2e-consumer", bootstrap, topic, str(partitions),
                               str(total), str(seconds + 30), "split" if split else ""], stdout=subprocess.PIPE,
                              text=True)
    try:
        if reader.stdout.readline().strip() != "ready":
            raise RuntimeError("the end-to-end consumer did not start")
        reader_cpu = _process_cpu(reader.pid)
        produced = open_loop(bootstrap, topic, partitions, "1", rate, seconds, record_size, linger_ms, broker,
                             stamp=True, stamps=stamps, client_stats=split)
        reader_cpu = _process_cpu(reader.pid) - reader_cpu
        out, _ = reader.communicate(timeout=seconds + 60)
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()
    received = json.loads(out.strip().splitlines()[-1])
    for key in ("offered_rate", "target_rate", "served", "client_cpu_percent", "producer_waited_percent", "client_windows",
                "broker_cpu_ms_per_mb"):
        received[key] = produced[key]
    received["consumer_cpu_percent"] = 100 * reader_cpu / seconds  # over about the producer's seconds
    return received


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of a child process so far (its threads included)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / bench.CLOCK_TICKS


def _peak(bootstrap: str, broker, acks: str, partitions: int, args, admin: AdminClient, run: str) -> float:
    topic = f"bench-peak-{run}-{acks}-{partitions}"
    bench.create_topic(admin, topic, partitions, args.phase_timeout)
    phase = bench.Phase("produce", partitions, acks, topic, args.latency_peak_records)
    bench.produce_phase(bootstrap, phase, args.record_size, args.phase_timeout, broker)
    admin.delete_topics([topic])
    return phase.records_per_s or 0.0


def measure(workdir: Path, args) -> dict[str, list[tuple]]:
    """Start Ottla (as bench.py does) and, with --against-tansu, Tansu; interleave every point on both.
    Returns rows (what, metric, value, note) by broker name, for bench.py's table."""
    ottla = bench.ottla_process(workdir / "latency-ottla", args.memory)
    stamps = None
    if args.latency_stamps:
        ottla.env["OTTLA_SERVICE_TIMES"] = str(workdir / "latency-ottla" / "service-times.json")
    brokers = [ottla]
    (workdir / "latency-ottla").mkdir(exist_ok=True)
    if args.against_tansu:
        (workdir / "latency-tansu").mkdir(exist_ok=True)
        brokers.append(bench.tansu_process(workdir / "latency-tansu"))
    rows: dict[str, list[tuple]] = {b.name: [] for b in brokers}
    fractions = [float(f) for f in args.latency_fractions.split(",") if f]
    configs = [(a, int(p)) for a, p in (c.split(":") for c in args.latency_configs.split(",") if c)]
    repeat = max(1, args.latency_repeat)
    run = uuid.uuid4().hex[:6]
    try:
        for b in brokers:
            b.start(args.startup_timeout)
        if args.latency_stamps:
            stamps = Stamps(ottla, Path(ottla.env["OTTLA_SERVICE_TIMES"]))
        admins = {b.name: AdminClient(bench.client_config(f"{bench.HOST}:{b.port}")) for b in brokers}
        flip = False
        lower: dict[tuple[str, int], float] = {}
        for acks, partitions in configs:
            shape = f"acks={acks}, {partitions} partition{'s' if partitions > 1 else ''}"
            peaks = {}
            for b in brokers:
                peaks[b.name] = args.latency_peak or _peak(f"{bench.HOST}:{b.port}", b, acks, partitions, args,
                                                           admins[b.name], run)
                rows[b.name].append((f"open loop, {shape}", "peak (closed loop), records/s", peaks[b.name], None))
            peak = lower[(acks, partitions)] = min(peaks.values())
            for fraction in fractions:
                rate = peak * fraction / 100
                what = f"open loop, {shape}, {fraction:g}% of the lower peak"
                runs: dict[str, list[dict]] = {b.name: [] for b in brokers}
                for attempt in range(repeat):
                    flip = not flip
                    for b in (brokers if flip else brokers[::-1]):
                        bootstrap = f"{bench.HOST}:{b.port}"
                        topic = f"bench-ol-{run}-{acks}-{partitions}-{fraction:g}-{attempt}"
                        bench.create_topic(admins[b.name], topic, partitions, args.phase_timeout)
                        r = open_loop(bootstrap, topic, partitions, acks, rate, args.latency_seconds,
                                      args.record_size, args.latency_linger_ms, b,
                                      stamps=stamps if b is ottla else None)
                        admins[b.name].delete_topics([topic])
                        _print(what, r, b.name)
                        runs[b.name].append(r)
                for b in brokers:
                    _report(rows[b.name], what, runs[b.name])
        for partitions in sorted({p for _, p in configs}):
            peak = lower.get(("1", partitions)) or min(lower.values())
            what = f"end to end, acks=1, {partitions} partition{'s' if partitions > 1 else ''}, 50% of the lower peak"
            runs = {b.name: [] for b in brokers}
            for attempt in range(repeat):
                for b in brokers:
                    topic = f"bench-e2e-{run}-{partitions}-{attempt}"
                    bench.create_topic(admins[b.name], topic, partitions, args.phase_timeout,
                                       TIMELINE_TOPIC if args.latency_timeline else None)
                    r = end_to_end(f"{bench.HOST}:{b.port}", topic, partitions, peak * 0.5, args.latency_seconds,
                                   args.record_size, args.latency_linger_ms, b, stamps if b is ottla else None,
                                   split=args.latency_timeline)
                    admins[b.name].delete_topics([topic])
                    _print(what, r, b.name)
                    runs[b.name].append(r)
            for b in brokers:
                _report(rows[b.name], what, runs[b.name])
        admins = None
    except Exception as exc:
        print(f"#   latency: {type(exc).__name__}: {exc}", file=sys.stderr)
        for name in rows:
            rows[name].append(("open loop", "stopped early", None, f"{type(exc).__name__}: {exc}"))
    finally:
        for b in brokers:
            b.stop()
    return rows


# the broker's own figures (--latency-stamps), as rows: (label, path into the dump, percentile)
SERVED_ROWS = (
    ("broker: Produce arrival to response written", ("apis", "Produce", "total"), ("p50", "p99")),
    ("broker: Produce handler (storage write included)", ("apis", "Produce", "handler"), ("p99",)),
    ("broker: Produce frame complete to handler start", ("apis", "Produce", "queued"), ("p99",)),
    ("broker: Produce handler done to response written", ("apis", "Produce", "ordered"), ("p99",)),
    ("broker: Fetch arrival to response written", ("apis", "Fetch", "total"), ("p50", "p99")),
    ("broker: Fetch woken by an append to running again", ("long_poll_wake",), ("p50", "p99")),
    ("broker: storage write", ("storage_write",), ("p99", "max")),
    ("broker: event loop lateness (1 ms timer)", ("loop_lag",), ("p99", "max")),
    ("broker: GC pause, generation 2", ("gc", "2"), ("max",)),
    # what a read left queued in the kernel's socket (FIONREAD): a wait before the stamps start
    ("broker: bytes left in the kernel's receive queue after a read", ("socket_backlog_kib",), ("p99", "max"), "KiB"),
)


def _dig(tree: dict | None, path: tuple) -> dict:
    for key in path:
        tree = (tree or {}).get(key)
    return tree or {}


def _print(what: str, r: dict, name: str) -> None:
    extra = ""
    if "client_cpu_percent" in r:
        extra += f", producer CPU {r['client_cpu_percent']:.0f}% (waited {r['producer_waited_percent']:.0f}%)"
    if "consumer_cpu_percent" in r:
        extra += f", consumer CPU {r['consumer_cpu_percent']:.0f}%"
    if r.get("served"):
        total = _dig(r["served"], ("apis", "Produce", "total"))
        lag = _dig(r["served"], ("loop_lag",))
        extra += (f"; broker Produce total p50 {total.get('p50')} p99 {total.get('p99')} ms, loop lag p99 "
                  f"{lag.get('p99')} max {lag.get('max')} ms")
        backlog = _dig(r["served"], ("socket_backlog_kib",))
        if backlog.get("count"):
            extra += (f"; kernel receive queue after a read p99 {backlog.get('p99'):,.0f} max {backlog.get('max'):,.0f} KiB "
                      f"({_ms(r['served'].get('socket_backlog_max_ms'))} ms of the rate)")
        fetch = _dig(r["served"], ("apis", "Fetch", "total"))
        if fetch:
            wake = _dig(r["served"], ("long_poll_wake",))
            extra += (f"; Fetch total p50 {fetch.get('p50')} p99 {fetch.get('p99')} ms, woken to running p99 "
                      f"{wake.get('p99')} ms")
    split = r.get("timeline")
    if split:
        extra += (f"; produce to append p50 {_ms(split['to_append']['p50'])} p99 {_ms(split['to_append']['p99'])}, "
                  f"append to receipt p50 {_ms(split['after_append']['p50'])} p99 {_ms(split['after_append']['p99'])} "
                  f"ms, slowest 1% {_ms(split['slowest_before_append_percent'])}% before the append")
    windows = r.get("client_windows")
    if windows:
        extra += "; librdkafka p99 " + ", ".join(f"{k} {_ms(v['p99'])}" for k, v in windows.items()) + " ms"
    print(f"#   {name} {what}: {r['offered_rate']:,.0f} records/s offered, p50 {_ms(r['p50'])} "
          f"p99 {_ms(r['p99'])} p99.9 {_ms(r['p99.9'])} ms{extra}", file=sys.stderr)


def _median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _report(rows: list[tuple], what: str, runs: list[dict]) -> None:
    """Rows of one point: medians over its runs, and with several runs each latency's lowest and highest."""
    errors = [r for r in runs if r.get("errors")]
    note = f"{errors[0]['errors']} errors, first: {errors[0].get('first_error')}" if errors else None
    short = [r for r in runs if r["offered_rate"] < 0.95 * r["target_rate"]]
    if short and note is None:  # the rows do not compare: say why (a producer loop short of CPU)
        r = short[0]
        note = (f"offered {r['offered_rate']:,.0f} of {r['target_rate']:,.0f} records/s; the producer loop waited "
                f"for a core {r.get('producer_waited_percent', 0):.0f}% of the time")
    rows.append((what, "offered, records/s", _median([r["offered_rate"] for r in runs]), note))
    for q in ("p50", "p99", "p99.9"):
        values = [r[q] for r in runs]
        rows.append((what, f"latency {q}, ms", _median(values), note))
        if len(runs) > 1 and q != "p50":
            present = [v for v in values if v is not None]
            rows.append((what, f"latency {q}, lowest of {len(runs)} runs, ms", min(present, default=None), note))
            rows.append((what, f"latency {q}, highest of {len(runs)} runs, ms", max(present, default=None), note))
    if any(r.get("timeline") for r in runs):  # --latency-timeline
        for key, label in (("to_append", "produce() to the broker's append"),
                           ("after_append", "broker's append to the consumer's receipt")):
            for q in ("p50", "p99"):
                value = _median([((r.get("timeline") or {}).get(key) or {}).get(q) for r in runs])
                rows.append((what, f"{label} {q}, ms (append time in whole ms)", value, note))
        rows.append((what, "slowest 1% of records: share of their time before the broker's append, %",
                     _median([(r.get("timeline") or {}).get("slowest_before_append_percent") for r in runs]), note))
    if any(r.get("client_windows") for r in runs):  # --latency-timeline: librdkafka's statistics, either broker
        for key, label in (("int_latency", "producer: produce() to its ProduceRequest (librdkafka int_latency)"),
                           ("outbuf_latency", "producer: ProduceRequest waiting to be sent (outbuf_latency)"),
                           ("rtt", "producer: ProduceRequest sent to response read (rtt)")):
            for q, how in (("p50", "median window"), ("p99", "worst window")):
                value = _median([((r.get("client_windows") or {}).get(key) or {}).get(q) for r in runs])
                rows.append((what, f"{label} {q}, {how}, ms", value, note))
    if "broker_cpu_ms_per_mb" in runs[0]:
        rows.append((what, "broker CPU per MB, ms", _median([r["broker_cpu_ms_per_mb"] for r in runs]), note))
    for key, label in (("client_cpu_percent", "producer process CPU, % of a core"),
                       ("producer_waited_percent", "producer loop runnable but waiting for a core, % of the time"),
                       ("consumer_cpu_percent", "consumer process CPU, % of a core")):
        if key in runs[0]:
            rows.append((what, label, _median([r[key] for r in runs]), note))
    if any(r.get("served") for r in runs):
        for key, label in (("produce_requests_per_s", "broker: Produce requests a second"),
                           ("loop_cpu_us_per_request", "broker: event loop thread CPU per request, us")):
            value = _median([(r.get("served") or {}).get(key) for r in runs])
            if value is not None:
                rows.append((what, label, value, note))
        for label, path, quantiles, *unit in SERVED_ROWS:
            for q in quantiles:
                value = _median([_dig(r.get("served"), path).get(q) for r in runs])
                if value is not None:
                    rows.append((what, f"{label} {q}, {unit[0] if unit else 'ms'}", value, note))
        value = _median([(r.get("served") or {}).get("socket_backlog_max_ms") for r in runs])
        if value is not None:
            rows.append((what, "broker: the kernel receive queue's max, as ms of the offered rate", value, note))


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "--e2e-consumer":
    _, _, bootstrap_, topic_, partitions_, count_, timeout_, split_ = sys.argv
    consumer_main(bootstrap_, topic_, int(partitions_), int(count_), float(timeout_), split_ == "split")

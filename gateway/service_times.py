"""Broker-side service times of each request, for the latency bench (scripts/bench_latency.py).

Off unless the broker starts with OTTLA_SERVICE_TIMES=FILE in its environment: then every connection
gets a `StampedPipeline` (the RequestPipeline plus clock reads) and the storage's writes are timed;
with the variable unset nothing here is imported and the pipeline is the plain one (no per-request
cost). A request's stamps (time.perf_counter, seconds):

    arrived   the chunk holding the request's first byte reached the pipeline (data_received)
    complete  the chunk holding its last byte did
    started   its handler began (dispatch)
    done      its handler finished (response encoded)
    written   its response went to the transport (writelines; uvloop writes at once when it can)

and per API the stages read (arrived -> complete), queued (complete -> started: per-turn caps,
back-pressure, a waiting request of its key), handler (started -> done, storage write included),
ordered (done -> written: behind an earlier response, or written a turn later) and total
(arrived -> written). Besides: every storage write's duration, every cyclic-GC pause (gc.callbacks),
how often a connection's per-turn share ran out with more to dispatch (a next turn) and back-pressure
paused its reading, the bytes a read left in the kernel's receive queue (FIONREAD after each read of a
connection: what waits there is invisible to the stamps, which start at the read), the event loop's lateness (a 1 ms timer: how long a ready callback waits for the loop; uvloop's timers
count whole ms, so up to 1 ms of it is the timer's own rounding), how long a long-polling Fetch woken by
an append waits to run again (gateway/long_poll.observe), and the loop thread's CPU, its run delay (time
runnable but waiting for a core: the machine's other processes) and each thread's CPU (RocksDB's).

SIGUSR1 writes the percentiles gathered since the last signal to FILE (JSON, written whole then
renamed over FILE, with an increasing "seq") and starts over, so the bench reads one point's figures.
"""

from __future__ import annotations

import collections
import fcntl
import gc
import json
import os
import signal
import struct
import termios
import threading
import time

from gateway import long_poll
from gateway.pipeline import RequestPipeline

STAGES = ("read", "queued", "handler", "ordered", "total")
MAX_SAMPLES = 200_000  # per list between two dumps (a bench point has a few thousand); past it they are counted
LAG_PERIOD_S = 0.001
_clock = time.perf_counter


def _percentiles(values: list[float], scale: float = 1000) -> dict:
    """count, p50, p99, p99.9, max and sum of the values times scale (seconds -> ms by default)."""
    if not values:
        return {"count": 0}
    values = sorted(values)
    n = len(values)

    def at(q: float) -> float:
        return round(values[min(n - 1, max(0, int(-(-n * q // 100)) - 1))] * scale, 3)

    return {"count": n, "p50": at(50), "p99": at(99), "p99.9": at(99.9), "max": round(values[-1] * scale, 3),
            "sum": round(sum(values) * scale, 3)}


class ServiceTimes:
    """The samples since the last dump, and the hooks that gather them (one per broker process)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.seq = 0
        self.stages: dict[str, dict[str, list[float]]] = {}
        self.storage: list[float] = []
        self.gc: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self.lag: list[float] = []
        self.wakes: list[float] = []  # a listener woke a waiting Fetch -> the Fetch ran again
        self.backlog: list[int] = []  # bytes left in a connection's kernel receive queue after each of its reads
        # per-turn cap reached with more waiting; back-pressure stopped reading; samples past MAX_SAMPLES
        self.counts = {"next_turns": 0, "reading_paused": 0, "dropped": 0}
        self._gc_started = 0.0
        self._loop = None
        self._lag_due = 0.0
        self._lag_timer = None
        self._sched = self._schedstat()
        self._threads = _thread_cpu()

    def install(self, broker, loop) -> None:
        self._loop = loop
        storage = broker.storage
        depth = [0]  # an engine's append_many may call its append: one write is timed once
        for name in ("append", "append_many"):
            method = getattr(storage, name, None)
            if method is not None:
                setattr(storage, name, self._timed(method, depth))
        gc.callbacks.append(self._on_gc)
        long_poll.observe = self._on_wake
        loop.add_signal_handler(signal.SIGUSR1, self.dump)
        self._lag_due = _clock() + LAG_PERIOD_S
        self._lag_timer = loop.call_later(LAG_PERIOD_S, self._lag_tick)

    def uninstall(self) -> None:
        """Remove the GC callback, the signal handler and the timer (the storage keeps its timed methods)."""
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        long_poll.observe = None
        if self._loop is not None:
            self._loop.remove_signal_handler(signal.SIGUSR1)
            self._lag_timer.cancel()
            self._loop = None

    def _timed(self, method, depth: list[int]):
        def timed(*args, **kwargs):
            depth[0] += 1
            started = _clock()
            try:
                return method(*args, **kwargs)
            finally:
                depth[0] -= 1
                if not depth[0] and len(self.storage) < MAX_SAMPLES:
                    self.storage.append(_clock() - started)

        return timed

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_started = _clock()
        elif len(samples := self.gc[info["generation"]]) < MAX_SAMPLES:
            samples.append(_clock() - self._gc_started)

    def _on_wake(self, woken: float, resumed: float) -> None:
        if len(self.wakes) < MAX_SAMPLES:
            self.wakes.append(resumed - woken)

    def _lag_tick(self) -> None:
        now = _clock()
        if len(self.lag) < MAX_SAMPLES:
            self.lag.append(max(0.0, now - self._lag_due))
        self._lag_due = now + LAG_PERIOD_S
        self._lag_timer = self._loop.call_later(LAG_PERIOD_S, self._lag_tick)

    def request(self, api: str, arrived: float, complete: float, started: float, done: float, written: float) -> None:
        stages = self.stages.get(api)
        if stages is None:
            stages = self.stages[api] = {stage: [] for stage in STAGES}
        if len(stages["total"]) >= MAX_SAMPLES:
            self.counts["dropped"] += 1
            return
        stages["read"].append(complete - arrived)
        stages["queued"].append(started - complete)
        stages["handler"].append(done - started)
        stages["ordered"].append(written - done)
        stages["total"].append(written - arrived)

    @staticmethod
    def _schedstat() -> tuple[float, float, int]:
        """The event loop thread's CPU seconds, seconds spent runnable but waiting for a core (the
        scheduler's run delay: the machine's other processes) and involuntary context switches."""
        try:
            with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as f:
                cpu_ns, wait_ns, _ = f.read().split()
            with open(f"/proc/self/task/{threading.get_native_id()}/status") as f:
                switches = next(int(line.split()[1]) for line in f if line.startswith("nonvoluntary_ctxt_switches"))
            return int(cpu_ns) / 1e9, int(wait_ns) / 1e9, switches
        except (OSError, ValueError, StopIteration):
            return 0.0, 0.0, 0

    def dump(self) -> None:
        self.seq += 1
        sched, self._sched = self._sched, self._schedstat()
        threads, self._threads = self._threads, _thread_cpu()
        by_name: dict[str, float] = {}
        for tid, (name, cpu) in self._threads.items():
            by_name[name] = by_name.get(name, 0.0) + cpu - threads.get(tid, (name, 0.0))[1]
        out = {"seq": self.seq, "apis": {api: {stage: _percentiles(v) for stage, v in stages.items()}
                                         for api, stages in self.stages.items()},
               "storage_write": _percentiles(self.storage),
               "gc": {str(g): _percentiles(v) for g, v in self.gc.items()},
               "loop_lag": _percentiles(self.lag),
               "long_poll_wake": _percentiles(self.wakes),
               "socket_backlog_kib": _percentiles(self.backlog, 1 / 1024),
               "counts": dict(self.counts),
               "loop_thread": {"cpu_s": round(self._sched[0] - sched[0], 3),
                               "run_delay_s": round(self._sched[1] - sched[1], 3),
                               "involuntary_switches": self._sched[2] - sched[2]},
               "threads_cpu_s": {name: round(cpu, 3) for name, cpu in sorted(by_name.items()) if cpu > 0}}
        tmp = f"{self.path}.tmp"
        with open(tmp, "w") as f:
            json.dump(out, f)
        os.replace(tmp, self.path)
        self.stages = {}
        self.storage.clear()
        for samples in self.gc.values():
            samples.clear()
        self.lag.clear()
        self.wakes.clear()
        self.backlog.clear()
        self.counts = dict.fromkeys(self.counts, 0)


def _thread_cpu() -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) of each of this process's threads, with its name (comm)."""
    out = {}
    ticks = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out[int(tid)] = (name, (int(fields[11]) + int(fields[12])) / ticks)
    return out


def pipeline_class(broker, path: str) -> type:
    """The stamping pipeline class, installing the process's hooks on the first call."""
    if StampedPipeline.times is None:
        import asyncio

        StampedPipeline.times = ServiceTimes(path)
        StampedPipeline.times.install(broker, asyncio.get_running_loop())
    return StampedPipeline


class StampedPipeline(RequestPipeline):
    """RequestPipeline that stamps each request at the points above (see the module docstring)."""

    times: ServiceTimes | None = None  # the process's (pipeline_class installs it)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._chunks: collections.deque[tuple[int, float]] = collections.deque()  # (stream offset, time)
        self._received = 0  # bytes received on this connection
        self._consumed = 0  # bytes of the frames taken from the decoder
        self._stamps: dict[int, list] = {}  # correlation id -> [api, arrived, complete, started, done]
        self._fd: int | None = None  # the socket's, for FIONREAD (-1: none, e.g. TLS's transport)

    def _backlog(self) -> None:
        """Record what this read left in the kernel's receive queue."""
        fd = self._fd
        if fd is None:
            extra = getattr(self.transport, "get_extra_info", None)
            sock = extra("socket") if extra is not None else None
            fd = self._fd = sock.fileno() if sock is not None else -1
        if fd >= 0 and len(self.times.backlog) < MAX_SAMPLES:
            try:
                self.times.backlog.append(_INT.unpack(fcntl.ioctl(fd, termios.FIONREAD, _INT_ZERO))[0])
            except OSError:
                self._fd = -1

    def receive_data(self, data: bytes) -> None:
        self._chunks.append((self._received, _clock()))
        self._received += len(data)
        self._backlog()
        super().receive_data(data)

    def buffer_updated(self, nbytes: int) -> None:
        self._chunks.append((self._received, _clock()))
        self._received += nbytes
        self._backlog()
        super().buffer_updated(nbytes)

    def _arrival(self, offset: int) -> float:
        chunks = self._chunks
        while len(chunks) > 1 and chunks[1][0] <= offset:
            chunks.popleft()
        return chunks[0][1]

    def _dispatch(self, payload: bytes, reserved: int) -> None:
        start = self._consumed
        self._consumed += 4 + len(payload)
        if len(payload) >= 8:
            arrived = self._arrival(start)
            chunks = self._chunks
            complete = arrived
            for offset, at in chunks:  # the chunk holding the last byte
                if offset >= self._consumed:
                    break
                complete = at
            key = int.from_bytes(payload[0:2], "big", signed=True)
            correlation_id = int.from_bytes(payload[4:8], "big", signed=True)
            self._stamps[correlation_id] = [key, arrived, complete, _clock(), 0.0]
        super()._dispatch(payload, reserved)

    def _finish(self, slot, ctx, body=None, exc=None, cancelled=False) -> None:
        stamp = self._stamps.get(ctx.correlation_id)
        if stamp is not None:
            stamp[4] = _clock()
        super()._finish(slot, ctx, body, exc, cancelled)

    def _next_turn(self) -> None:
        self.times.counts["next_turns"] += 1
        super()._next_turn()

    def _update_reading(self) -> None:
        reading = self._reading
        super()._update_reading()
        if reading and not self._reading:
            self.times.counts["reading_paused"] += 1

    def _flush(self) -> bool:
        heads = []
        for slot in self.pending:
            if slot.payload is None:
                break
            heads.append(slot.header.correlation_id)
        result = super()._flush()
        if heads:
            now = _clock()
            names = _api_names()
            for correlation_id in heads:
                stamp = self._stamps.pop(correlation_id, None)
                if stamp is not None and stamp[4]:
                    self.times.request(names.get(stamp[0], str(stamp[0])), stamp[1], stamp[2], stamp[3], stamp[4], now)
        return result


_INT = struct.Struct("i")
_INT_ZERO = _INT.pack(0)
_NAMES: dict[int, str] = {}


def _api_names() -> dict[int, str]:
    if not _NAMES:
        from wire.messages import APIS

        _NAMES.update({key: api.name for key, api in APIS.items()})
    return _NAMES

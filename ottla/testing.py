"""Ottla for tests: a fresh broker (or cluster) per test, real clients, faults, restart and kill -9.

    from ottla.testing import broker, cluster

    with broker() as kafka:                       # unittest, scripts
        producer = kafka.producer({"linger.ms": 5})
        with kafka.fault(api="Produce", error="NOT_LEADER_OR_FOLLOWER", count=3) as fault:
            ...
            fault.wait(3)
        kafka.kill(); kafka.start()               # what kill -9 leaves, then start again

`OttlaBroker` has pytest-kafka-broker's KafkaBrokerContext API (`bootstrap_server`, `config()`,
`admin()`, `producer()`, `consumer()`, `aio_producer()`, `aio_consumer()`), so tests written for
that plugin run unchanged, plus Ottla's own: `restart()`, `kill()`, `fault(...)`, `faults()`,
`trace()`, `stop_broker(n)`, `start_broker(n)`, `pause_broker(n)`, `resume_broker(n)`,
`move_leader(topic, partition, broker)`, `set_isr(...)`, `move_coordinator(...)`, `cluster()`.

Each broker is its own process, forked from one per-session server that imported the broker once
(ottla._forkserver), with its data in RocksDB under a temporary directory: `kill()` is a real
SIGKILL, and `restart()`/`start()` come back on the same ports with the same data. The control
calls go over the broker's HTTP control API (gateway/http/control.py). `ExternalKafka` offers the
client half against any Kafka (`--kafka-bootstrap`); its Ottla-only methods raise `OttlaOnly`.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

READY = re.compile(r"ottla ready on ([\w.:-]+):(\d+)")
HTTP = re.compile(r"ottla http on ([\w.:-]+):(\d+)")
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
REPO = Path(__file__).resolve().parent.parent


class OttlaOnly(RuntimeError):
    """This needs Ottla (faults, restart, kill, cluster control): the broker is an external Kafka."""


class BrokerFailed(RuntimeError):
    pass


# the clients (pytest-kafka-broker's KafkaBrokerContext, method for method) ------------------------------


class KafkaClients:
    bootstrap_server: str

    @property
    def bootstrap_servers(self) -> str:
        return self.bootstrap_server

    def config(self, config: dict | None = None) -> dict:
        """librdkafka settings for this cluster: `config` plus bootstrap.servers (every broker) and
        security.protocol."""
        return {**(config or {}), "bootstrap.servers": self.bootstrap_servers, "security.protocol": "PLAINTEXT"}

    def admin(self, config: dict | None = None):
        from confluent_kafka.admin import AdminClient

        return AdminClient(self.config(config))

    def producer(self, config: dict | None = None):
        from confluent_kafka import Producer

        return Producer(self.config(config))

    def consumer(self, config: dict | None = None):
        from confluent_kafka import Consumer

        return Consumer(self.config(config))

    def aio_producer(self, config: dict | None = None):
        from confluent_kafka.aio import AIOProducer

        return AIOProducer(self.config(config))

    def aio_consumer(self, config: dict | None = None):
        from confluent_kafka.aio import AIOConsumer

        return AIOConsumer(self.config(config))


class ExternalKafka(KafkaClients):
    """Any Kafka at `bootstrap_server`: the clients work, Ottla's own methods raise OttlaOnly."""

    is_ottla = False

    def __init__(self, bootstrap_server: str) -> None:
        self.bootstrap_server = bootstrap_server

    def __getattr__(self, name: str):
        if name in OttlaBroker.OTTLA_ONLY:
            def refuse(*args, **kwargs):
                raise OttlaOnly(f"{name}() needs Ottla; the broker is an external Kafka at {self.bootstrap_server}")
            return refuse
        raise AttributeError(name)


# the fork server -----------------------------------------------------------------------------------------


class _ForkServer:
    _instance: "_ForkServer | None" = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        self.proc = subprocess.Popen([sys.executable, "-m", "ottla._forkserver"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env, cwd=str(REPO))
        hello = self.proc.stdout.readline()
        if not hello:
            raise BrokerFailed("the Ottla fork server did not start")
        self._call_lock = threading.Lock()

    @classmethod
    def get(cls) -> "_ForkServer":
        with cls._lock:
            if cls._instance is None or cls._instance.proc.poll() is not None:
                cls._instance = cls()
                atexit.register(cls._instance.close)
            return cls._instance

    def call(self, **request) -> dict:
        with self._call_lock:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            answer = json.loads(self.proc.stdout.readline() or "{}")
        if "error" in answer:
            raise BrokerFailed(answer["error"])
        return answer

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _free_ports(count: int) -> int:
    """A base port with `count` consecutive free ports after it (brokers 1..N, then the HTTP port)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + count >= 65535:
            continue
        socks = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise BrokerFailed("no run of free ports")


@functools.cache
def serve_flags() -> frozenset[str]:
    """The flags `ottla serve` knows (so newer ones, --brokers and --trace, are passed only when there)."""
    from gateway.cli import parser

    p = parser()
    serve = p._subparsers._group_actions[0].choices["serve"]
    return frozenset(option for action in serve._actions for option in action.option_strings)


# Ottla ---------------------------------------------------------------------------------------------------


class Fault:
    """One injected fault: `fired`, `wait(n)`, `remove()`; a context manager that removes it."""

    def __init__(self, control, spec: dict) -> None:
        self._control = control
        self.spec = control.add_fault(**spec)
        self.id = self.spec["id"]

    @property
    def fired(self) -> int:
        return self._control.fault(self.id)["fired"]

    def state(self) -> dict:
        return self._control.fault(self.id)

    def wait(self, fired: int = 1, timeout: float = 30.0) -> dict:
        """Until it has fired `fired` times; TimeoutError if not within `timeout` seconds."""
        from gateway.faults.client import ControlError

        try:
            return self._control.wait_fault(self.id, fired, timeout)
        except ControlError as exc:
            if exc.status == 408:
                raise TimeoutError(exc.message) from None
            raise

    def remove(self) -> dict:
        return self._control.remove_fault(self.id)

    def __enter__(self) -> "Fault":
        return self

    def __exit__(self, *exc) -> None:
        from gateway.faults.client import ControlError

        with contextlib.suppress(ControlError):
            self.remove()


class OttlaBroker(KafkaClients):
    """An Ottla broker process (or `brokers` of them in one cluster) for one test."""

    is_ottla = True
    OTTLA_ONLY = frozenset({"restart", "kill", "start", "stop", "fault", "faults", "clear_faults", "trace", "cluster",
                            "stop_broker", "start_broker", "pause_broker", "resume_broker", "move_leader", "set_isr",
                            "move_coordinator", "control"})

    def __init__(self, data_dir: str | os.PathLike | None = None, *, brokers: int = 1, memory: bool = False,
                 args: tuple[str, ...] | list[str] = (), trace: bool = True, durable: bool | None = None) -> None:
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir is not None else Path(tempfile.mkdtemp(prefix="ottla-test-"))
        self.brokers = brokers
        self.memory = memory if durable is None else not durable
        self.extra_args = list(args)
        self.want_trace = trace
        self.pid: int | None = None
        self.port: int | None = None
        self.http_port: int | None = None
        self.host = "127.0.0.1"
        self.log_path = self.data_dir / "ottla.log"
        self.trace_path = self.data_dir / "trace.jsonl"
        self._trace_start = 0
        self._control = None

    # life ---------------------------------------------------------------------------------------------

    @property
    def bootstrap_server(self) -> str:
        if self.port is None:
            raise BrokerFailed("the broker is not started")
        return f"{self.host}:{self.port}"  # host:port, as pytest-kafka-broker's (broker 1 of a cluster)

    @property
    def bootstrap_servers(self) -> str:
        """Every broker of a cluster ("h:p1,h:p2,..."): what config() gives clients, so they bootstrap while any
        one broker is stopped."""
        self.bootstrap_server  # noqa: B018 (started?)
        return ",".join(f"{self.host}:{self.port + i}" for i in range(self.brokers))

    @property
    def control_url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    def argv(self) -> list[str]:
        flags = serve_flags()
        argv = ["serve", "--host", self.host, "--port", str(self.port), "--http-port", str(self.http_port),
                "--log-level", "warning"]
        argv += ["--memory"] if self.memory else ["--data-dir", str(self.data_dir / "data")]
        if self.brokers != 1:
            if "--brokers" not in flags:
                raise OttlaOnly(f"this Ottla has no --brokers: a {self.brokers}-broker cluster is not available")
            argv += ["--brokers", str(self.brokers)]
        if self.want_trace and "--trace" in flags:
            argv += ["--trace", str(self.trace_path)]
        return argv + self.extra_args

    def start(self) -> "OttlaBroker":
        if self.pid is not None:
            raise BrokerFailed("already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.port is None:
            base = _free_ports(self.brokers + 1)
            self.port, self.http_port = base, base + self.brokers
        log_from = self.log_path.stat().st_size if self.log_path.exists() else 0
        server = _ForkServer.get()
        self.pid = server.call(op="start", argv=self.argv(), log=str(self.log_path), cwd=str(self.data_dir))["pid"]
        deadline = time.monotonic() + START_TIMEOUT_S
        delay = 0.001
        while True:
            text = self._log(log_from)
            if READY.search(text):
                break
            status = server.call(op="wait", pid=self.pid, timeout=0)["status"]
            if status is not None:
                self.pid = None
                raise BrokerFailed(f"ottla exited with {status} before it was ready:\n{text[-4000:]}")
            if time.monotonic() > deadline:
                self.kill()
                raise BrokerFailed(f"ottla was not ready within {START_TIMEOUT_S} s:\n{text[-4000:]}")
            time.sleep(delay)
            delay = min(delay * 2, 0.01)
        from gateway.faults.client import ControlClient

        self._control = ControlClient(self.control_url)
        return self

    def _log(self, start: int = 0) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(start)
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def log_text(self) -> str:
        return self._log()

    def _end(self, sig: int, timeout: float) -> int | None:
        if self.pid is None:
            return None
        server = _ForkServer.get()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)
        status = server.call(op="wait", pid=self.pid, timeout=timeout)["status"]
        if status is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            status = server.call(op="wait", pid=self.pid, timeout=timeout)["status"]
        self.pid = None
        self._control = None
        return status

    def stop(self) -> int | None:
        """A clean shutdown (SIGTERM: in-flight requests finish, storage closes); the exit status."""
        return self._end(signal.SIGTERM, STOP_TIMEOUT_S)

    def kill(self) -> int | None:
        """A crash: SIGKILL, nothing flushed or closed; what survives is what an acknowledged write must."""
        return self._end(signal.SIGKILL, STOP_TIMEOUT_S)

    def restart(self) -> "OttlaBroker":
        """Stop cleanly and start again on the same ports with the same data (--memory: empty)."""
        self.stop()
        return self.start()

    def close(self) -> None:
        self.kill() if self.pid is not None else None
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> "OttlaBroker":
        return self.start() if self.pid is None else self

    def __exit__(self, *exc) -> None:
        self.stop()
        self.close()

    # control --------------------------------------------------------------------------------------------

    @property
    def control(self):
        if self._control is None:
            raise BrokerFailed("the broker is not running")
        return self._control

    def fault(self, api: str | None = None, error: str | int | None = None, **spec) -> Fault:
        """Inject a fault (the spec of POST /v1/faults: count, probability, delay_ms, drop_connection, broker,
        topic, partition, group, client_id, message); use it as a context manager to remove it after."""
        return Fault(self.control, {"api": api, "error": error, **spec})

    def faults(self) -> list[dict]:
        return self.control.faults()

    def clear_faults(self) -> list[dict]:
        return self.control.clear_faults()

    def cluster(self) -> dict:
        return self.control.cluster()

    def stop_broker(self, node_id: int) -> dict:
        return self.control.broker(node_id, "stop")

    def start_broker(self, node_id: int) -> dict:
        return self.control.broker(node_id, "start")

    def pause_broker(self, node_id: int) -> dict:
        return self.control.broker(node_id, "pause")

    def resume_broker(self, node_id: int) -> dict:
        return self.control.broker(node_id, "resume")

    def move_leader(self, topic: str, partition: int, broker: int) -> dict:
        return self.control.move_leader(topic, partition, broker)

    def set_isr(self, topic: str, partition: int, brokers: list[int]) -> dict:
        return self.control.set_isr(topic, partition, brokers)

    def move_coordinator(self, kind: str, key: str, broker: int) -> dict:
        return self.control.move_coordinator(kind, key, broker)

    def trace(self, settle: float = 1.5) -> list[dict]:
        """The protocol trace since this broker started (or the last `mark_trace()`), one dict per request
        (gateway/trace.py's lines). The broker writes it at least every second: this waits up to `settle`
        seconds for that write. Empty when this Ottla has no --trace."""
        if self.pid is not None and "--trace" in serve_flags():
            before = self._trace_size()
            deadline = time.monotonic() + settle
            while self._trace_size() == before and time.monotonic() < deadline:
                time.sleep(0.02)
        try:
            with open(self.trace_path, "rb") as f:
                f.seek(self._trace_start)
                data = f.read()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in data.splitlines() if line.strip()]

    def _trace_size(self) -> int:
        try:
            return self.trace_path.stat().st_size
        except FileNotFoundError:
            return 0

    def mark_trace(self) -> None:
        """Start trace() from here (the plugin marks each test's start)."""
        self._trace_start = self.trace_path.stat().st_size if self.trace_path.exists() else 0


@contextlib.contextmanager
def broker(data_dir=None, **options):
    """A fresh Ottla broker for the `with` block (stopped and removed after)."""
    with OttlaBroker(data_dir, **options) as b:
        yield b


@contextlib.contextmanager
def cluster(brokers: int = 3, data_dir=None, **options):
    """A fresh N-broker Ottla cluster (`ottla serve --brokers N`) for the `with` block."""
    with OttlaBroker(data_dir, brokers=brokers, **options) as c:
        yield c

"""Fixtures: one broker per session (Ottla started here, or KAFKA_BOOTSTRAP), restarts, unique topics."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compat_tests import samples, topics

REPO = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 15.0
TEST_TIMEOUT_S = 60
LOG_TAIL_LINES = 200
LOG_START = pytest.StashKey[int]()
READY_LINE = re.compile(r"\bready\b")

_session_broker: Broker | None = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, what: str, timeout: float = 20.0):
    """Poll `condition()` until it returns something true, and return that; fail naming `what` at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


class BrokerStartError(RuntimeError):
    pass


class Broker:
    """A broker under test: either an Ottla process this session owns, or an external one."""

    def __init__(self, host: str, port: int, data_dir: Path | None = None, log_path: Path | None = None):
        self.host = host
        self.port = port
        self.data_dir = data_dir
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.admin_port = free_port() if data_dir is not None else None  # Ottla's HTTP admin endpoint

    @property
    def http_port(self) -> int | None:
        """Ottla's HTTP server (console, /metrics): --admin-port is an alias of --http-port."""
        return self.admin_port

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def managed(self) -> bool:
        return self.data_dir is not None

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "gateway", "serve",
            "--host", self.host, "--port", str(self.port), "--data-dir", str(self.data_dir),
            # KIP-848 sessions are the broker's to set: shorter than Kafka's 45 s keeps kill -9 tests quick
            "--group-consumer-session-timeout-ms", "10000", "--group-consumer-heartbeat-interval-ms", "1000",
            # timed-out transactions are looked for every 0.5 s (Kafka: 10 s), so kill -9 tests stay quick
            "--transaction-abort-timed-out-transaction-cleanup-interval-ms", "500",
            # share groups may set lock durations down to 1 s (Kafka's bound: 15 s), so lock expiry tests stay quick
            "--set", "group.share.min.record.lock.duration.ms=1000",
            "--admin-port", str(self.admin_port),
        ]

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path and self.log_path.exists() else 0

    def log_text(self, start: int = 0) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as f:
            f.seek(start)
            return f.read().decode(errors="replace")

    def start(self) -> None:
        """Start Ottla and wait for its "ready" line (and an accepting socket), at most 20 s."""
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== compat_tests: start #{self.starts}: {' '.join(self.command())}\n".encode())
        start_at = self.log_size()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.command(), cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if READY_LINE.search(self.log_text(start_at)) and self._accepts():
                return
            if self.proc.poll() is not None:
                raise BrokerStartError(
                    f"broker exited with {self.proc.returncode} before it was ready:\n{tail(self.log_text(start_at))}"
                )
            if time.monotonic() > deadline:
                self.stop(signal.SIGKILL)
                raise BrokerStartError(
                    f"broker printed no 'ready' line within {READY_TIMEOUT_S}s:\n{tail(self.log_text(start_at))}"
                )
            time.sleep(0.05)

    def _accepts(self) -> bool:
        try:
            socket.create_connection((self.host, self.port), timeout=1.0).close()
            return True
        except OSError:
            return False

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        """Send `sig` and wait for exit (SIGKILL after 15 s); returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT_S)
            raise BrokerStartError(f"broker ignored signal {sig} for {STOP_TIMEOUT_S}s; killed it") from None

    def restart(self) -> None:
        """SIGTERM (a clean shutdown must exit 0), then start again on the same port and data dir."""
        code = self.stop(signal.SIGTERM)
        assert code == 0, f"broker did not shut down cleanly on SIGTERM: exit code {code}"
        self.start()

    def kill9(self) -> None:
        """SIGKILL (no chance to flush anything), then start again on the same port and data dir."""
        self.stop(signal.SIGKILL)
        self.start()


def tail(text: str, lines: int = LOG_TAIL_LINES) -> str:
    return "\n".join(text.splitlines()[-lines:])


def pytest_configure(config):
    config.addinivalue_line("markers", "groups: needs consumer groups (JoinGroup/SyncGroup/OffsetCommit)")
    config.addinivalue_line("markers", "share: needs share groups (KIP-932) and GROUP resource configs")


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(TEST_TIMEOUT_S))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item.stash[LOG_START] = _session_broker.log_size() if _session_broker else 0


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    broker = _session_broker
    if report.failed and broker is not None and broker.managed:
        text = broker.log_text(item.stash.get(LOG_START, 0))
        report.sections.append((f"broker log ({broker.log_path}), this test", tail(text) or "(empty)"))


@pytest.fixture(scope="session")
def broker(tmp_path_factory):
    """The broker under test: KAFKA_BOOTSTRAP=host:port if set, else a fresh Ottla with RocksDB."""
    global _session_broker
    external = os.environ.get("KAFKA_BOOTSTRAP")
    if external:
        host, _, port = external.strip().rpartition(":")
        _session_broker = Broker(host, int(port))
        yield _session_broker
        _session_broker = None
        return
    root = tmp_path_factory.mktemp("ottla")
    b = Broker("127.0.0.1", free_port(), data_dir=root / "data", log_path=root / "broker.log")
    b.data_dir.mkdir()
    _session_broker = b
    try:
        b.start()
        yield b
    finally:
        b.stop(signal.SIGTERM)
        _session_broker = None


def _managed_only(broker: Broker, what: str) -> None:
    if not broker.managed:
        pytest.skip(f"{what} needs a broker this session started; KAFKA_BOOTSTRAP points at an external one")


@pytest.fixture
def restart_broker(broker):
    """Callable: SIGTERM the broker and start it again on the same port and data dir."""
    _managed_only(broker, "restarting the broker")
    return broker.restart


@pytest.fixture
def kill9_broker(broker):
    """Callable: SIGKILL the broker and start it again on the same port and data dir."""
    _managed_only(broker, "killing the broker")
    return broker.kill9


@pytest.fixture
def bootstrap(broker):
    """host:port of the broker; a broker this session owns must still be running after the test."""
    yield broker.bootstrap
    if broker.managed and broker.proc is not None and broker.proc.poll() is not None:
        code = broker.proc.returncode
        broker.start()  # so that one crash does not fail every later test
        pytest.fail(f"the broker exited with code {code} during this test (restarted for the next one)")


@pytest.fixture
def topic(bootstrap, request) -> str:
    """A fresh one-partition topic, created through kafka-python's KafkaAdminClient."""
    name = samples.unique_name(f"compat-{request.node.originalname.removeprefix('test_')[:30]}")
    topics.create_topic(bootstrap, name, partitions=1)
    return name

"""A real broker process (in-memory unless a test asks for a data dir), reached over loopback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.gateway.rawclient import RawClient

ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(r"ottla ready on ([\d.]+):(\d+)")


class BrokerProcess:
    def __init__(self, *extra: str) -> None:
        self.args = [sys.executable, "-m", "gateway", "serve", "--port", "0", "--log-level", "warning", *extra]
        # the log goes to a file: an undrained pipe would stall a broker that logs a lot
        self.log = tempfile.NamedTemporaryFile("w+", prefix="ottla-test-", suffix=".log")
        self.proc = subprocess.Popen(self.args, cwd=ROOT, stdout=subprocess.PIPE, stderr=self.log,
                                     text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            match = READY.search(line or "")
            if match:
                self.address = (match.group(1), int(match.group(2)))
                return
            if self.proc.poll() is not None:
                break
        self.log.seek(0)
        raise RuntimeError(f"broker did not start: {self.log.read()}")

    def client(self, **kw) -> RawClient:
        return RawClient(self.address, **kw)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> int:
        self.proc.terminate()
        try:
            return self.proc.wait(10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


@pytest.fixture(scope="module")
def broker():
    process = BrokerProcess("--memory")
    yield process
    process.stop()

"""Running `ottla <noun> <verb>` the way a user does: a subprocess against the session's broker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

CLI_TIMEOUT_S = 60


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


def ottla(bootstrap: str, *argv: str, stdin: str | bytes | None = None, json_output: bool = False,
          env: dict | None = None) -> Run:
    """`ottla ARGV --bootstrap-server BOOTSTRAP [--output json]`; its exit code, stdout and stderr."""
    noun_verb_args = list(argv) + ["--bootstrap-server", bootstrap] + (["--output", "json"] if json_output else [])
    environ = dict(os.environ, **(env or {}))
    environ.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    data = stdin.encode() if isinstance(stdin, str) else stdin
    proc = subprocess.run([sys.executable, "-m", "gateway", *noun_verb_args], input=data, capture_output=True,
                          timeout=CLI_TIMEOUT_S, env=environ)
    return Run(proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace"))


@contextmanager
def own_broker(tmp_path_factory, broker_class, name: str) -> Iterator[str]:
    """A second Ottla of `broker_class` (a conftest.Broker with more serve flags) for a module; its bootstrap."""
    from compat_tests.conftest import free_port

    root = tmp_path_factory.mktemp(name)
    b = broker_class("127.0.0.1", free_port(), data_dir=root / "data", log_path=root / "broker.log")
    b.data_dir.mkdir()
    b.start()
    try:
        yield b.bootstrap
    finally:
        b.stop(signal.SIGTERM)

"""Running `ottla <noun> <verb>` the way a user does: a subprocess against the session's broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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

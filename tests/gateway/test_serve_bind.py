"""`ottla serve` on a port another process holds: one line naming the address, exit 1, no traceback."""

import socket
import subprocess
import sys

from tests.gateway.conftest import ROOT


def test_a_port_in_use_is_one_line_and_exit_1():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        run = subprocess.run([sys.executable, "-m", "gateway", "serve", "--memory", "--port", str(port)],
                             cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert f"127.0.0.1:{port}" in run.stderr and "in use" in run.stderr

"""--log-format: JSON lines, key=value, and the console renderer (no colour codes when not a TTY)."""

import json
import subprocess
import sys

from tests.gateway.conftest import ROOT

SCRIPT = """
import sys
from gateway.logs import configure
import structlog
configure("info", sys.argv[1])
structlog.get_logger("ottla.test").info("topic_created", topic="orders", partitions=3, client_id="c1")
structlog.get_logger("ottla.test").debug("hidden")
"""


def _stderr(fmt: str) -> str:
    run = subprocess.run([sys.executable, "-c", SCRIPT, fmt], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    return run.stderr


def test_json_lines():
    [line] = _stderr("json").splitlines()
    record = json.loads(line)
    assert {k: record[k] for k in ("event", "level", "topic", "partitions", "client_id")} == {
        "event": "topic_created", "level": "info", "topic": "orders", "partitions": 3, "client_id": "c1"}
    assert record["timestamp"].endswith("Z")


def test_kv_and_console():
    [kv] = _stderr("kv").splitlines()
    assert "event='topic_created'" in kv and "topic='orders'" in kv
    [console] = _stderr("console").splitlines()
    assert "topic_created" in console and "topic=orders" in console and "\x1b[" not in console
    [auto] = _stderr("auto").splitlines()  # not a TTY here: key=value, as a log file always had
    assert "event='topic_created'" in auto


def test_serve_refuses_an_unknown_format():
    run = subprocess.run([sys.executable, "-m", "gateway", "serve", "--log-format", "xml"], cwd=ROOT,
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 2 and "invalid choice" in run.stderr

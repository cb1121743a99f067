"""gateway/malloc_tuning.py: glibc's thresholds are set once, at the first Produce or Fetch, never at import."""

import os
import subprocess
import sys

import pytest

CHECK = """
import sys
import gateway.handlers.fetch, gateway.handlers.produce
from gateway import malloc_tuning
assert not malloc_tuning.tried and "ctypes" not in sys.modules, "set (or ctypes imported) at import"
first, second = malloc_tuning.tune(), malloc_tuning.tune()
print("RESULT", first, second, malloc_tuning.tried)
"""


def _glibc() -> bool:
    try:
        return bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (AttributeError, ValueError, OSError):
        return False


def test_thresholds_are_set_once_and_not_at_import():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True).stdout
    result = [line.split()[1:] for line in out.splitlines() if line.startswith("RESULT")]  # (after its log line)
    assert result == [[str(_glibc()), "False", "True"]]


@pytest.mark.parametrize("api", ["fetch", "produce"])
def test_the_first_request_sets_them(api, monkeypatch):
    from gateway import malloc_tuning
    from tests.gateway.inprocess import call, new_broker

    calls = []
    monkeypatch.setattr(malloc_tuning, "tried", False)
    monkeypatch.setattr(malloc_tuning, "tune", lambda: calls.append(1) or malloc_tuning.__dict__.update(tried=True))
    broker = new_broker()
    if api == "produce":
        body = {"transactional_id": None, "acks": 1, "timeout_ms": 1000, "topic_data": []}
        call(broker, 0, 9, body)
        call(broker, 0, 9, body)
    else:
        body = {"replica_id": -1, "max_wait_ms": 0, "min_bytes": 1, "max_bytes": 1024, "isolation_level": 0,
                "session_id": 0, "session_epoch": -1, "topics": [], "forgotten_topics_data": [], "rack_id": ""}
        call(broker, 1, 12, body)
        call(broker, 1, 12, body)
    assert calls == [1]

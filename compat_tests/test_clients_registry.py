"""The live-connection registry with --http-port alone (the session's broker: no --client-report, no
--trace): a real client's entry in GET /v1/clients carries its client id, software, request count and
the APIs and versions it used, while the compatibility report says it is off (and `ottla report
--control` says so in one line, exit 1) instead of showing an empty report."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

import pytest

from compat_tests import samples
from compat_tests.conftest import REPO


def clients_json(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/clients", timeout=30) as response:
        return json.loads(response.read())


def test_http_port_alone_counts_a_real_client_and_says_the_report_is_off(broker):
    if not broker.managed or broker.http_port is None:
        pytest.skip("needs Ottla's HTTP server (the session broker this suite starts)")
    from confluent_kafka import Producer

    client_id = samples.unique_name("compat-registry")
    topic = samples.unique_name("compat-registry")
    producer = Producer({"bootstrap.servers": broker.bootstrap, "client.id": client_id, "linger.ms": 5})
    try:
        for i in range(3):
            producer.produce(topic, f"v{i}".encode())
        assert producer.flush(30) == 0
        deadline, mine = time.monotonic() + 30, []
        while time.monotonic() < deadline:
            answer = clients_json(broker.http_port)
            mine = [c for c in answer["connections"] if c["client_id"] == client_id and "Produce" in c["apis"]]
            if mine:
                break
            time.sleep(0.2)
        assert mine, f"no entry of {client_id} with Produce in {answer['connections']}"
        assert (answer["report_enabled"], answer["report"]) == (False, None)
        assert "--client-report" in answer["report_off"]
        [entry] = mine
        assert entry["software_name"] == "confluent-kafka-python"
        assert entry["requests"] >= 2 and all(isinstance(v, int) for vs in entry["apis"].values() for v in vs)
        assert "ApiVersions" in [api for c in answer["connections"] if c["client_id"] == client_id
                                 for api in c["apis"]]
    finally:
        producer.flush(5)
    report = subprocess.run([sys.executable, "-m", "gateway", "report", "--control",
                             f"http://127.0.0.1:{broker.http_port}"], cwd=REPO, capture_output=True, text=True,
                            timeout=60)
    assert report.returncode == 1, report.stdout + report.stderr
    assert report.stdout == "" and "the compatibility report is off" in report.stderr

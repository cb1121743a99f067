"""The HTTP server: off by default (nothing of it imported), on with --http-port, --admin-port an alias."""

import json
import subprocess
import sys
import urllib.request

from tests.gateway.conftest import ROOT, BrokerProcess

NOT_IMPORTED = """
import asyncio, sys
from gateway.config import Config
from gateway.server import Server

async def main():
    server = Server(Config(memory=True, port=0))
    await server.start()
    await server.shutdown()

asyncio.run(main())
print(sorted(m for m in ("aiohttp", "jinja2", "prometheus_client", "gateway.http", "gateway.metrics_collector")
             if m in sys.modules))
"""


def test_serve_without_http_port_imports_none_of_it():
    run = subprocess.run([sys.executable, "-c", NOT_IMPORTED], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "[]"


def _http_port(broker: BrokerProcess) -> int:
    return broker.http_port


def test_admin_port_is_an_alias_and_serves_replay_and_metrics():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    broker = BrokerProcess("--memory", "--admin-port", str(port))
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/share-groups/replay-dlq",
                                         data=b'{"topic": 5}', method="POST")
        try:
            urllib.request.urlopen(request, timeout=10)
            raise AssertionError("expected 400")
        except urllib.error.HTTPError as error:
            assert error.code == 400
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            assert response.headers["Content-Type"].startswith("text/plain")
            assert b"kafka_topic_partitions" in response.read()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/topics", timeout=10) as response:
            assert json.loads(response.read()) == []
        cross = urllib.request.Request(f"http://127.0.0.1:{port}/share-groups/replay-dlq", data=b'{"topic": "x"}',
                                       method="POST", headers={"Origin": "http://evil.example"})
        try:
            urllib.request.urlopen(cross, timeout=10)
            raise AssertionError("expected 403")
        except urllib.error.HTTPError as error:
            assert error.code == 403
    finally:
        broker.stop()


def test_no_http_metrics_serves_without_counting():
    import asyncio

    from gateway.config import Config
    from gateway.server import Server

    async def main():
        counted = Server(Config(memory=True, port=0, http_port=0))
        quiet = Server(Config(memory=True, port=0, http_port=0, http_metrics=False))
        for server in (counted, quiet):
            await server.start()
        try:
            assert counted.broker.metrics is not None and quiet.broker.metrics is None
            for server in (counted, quiet):
                url = f"http://127.0.0.1:{server.http_port}/metrics"
                body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=10).read())  # off the loop
                assert b"kafka_topic_partitions" in body  # the gauges are there either way
                assert (b"kafka_server_brokertopicmetrics_bytesin_total" in body) == (server is counted)
        finally:
            for server in (counted, quiet):
                await server.shutdown()

    asyncio.run(main())

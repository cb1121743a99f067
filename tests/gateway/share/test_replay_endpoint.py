"""The replay of dead letters through the admin endpoint (HTTP, a real broker) and the CLI (offline)."""

import json
import os
import subprocess
import sys
import urllib.request

import pytest

from gateway.http.admin import handle
from gateway.share.dlq import GROUP_ENABLE
from tests.gateway.conftest import ROOT
from tests.gateway.share.support import new_broker
from wire.records import build_batch

DLQ_HEADERS = [("__dlq.errors.topic", b"src"), ("__dlq.errors.partition", b"0"), ("__dlq.errors.offset", b"0"),
               ("__dlq.errors.group", b"g"), ("__dlq.errors.delivery.count", b"1"),
               ("__dlq.errors.message", b"Offset rejected by client.")]


def _seed(broker):
    broker.logs.create_topic("src", 1)
    broker.logs.create_topic("dlq.src", 1, {GROUP_ENABLE: "true"})
    broker.logs.partition("src", 0).append(build_batch([(b"k", b"original", [("h", b"1")], 5)]), 5)
    broker.logs.partition("dlq.src", 0).append(build_batch([(None, None, DLQ_HEADERS, 6)]), 6)


def test_endpoint_answers_and_refuses():
    broker = new_broker()
    _seed(broker)
    assert handle(broker, "POST", "/nope", b"")[0] == 404
    assert handle(broker, "GET", "/share-groups/replay-dlq", b"")[0] == 405
    assert handle(broker, "POST", "/share-groups/replay-dlq", b"{not json")[0] == 400
    assert handle(broker, "POST", "/share-groups/replay-dlq", b'{"topic": 5}')[0] == 400
    assert handle(broker, "POST", "/share-groups/replay-dlq", b'{"topic": "absent"}')[0] == 404
    status, result = handle(broker, "POST", "/share-groups/replay-dlq", b'{"topic": "dlq.src"}')
    assert (status, result["replayed"], result["by_source"]) == (200, 1, {"src-0": 1})
    assert broker.logs.partition("src", 0).high_watermark == 2


def test_cli_replays_offline_on_a_data_dir(tmp_path):
    from gateway.config import Config
    from gateway.broker import Broker
    from partitions.rocks import RocksStorage

    storage = RocksStorage(os.path.join(tmp_path, "rocksdb"))
    broker = Broker(Config(data_dir=str(tmp_path)), storage)
    _seed(broker)
    locked = subprocess.run([sys.executable, "-m", "gateway", "share-groups", "replay-dlq", "--topic", "dlq.src",
                             "--data-dir", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert locked.returncode == 1 and "is a broker running" in locked.stderr  # RocksDB's lock is held
    broker.close()
    run = subprocess.run([sys.executable, "-m", "gateway", "share-groups", "replay-dlq", "--topic", "dlq.src",
                          "--data-dir", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["replayed"] == 1
    again = subprocess.run([sys.executable, "-m", "gateway", "share-groups", "replay-dlq", "--topic", "dlq.src",
                            "--data-dir", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert json.loads(again.stdout)["replayed"] == 0  # moved once: the cursor is persisted
    missing = subprocess.run([sys.executable, "-m", "gateway", "share-groups", "replay-dlq", "--topic", "nope",
                              "--data-dir", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert missing.returncode == 1


def test_cli_over_a_running_brokers_admin_endpoint():
    import socket

    from tests.gateway.conftest import BrokerProcess
    from tests.gateway.test_handlers import fetch, produce

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        admin_port = s.getsockname()[1]
    broker = BrokerProcess("--memory", "--admin-port", str(admin_port))
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{admin_port}/share-groups/replay-dlq",
                                         data=b'{"topic": "absent"}', method="POST")
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(request, timeout=10)
        assert error.value.code == 404
        run = subprocess.run([sys.executable, "-m", "gateway", "share-groups", "replay-dlq", "--topic", "absent",
                              "--admin", f"127.0.0.1:{admin_port}"], cwd=ROOT, capture_output=True, text=True,
                             timeout=30)
        assert run.returncode == 1 and "does not exist" in run.stderr
        client = broker.client()
        produce(client, "src", build_batch([(b"k", b"original", [("h", b"1")], 5)]))  # auto-created
        produce(client, "dlq.src", build_batch([(None, None, DLQ_HEADERS, 6)]))
        run = subprocess.run([sys.executable, "-m", "gateway", "share-groups", "replay-dlq", "--topic", "dlq.src",
                              "--admin", f"127.0.0.1:{admin_port}"], cwd=ROOT, capture_output=True, text=True,
                             timeout=30)
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["replayed"] == 1
        partition = fetch(client, "src", 1).responses[0].partitions[0]
        assert partition.high_watermark == 2
        from wire.records import iter_records
        assert [(r.key, r.value, r.headers) for r in iter_records(partition.records)] == [
            (b"k", b"original", [("h", b"1")])]
        client.close()
    finally:
        broker.stop()

"""The protocol trace and the compatibility report for a run of every compat client: confluent-kafka,
kafka-python, aiokafka, kafkajs and kcat against an Ottla of this module's own with --trace FILE. The
report (live from GET /v1/clients, and `ottla report --trace FILE`) must name each client's software and
version as it sent them (aiokafka and kafkajs send ApiVersions below v3, so theirs are "not sent" and
they are listed by client id), the APIs and versions its requests used, and the codecs it produced."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from compat_tests import samples
from compat_tests.conftest import REPO, Broker, free_port

JS_DIR = Path(__file__).parent / "js"
RECORDS = 30
VALUE = b"compressible " * 40  # codecs are used only when they shrink a batch


class TracingBroker(Broker):
    trace: Path

    def command(self) -> list[str]:
        return [*super().command(), "--trace", str(self.trace)]


@pytest.fixture(scope="module")
def traced(broker, tmp_path_factory):
    if not broker.managed:
        pytest.skip("needs a broker this module starts (--trace); KAFKA_BOOTSTRAP points at an external one")
    root = tmp_path_factory.mktemp("ottla-trace")
    own = TracingBroker("127.0.0.1", free_port(), data_dir=root / "data", log_path=root / "broker.log")
    own.trace = root / "trace.jsonl"
    own.data_dir.mkdir()
    own.start()
    yield own
    own.stop(signal.SIGTERM)


def create(bootstrap: str, name: str) -> str:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap, "client.id": "compat-trace-admin"})
    admin.create_topics([NewTopic(name, 1, 1)])[name].result(30)
    return name


def run_confluent(bootstrap: str, topic: str) -> None:
    from confluent_kafka import Consumer, Producer

    producer = Producer({"bootstrap.servers": bootstrap, "compression.type": "lz4", "linger.ms": 500,
                         "transactional.id": samples.unique_name("compat-trace-txn"), "client.id": "compat-trace-ck"})
    producer.init_transactions(30)
    producer.begin_transaction()
    for i in range(RECORDS):
        producer.produce(topic, VALUE + b"%d" % i, partition=0)
    producer.commit_transaction(30)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": samples.unique_name("compat-trace-ck"),
                         "auto.offset.reset": "earliest", "isolation.level": "read_committed",
                         "client.id": "compat-trace-ck"})
    consumer.subscribe([topic])
    assert _count(lambda: consumer.poll(0.5), RECORDS) == RECORDS
    consumer.close()


def run_kafka_python(bootstrap: str, topic: str) -> None:
    from kafka import KafkaConsumer, KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, compression_type="gzip", linger_ms=500)
    for i in range(RECORDS):
        producer.send(topic, VALUE + b"%d" % i, partition=0)
    producer.flush(30)
    producer.close()
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             group_id=samples.unique_name("compat-trace-kp"), consumer_timeout_ms=10000)
    assert sum(1 for _, _ in zip(range(RECORDS), consumer)) == RECORDS
    consumer.close()


def run_aiokafka(bootstrap: str, topic: str) -> None:
    import aiokafka

    async def main():
        producer = aiokafka.AIOKafkaProducer(bootstrap_servers=bootstrap, compression_type="gzip", linger_ms=500)
        await producer.start()
        try:
            batch = [await producer.send(topic, VALUE + b"%d" % i, partition=0) for i in range(RECORDS)]
            await asyncio.gather(*batch)
        finally:
            await producer.stop()
        consumer = aiokafka.AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                             group_id=samples.unique_name("compat-trace-aio"),
                                             isolation_level="read_committed")
        await consumer.start()
        seen = 0
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 20
            while seen < RECORDS and loop.time() < deadline:
                seen += sum(len(v) for v in (await consumer.getmany(timeout_ms=1000)).values())
        finally:
            await consumer.stop()
        assert seen == RECORDS

    asyncio.run(main())


def node(script: str, **params):
    proc = subprocess.run(["node", script, json.dumps(params)], cwd=JS_DIR, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, f"node {script}: {proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return json.loads(proc.stdout)


def run_kafkajs(bootstrap: str, topic: str) -> None:
    messages = [{"key": f"k{i}", "value": (VALUE + b"%d" % i).decode(), "headers": [], "timestamp": 1700000000000}
                for i in range(RECORDS)]
    node("produce.js", bootstrap=bootstrap, topic=topic, messages=messages, compression="gzip")
    got = node("fetch.js", bootstrap=bootstrap, topic=topic, offset=0, count=RECORDS, timeoutMs=15000)
    assert len(got["messages"]) == RECORDS


def run_kcat(bootstrap: str, topic: str) -> None:
    lines = "".join(f"{(VALUE + b'%d' % i).decode()}\n" for i in range(RECORDS))
    for args, stdin in ((["-P", "-p", "0", "-z", "snappy", "-X", "linger.ms=500"], lines),
                        (["-C", "-p", "0", "-o", "beginning", "-e"], None)):
        proc = subprocess.run(["kcat", "-b", bootstrap, "-t", topic, "-q", *args], input=stdin, capture_output=True,
                              text=True, timeout=30)
        assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("compressible") >= RECORDS * 40


def _count(poll, want: int, timeout_s: float = 20.0) -> int:
    import time

    n, deadline = 0, time.monotonic() + timeout_s
    while n < want and time.monotonic() < deadline:
        message = poll()
        if message is not None and not message.error():
            n += 1
    return n


def clients_json(traced) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{traced.http_port}/v1/clients", timeout=30) as response:
        return json.loads(response.read())


def push_telemetry(traced) -> dict | None:
    """KIP-714: a CLIENT_METRICS subscription for one client id, then a librdkafka producer with it: its
    /v1/clients entry once it shows a push (None if none came within 20 s)."""
    import time

    from confluent_kafka import Producer
    from kafka.admin import ConfigResource, ConfigResourceType

    from compat_tests.topics import admin_client

    client_id = samples.unique_name("compat-trace-telemetry")
    admin = admin_client(traced.bootstrap)
    try:
        admin.alter_configs([ConfigResource(ConfigResourceType.CLIENT_METRICS, f"sub-{client_id}", configs={
            "metrics": "*", "interval.ms": "200", "match": f"client_id={client_id}"})], raise_on_unknown=False)
    finally:
        admin.close()
    producer = Producer({"bootstrap.servers": traced.bootstrap, "client.id": client_id})
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            producer.poll(0.3)
            for c in clients_json(traced)["connections"]:
                if c["client_id"] == client_id and c["telemetry"] and c["telemetry"]["metrics"]:
                    return c
        return None
    finally:
        producer.flush(5)


def kcat_librdkafka_version() -> str:
    out = subprocess.run(["kcat", "-V"], capture_output=True, text=True, timeout=10).stdout
    return re.search(r"librdkafka ([0-9][^\s)]*)", out).group(1)


@pytest.fixture(scope="module")
def report(traced):
    """Every client run once; then the live report, and the report `ottla report --trace` builds."""
    bootstrap = traced.bootstrap
    runs = [("confluent", run_confluent), ("kafka-python", run_kafka_python), ("aiokafka", run_aiokafka)]
    if shutil.which("node") and (JS_DIR / "node_modules" / "kafkajs").is_dir():
        runs.append(("kafkajs", run_kafkajs))
    if shutil.which("kcat"):
        runs.append(("kcat", run_kcat))
    topics = {}
    for name, run in runs:
        topics[name] = create(bootstrap, samples.unique_name(f"compat-trace-{name}"))
        run(bootstrap, topics[name])
    pushed = push_telemetry(traced)
    live = clients_json(traced)
    control = subprocess.run([sys.executable, "-m", "gateway", "report", "--control",
                              f"http://127.0.0.1:{traced.http_port}"], cwd=REPO, capture_output=True, text=True,
                             timeout=60)
    assert control.returncode == 0, control.stderr
    traced.stop(signal.SIGTERM)  # the trace's buffered lines are written at shutdown
    done = subprocess.run([sys.executable, "-m", "gateway", "report", "--trace", str(traced.trace), "--output",
                           "json"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    markdown = subprocess.run([sys.executable, "-m", "gateway", "report", "--trace", str(traced.trace)], cwd=REPO,
                              capture_output=True, text=True, timeout=60)
    assert markdown.returncode == 0, markdown.stderr
    with open(traced.trace) as f:
        lines = [json.loads(line) for line in f]
    return {"live": live, "file": json.loads(done.stdout), "markdown": markdown.stdout, "lines": lines,
            "control_markdown": control.stdout, "pushed": pushed,
            "ran": [name for name, _ in runs], "topics": topics}


def entry(report: dict, *, software=None, client_id=None) -> dict:
    found = [c for c in report["clients"]
             if (software and (c["software_name"], c["software_version"]) == software)
             or (client_id and not c["software_sent"] and any(i.startswith(client_id) for i in c["client_ids"]))]
    seen = [(c["software_name"], c["client_ids"]) for c in report["clients"]]
    assert found, f"no entry for {software or client_id} in {seen}"
    return found[0]


def merged(entries: list[dict]) -> dict:
    """One client library's entries (aiokafka's producer and consumer use different client ids)."""
    apis: dict[str, set[int]] = {}
    codecs: set[str] = set()
    for e in entries:
        for api, versions in e["apis"].items():
            apis.setdefault(api, set()).update(int(v) for v in versions)
        codecs.update(e["codecs"])
    return {"apis": apis, "codecs": codecs}


def from_lines(lines: list[dict], match) -> dict[str, set[int]]:
    apis: dict[str, set[int]] = {}
    for line in lines:
        if match(line):
            apis.setdefault(line["api"], set()).add(line["version"])
    return apis


def supported() -> dict[str, tuple[int, int]]:
    from gateway import handlers  # noqa: F401
    from gateway.registry import supported_versions
    from wire.messages import APIS

    return {APIS[k["api_key"]].name: (k["min_version"], k["max_version"]) for k in supported_versions()}


def check(client: dict, lines_apis: dict[str, set[int]], expected_apis: set[str], codecs: set[str]) -> None:
    apis = {api: {int(v) for v in versions} for api, versions in client["apis"].items()}
    assert apis == lines_apis  # the report says what the client's trace lines say
    assert expected_apis <= set(apis), sorted(apis)
    ranges = supported()
    for api, versions in apis.items():
        low, high = ranges[api]
        assert all(low <= v <= high for v in versions), (api, versions, (low, high))
    assert set(client["codecs"]) == codecs


def test_confluent_kafka(report):
    import confluent_kafka

    software = ("confluent-kafka-python", f"{confluent_kafka.__version__}-rdkafka-{confluent_kafka.libversion()[0]}")
    client = entry(report["file"], software=software)
    assert {"compat-trace-ck", "compat-trace-admin"} <= set(client["client_ids"])
    check(client, from_lines(report["lines"], lambda l: (l["client_software_name"], l["client_software_version"])
                             == software),
          {"ApiVersions", "Metadata", "CreateTopics", "InitProducerId", "AddPartitionsToTxn", "Produce", "EndTxn",
           "FindCoordinator", "JoinGroup", "SyncGroup", "Fetch"}, {"lz4"})
    assert {"idempotence", "transactions"} <= set(client["features"])
    assert "read_committed" in client["isolation_levels"] and "classic" in client["group_protocols"]
    live = entry(report["live"]["report"], software=software)  # GET /v1/clients says the same
    assert (live["apis"].keys(), live["codecs"], live["features"]) == (client["apis"].keys(), client["codecs"],
                                                                       client["features"])
    connections = [c for c in report["live"]["connections"] if c["software_name"] == software[0]]
    assert all(c["software_version"] == software[1] for c in connections)
    assert f"## {software[0]} {software[1]}" in report["markdown"]
    assert f"## {software[0]} {software[1]}" in report["control_markdown"]  # ottla report --control URL


def test_kafka_python(report):
    import kafka

    software = ("kafka-python", kafka.__version__)
    client = entry(report["file"], software=software)
    check(client, from_lines(report["lines"], lambda l: l["client_software_name"] == "kafka-python"),
          {"ApiVersions", "Metadata", "Produce", "FindCoordinator", "JoinGroup", "SyncGroup", "Fetch"}, {"gzip"})
    assert f"## kafka-python {kafka.__version__}" in report["markdown"]


def test_aiokafka(report):
    import aiokafka

    clients = [c for c in report["file"]["clients"] if not c["software_sent"]
               and any(i.startswith("aiokafka") for i in c["client_ids"])]
    assert clients, "aiokafka is not in the report"
    assert all(c["software_name"] == c["software_version"] == "not sent" for c in clients)  # ApiVersions < v3
    assert any(i == f"aiokafka-{aiokafka.__version__}" for c in clients for i in c["client_ids"])
    both = merged(clients)
    lines = from_lines(report["lines"], lambda l: (l["client_id"] or "").startswith("aiokafka"))
    assert both["apis"] == lines
    assert {"ApiVersions", "Metadata", "Produce", "FindCoordinator", "JoinGroup", "SyncGroup", "Fetch"} <= set(lines)
    assert both["codecs"] == {"gzip"}
    assert any("read_committed" in c["isolation_levels"] for c in clients)


def test_kafkajs(report):
    if "kafkajs" not in report["ran"]:
        pytest.skip("node or kafkajs is not installed")
    client = entry(report["file"], client_id="compat-kafkajs")
    assert client["software_name"] == "not sent"  # kafkajs 2.2.4 sends ApiVersions v2
    check(client, from_lines(report["lines"], lambda l: l["client_id"] == "compat-kafkajs"),
          {"ApiVersions", "Metadata", "Produce", "Fetch"}, {"gzip"})


def test_kcat(report):
    if "kcat" not in report["ran"]:
        pytest.skip("kcat is not installed")
    software = ("librdkafka", kcat_librdkafka_version())  # kcat leaves client.software.name at librdkafka's
    client = entry(report["file"], software=software)
    check(client, from_lines(report["lines"], lambda l: (l["client_software_name"], l["client_software_version"])
                             == software), {"ApiVersions", "Metadata", "Produce", "Fetch"}, {"snappy"})


def test_a_client_s_kip_714_push_shows_in_its_connection_entry(report):
    pushed = report["pushed"]
    assert pushed is not None, "librdkafka pushed no metrics within 20 s"
    assert pushed["telemetry"]["last_push_bytes"] > 0 and pushed["software_name"] == "confluent-kafka-python"
    assert all(name.startswith("org.apache.kafka.") for name in pushed["telemetry"]["metrics"])
    assert any(name.startswith("org.apache.kafka.producer.") for name in pushed["telemetry"]["metrics"])


def test_every_line_is_complete_and_the_report_refused_nothing(report):
    keys = {"time", "connection", "peer", "listener", "principal", "client_id", "client_software_name",
            "client_software_version", "api", "api_key", "version", "correlation_id", "request", "errors",
            "error_messages", "refused", "bytes_in", "bytes_out", "latency_ms"}
    assert report["lines"] and all(set(line) == keys for line in report["lines"])
    assert all(line["bytes_in"] > 0 and line["latency_ms"] >= 0 for line in report["lines"])
    produced = [line for line in report["lines"] if line["api"] == "Produce"]
    assert {t for line in produced for t in line["request"]["topics"]} == set(report["topics"].values())
    refused = [(c["software_name"], c["client_ids"], r) for c in report["file"]["clients"] for r in c["refused"]]
    assert all(r["reason"].startswith("UNSUPPORTED_VERSION") and r["api"] == "ApiVersions" for _, _, r in refused), \
        refused  # a client's first ApiVersions may be newer than ours: nothing else is refused

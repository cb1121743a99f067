"""What security costs: produce and consume MB/s and broker CPU seconds per MB over SSL and SASL_SSL
(SCRAM-SHA-512) beside PLAINTEXT on one broker (one listener each), and connection set-up time: a new
connection to its first Metadata answer on PLAINTEXT, SASL_PLAINTEXT with SCRAM-SHA-256/512 (4096
iterations, the client's PBKDF2 included, as every client pays it), SSL and SASL_SSL.

    python scripts/bench_security.py [--records 200000] [--record-size 1024] [--rounds 3] [--connects 30]
    python scripts/bench.py --security ...      # the same, after the main phases

librdkafka (confluent-kafka) is the client, linger 5 ms, acks=1, one partition; the variants interleave
within each round and medians are reported. Goal (issue 11): TLS costs at most 30% of plaintext MB/s.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_cluster import _cpu, report, table  # (scripts/ is on the path: run as a script or from bench.py)

REPO = Path(__file__).resolve().parent.parent
USER, PASSWORD = "bench", "bench-secret"
LISTENERS = ("PLAINTEXT", "SASL_PLAINTEXT", "SSL", "SASL_SSL")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(workdir: Path, memory: bool) -> tuple[subprocess.Popen, dict[str, int], str]:
    """(process, port per listener, CA path) of a broker with one listener of each protocol."""
    ports = {name: _free_port() for name in LISTENERS}
    argv = [sys.executable, "-m", "gateway", "serve", "--log-level", "warning", "--data-dir", str(workdir),
            "--user", f"{USER}:{PASSWORD}"]
    for name, port in ports.items():
        argv += ["--listener", f"{name}://127.0.0.1:{port}"]
    if memory:
        argv.append("--memory")
    proc = subprocess.Popen(argv, cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("ottla ready"):
            return proc, ports, str(workdir / "tls" / "ca.pem")
        if proc.poll() is not None:
            raise SystemExit(f"broker exited with {proc.returncode}")
    proc.kill()
    raise SystemExit("broker not ready within 30 s")


def client_config(listener: str, port: int, ca: str, mechanism: str = "SCRAM-SHA-512") -> dict:
    conf = {"bootstrap.servers": f"127.0.0.1:{port}", "security.protocol": listener, "log_level": 0}
    if listener.startswith("SASL"):
        conf.update({"sasl.mechanism": mechanism, "sasl.username": USER, "sasl.password": PASSWORD})
    if listener.endswith("SSL"):
        conf["ssl.ca.location"] = ca
    return conf


def throughput(conf: dict, pid: int, topic: str, args) -> dict[str, float]:
    from confluent_kafka import Consumer, Producer, TopicPartition

    value = os.urandom(args.record_size)
    mb = args.records * args.record_size / 1e6
    producer = Producer({**conf, "linger.ms": 5, "acks": 1, "batch.size": 1 << 20,
                         "queue.buffering.max.messages": 1_000_000})
    producer.list_topics(topic, timeout=10)
    cpu0, t0 = _cpu(pid), time.perf_counter()
    for _ in range(args.records):
        while True:
            try:
                producer.produce(topic, value, partition=0)
                break
            except BufferError:
                producer.poll(0.01)
    if producer.flush(120):
        raise SystemExit("produce did not finish in 120 s")
    produce_s, produce_cpu = time.perf_counter() - t0, _cpu(pid) - cpu0
    consumer = Consumer({**conf, "group.id": "bench-security", "enable.auto.commit": False,
                         "fetch.max.bytes": 50 << 20})
    consumer.assign([TopicPartition(topic, 0, 0)])
    got, t0, cpu0 = 0, None, 0.0
    deadline = time.perf_counter() + 120
    while got < args.records:
        for message in consumer.consume(10_000, 1.0):
            if message.error() is None:
                if t0 is None:
                    t0, cpu0 = time.perf_counter(), _cpu(pid)
                got += 1
        if time.perf_counter() > deadline:
            raise SystemExit(f"consumed {got} of {args.records} in 120 s")
    consume_s, consume_cpu = time.perf_counter() - t0, _cpu(pid) - cpu0
    consumer.close()
    return {"produce MB/s": mb / produce_s, "produce broker CPU ms/MB": produce_cpu * 1000 / mb,
            "consume MB/s": mb / consume_s, "consume broker CPU ms/MB": consume_cpu * 1000 / mb}


def connect_ms(conf: dict, connects: int) -> float:
    """Median ms from a new client to its first Metadata answer (TCP, TLS, SASL, Metadata)."""
    from confluent_kafka.admin import AdminClient

    times = []
    for _ in range(connects):
        t0 = time.perf_counter()
        AdminClient(conf).list_topics(timeout=10)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def measure(args) -> list[tuple[str, str, float]]:
    from confluent_kafka.admin import AdminClient, NewTopic

    runs: dict[str, list[dict]] = {name: [] for name in ("PLAINTEXT", "SSL", "SASL_SSL")}
    setup: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="ottla-bench-security-") as tmp:
        proc, ports, ca = start(Path(tmp), args.memory)
        try:
            admin = AdminClient(client_config("PLAINTEXT", ports["PLAINTEXT"], ca))
            for r in range(args.rounds):
                for name in runs:
                    topic = f"bench-security-{name.lower()}-{r}"
                    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(30)
                    runs[name].append(throughput(client_config(name, ports[name], ca), proc.pid, topic, args))
            cases = {"PLAINTEXT": ("PLAINTEXT", None), "SASL_PLAINTEXT SCRAM-SHA-256": ("SASL_PLAINTEXT",
                     "SCRAM-SHA-256"), "SASL_PLAINTEXT SCRAM-SHA-512": ("SASL_PLAINTEXT", "SCRAM-SHA-512"),
                     "SASL_PLAINTEXT PLAIN": ("SASL_PLAINTEXT", "PLAIN"), "SSL": ("SSL", None),
                     "SASL_SSL SCRAM-SHA-512": ("SASL_SSL", "SCRAM-SHA-512")}
            for case, (listener, mechanism) in cases.items():
                conf = client_config(listener, ports[listener], ca, mechanism or "PLAIN")
                setup[case] = [connect_ms(conf, args.connects)]
        finally:
            proc.terminate()
            proc.wait(15)
    rows = []
    for figure in ("produce MB/s", "produce broker CPU ms/MB", "consume MB/s", "consume broker CPU ms/MB"):
        medians = {name: statistics.median(r[figure] for r in rs) for name, rs in runs.items()}
        rows += [(f"{name}: {figure}", "median", v) for name, v in medians.items()]
        for name in ("SSL", "SASL_SSL"):
            rows.append((f"{name} / PLAINTEXT: {figure}", "ratio", medians[name] / medians["PLAINTEXT"]))
    rows += [(f"connection to first Metadata, {case}", "median ms", values[0]) for case, values in setup.items()]
    return rows


def add_arguments(group) -> None:
    group.add_argument("--security-rounds", type=int, default=3, help="--security: interleaved rounds")
    group.add_argument("--security-connects", type=int, default=30, help="--security: connections timed per case")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=200_000)
    p.add_argument("--record-size", type=int, default=1024)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--connects", type=int, default=30)
    p.add_argument("--memory", action="store_true", help="the broker with --memory (no RocksDB)")
    args = p.parse_args(argv)
    return report(lambda: measure(args))


if __name__ == "__main__":
    raise SystemExit(main())

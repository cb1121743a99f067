"""A dev cluster's costs (`ottla serve --brokers N`): start-up to the first Metadata answer, and produce /
consume MB/s and broker CPU seconds per MB with 3 brokers (8 partitions, RF 3) beside 1 broker (8
partitions, RF 1). Brokers start fresh each round, the variants interleaved, medians reported.

    python scripts/bench_cluster.py [--records 200000] [--record-size 1024] [--rounds 3] [--memory]
    python scripts/bench.py --cluster ...      # the same, after the main phases
    python scripts/bench_cluster.py --ab REV_BEFORE REV_AFTER   # one broker, two commits side by side

Producers use acks=all (with RF 3 every record waits for the ISR, as on Kafka) and linger 5 ms; the
consumer sets fetch.queue.backoff.ms 10 (librdkafka's 1 s default turned a full prefetch queue into a
1 s idle wait in most 3-broker rounds). `--ab`
checks out both commits into temporary worktrees (the C record walker copied in) and compares the
1-broker figures; it is how `--brokers 1` is shown to cost what it cost before.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_metrics import _cpu, report, table  # noqa: E402  (the same /proc CPU reading and table)

REPO = Path(__file__).resolve().parent.parent
TOPIC = "bench-cluster"
PARTITIONS = 8


def _base_port(count: int) -> int:
    """A port with `count` free ones from it (brokers 1..N)."""
    from ottla.testing import _free_ports

    return _free_ports(count)


def _metadata_request() -> bytes:
    client = b"bench"
    body = struct.pack(">hhih", 3, 1, 7, len(client)) + client + struct.pack(">i", -1)  # Metadata v1, all topics
    return struct.pack(">i", len(body)) + body


def _metadata_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
            s.sendall(_metadata_request())
            head = s.recv(4)
            return len(head) == 4
    except OSError:
        return False


def start(workdir: Path, brokers: int, memory: bool, tree: Path = REPO) -> tuple[subprocess.Popen, int, float]:
    """(process, first port, seconds from exec to the first Metadata answer)."""
    port = _base_port(brokers)
    argv = [sys.executable, "-m", "gateway", "serve", "--port", str(port), "--log-level", "warning",
            "--data-dir", str(workdir)]
    if brokers != 1:
        argv += ["--brokers", str(brokers), "--set", f"default.replication.factor={brokers}"]
    if memory:
        argv.append("--memory")
    env = dict(os.environ, PYTHONPATH=str(tree))
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = t0 + 30
    while time.perf_counter() < deadline:
        if _metadata_answers(port):
            return proc, port, time.perf_counter() - t0
        if proc.poll() is not None:
            raise SystemExit(f"broker exited with {proc.returncode}")
        time.sleep(0.002)
    proc.kill()
    raise SystemExit("broker did not answer Metadata within 30 s")


def one_round(brokers: int, args, tree: Path = REPO) -> dict[str, float]:
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic

    with tempfile.TemporaryDirectory(prefix="ottla-bench-cluster-") as tmp:
        proc, port, startup = start(Path(tmp), brokers, args.memory, tree)
        try:
            bootstrap = ",".join(f"127.0.0.1:{port + i}" for i in range(brokers))
            conf = {"bootstrap.servers": bootstrap, "log_level": 0}
            admin = AdminClient(conf)
            admin.create_topics([NewTopic(TOPIC, PARTITIONS, brokers)])[TOPIC].result(30)
            value = os.urandom(args.record_size)
            mb = args.records * args.record_size / 1e6
            producer = Producer({**conf, "linger.ms": 5, "acks": "all", "batch.size": 1 << 20,
                                 "queue.buffering.max.messages": 1_000_000})
            cpu0, t0 = _cpu(proc.pid), time.perf_counter()
            for i in range(args.records):
                while True:
                    try:
                        producer.produce(TOPIC, value, partition=i % PARTITIONS)
                        break
                    except BufferError:
                        producer.poll(0.01)
            if producer.flush(120):
                raise SystemExit("produce did not finish in 120 s")
            produce_s, produce_cpu = time.perf_counter() - t0, _cpu(proc.pid) - cpu0
            # fetch.queue.backoff.ms: once its local queue passes queued.max.messages.kbytes (64 MB)
            # librdkafka postpones every partition's next Fetch by this (default 1000 ms). Three
            # brokers' fetcher threads fill that queue faster than this loop drains it, so with the
            # default most 3-broker rounds measured one idle 1 s wait (200 MB: ~180 MB/s, brokers idle);
            # 10 ms keeps the 64 MB bound and measures the brokers.
            consumer = Consumer({**conf, "group.id": "bench-cluster", "enable.auto.commit": False,
                                 "fetch.max.bytes": 50 << 20, "fetch.queue.backoff.ms": 10})
            consumer.assign([TopicPartition(TOPIC, p, 0) for p in range(PARTITIONS)])
            got, t0, cpu0 = 0, None, 0.0
            deadline = time.perf_counter() + 120
            while got < args.records:
                for message in consumer.consume(10_000, 1.0):
                    if message.error() is None:
                        if t0 is None:
                            t0, cpu0 = time.perf_counter(), _cpu(proc.pid)
                        got += 1
                if time.perf_counter() > deadline:
                    raise SystemExit(f"consumed {got} of {args.records} in 120 s")
            consume_s, consume_cpu = time.perf_counter() - t0, _cpu(proc.pid) - cpu0
            consumer.close()
            return {"start-up to first Metadata s": startup, "produce MB/s": mb / produce_s,
                    "produce broker CPU s/MB": produce_cpu / mb, "consume MB/s": mb / consume_s,
                    "consume broker CPU s/MB": consume_cpu / mb}
        finally:
            proc.terminate()
            proc.wait(15)


FIGURES = ("start-up to first Metadata s", "produce MB/s", "produce broker CPU s/MB", "consume MB/s",
           "consume broker CPU s/MB")


def _compare(variants: dict[str, list[dict]], ratio: tuple[str, str]) -> list[tuple[str, str, float]]:
    rows = []
    for figure in FIGURES:
        medians = {name: statistics.median(r[figure] for r in runs) for name, runs in variants.items()}
        rows += [(f"{name}: {figure}", "median", value) for name, value in medians.items()]
        a, b = ratio
        rows.append((f"{b} / {a}: {figure}", "ratio", medians[b] / medians[a] if medians[a] else float("nan")))
    return rows


def measure(args) -> list[tuple[str, str, float]]:
    variants: dict[str, list[dict]] = {"1 broker": [], "3 brokers (RF 3)": []}
    for _ in range(args.rounds):
        variants["1 broker"].append(one_round(1, args))
        variants["3 brokers (RF 3)"].append(one_round(3, args))
    return _compare(variants, ("1 broker", "3 brokers (RF 3)"))


def measure_ab(args) -> list[tuple[str, str, float]]:
    before, after = args.ab
    trees: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="ottla-bench-ab-") as tmp:
        try:
            for rev in (before, after):
                tree = Path(tmp) / rev.replace("/", "_")
                subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), rev], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for so in (REPO / "wire").glob("_record_walk*.so"):
                    shutil.copy(so, tree / "wire" / so.name)
                trees[rev] = tree
            variants: dict[str, list[dict]] = {before: [], after: []}
            for _ in range(args.rounds):
                for rev in (before, after):
                    variants[rev].append(one_round(1, args, trees[rev]))
            return _compare(variants, (before, after))
        finally:
            for tree in trees.values():
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def add_arguments(group) -> None:
    group.add_argument("--cluster-rounds", type=int, default=3, help="--cluster: interleaved 1/3-broker rounds")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=200_000)
    p.add_argument("--record-size", type=int, default=1024)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--memory", action="store_true", help="brokers with --memory (no RocksDB)")
    p.add_argument("--ab", nargs=2, metavar=("BEFORE", "AFTER"), help="one broker at two commits, side by side")
    args = p.parse_args(argv)
    return report(lambda: measure_ab(args) if args.ab else measure(args))


if __name__ == "__main__":
    raise SystemExit(main())

"""Start-up and idle memory of `ottla serve` as bench.py starts it (RocksDB under a fresh data dir), over
several start-ups, optionally alternated with another checkout (A/B), and what lazily loaded APIs cost.

    python scripts/bench_startup.py [--startups 5] [--repo /path/to/other/checkout] [--memory]

Per start-up: spawn to the first answered Metadata v1 (bench.py's figure), the broker's CPU by then (all
threads; less sensitive to a loaded machine than wall time), the 'ready' line's phases, idle RSS after
--settle s (VmRSS). Once per checkout: a start that, signalled once its first Metadata is answered, writes
the names in sys.modules (their count, and the heavy ones among them); then the first and second
Produce, Fetch and JoinGroup (raw requests: round trip, and the broker main thread's CPU from
/proc/PID/schedstat, in ns), so a handler imported on its first request shows what that costs.
Each checkout runs under its own .venv's python when it has one (the venv's install mode is part of
start-up), else this one. Run through `bench.py --startup` too (its rows join the table).

Before the timed start-ups each checkout starts once, untimed, with PYTHONDONTWRITEBYTECODE unset: its bytecode and
gateway/generated_code.py's file are then written, as any broker's second start finds them.

Idle RSS is split as /proc/PID/status does (anonymous, file-backed) and by the libraries whose file pages
dominate it (/proc/PID/smaps: rocksdict's RocksDB, OpenSSL's libssl/libcrypto with _ssl and _hashlib, libpython,
uvloop). `--startup-asyncio-loop` adds, alternated, start-ups of this checkout with uvloop made unimportable
(gateway/server.py falls back to asyncio.run): what uvloop costs at start-up. Without a TLS listener neither loads OpenSSL (gateway/no_tls.py).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

import bench  # noqa: E402
from wire.codec import decode, encode  # noqa: E402
from wire.headers import encode_request_header, response_header_size  # noqa: E402
from wire.messages import APIS  # noqa: E402
from wire.records import build_batch  # noqa: E402

TOPIC = "bench-startup"
PHASES = ("startup_ms", "storage_ms", "broker_ms", "listen_ms")  # the 'ready' line's fields (gateway/server.py)
# modules `ottla serve` with no flags must not have imported by its first Metadata (tests/gateway/test_lazy_imports.py)
HEAVY = ("aiohttp", "cryptography", "prometheus_client", "confluent_kafka", "jinja2", "gateway.share.coordinator",
         "gateway.txn.coordinator", "gateway.http", "gateway.metrics", "gateway.security.sasl",
         "gateway.security.tls", "gateway.groups.kip848.coordinator", "gateway.handlers.produce",
         # deferred or avoided (gateway/deferred_imports.py, gateway.cli.HelpFormatter, authorizer_settings)
         "bdb", "cmd", "_hashlib", "shutil", "bz2", "lzma", "gateway.security.acls", "gateway.security.authorizer",
         "gateway.faults.kinds", "partitions.cleaner", "wire.batch_rewrite",
         "_ssl")  # OpenSSL: only with a TLS listener or --http-port (gateway/no_tls.py)
# file-backed (and their relocated) pages by library, from /proc/PID/smaps: what dominates idle RSS
LIBRARIES = (("rocksdict (RocksDB)", ("rocksdict",)),
             ("OpenSSL (libssl, libcrypto, _ssl, _hashlib)", ("libssl.so", "libcrypto.so", "/_ssl.", "/_hashlib.")),
             ("libpython", ("libpython",)), ("uvloop", ("/uvloop/",)))
NO_UVLOOP = "import sys\nsys.modules['uvloop'] = None  # bench only: gateway.server.run falls back to asyncio.run\n"


# `ottla serve` run in-process so SIGUSR1 writes sys.modules' names to a file (the broker sets no handler of its own
# for it): the bench signals it once the first Metadata is answered
COUNTING = ("import signal, sys, os\n"
            "def dump(*_):\n"
            "    names = [('deferred:' if type(m).__name__ == 'DeferredModule' else '') + n for n, m in sys.modules.items()]\n"
            "    counts = getattr(sys.modules.get('gateway.generated_code'), 'counts', None)\n"
            "    names += [f'generated:{k}={v}' for k, v in (counts or {}).items()]\n"
            "    with open(os.environ['OTTLA_MODULES_FILE'] + '.tmp', 'w') as f: f.write('\\n'.join(sorted(names)))\n"
            "    os.replace(os.environ['OTTLA_MODULES_FILE'] + '.tmp', os.environ['OTTLA_MODULES_FILE'])\n"
            "signal.signal(signal.SIGUSR1, dump)\n"
            "sys.argv = ['ottla', *sys.argv[1:]]\n"
            "from gateway.cli import main\n"
            "raise SystemExit(main())\n")


def python_of(repo: Path) -> str:
    """The checkout's own venv's python (its install mode is part of start-up), else this one."""
    python = repo / ".venv" / "bin" / "python"
    return str(python) if python.exists() else sys.executable


def broker_argv(repo: Path, workdir: Path, port: int, memory: bool, counting: bool = False,
                uvloop: bool = True) -> list[str]:
    if counting or not uvloop:
        code = ("" if uvloop else NO_UVLOOP) + (COUNTING if counting else
                                               "import sys\nsys.argv = ['ottla', *sys.argv[1:]]\n"
                                               "from gateway.cli import main\nraise SystemExit(main())\n")
        command = ["-c", code]
    else:
        command = ["-m", "gateway"]
    argv = [python_of(repo), *command, "serve", "--host",
            bench.HOST, "--port", str(port), "--data-dir", str(workdir / f"data-{port}"), "--topic", f"{TOPIC}:1"]
    return argv + (["--memory"] if memory else [])


def start(repo: Path, workdir: Path, memory: bool, counting: bool = False, uvloop: bool = True) -> bench.BrokerProcess:
    bench.compile_bytecode(repo)
    port = bench.free_port()
    return bench.BrokerProcess(f"Ottla ({repo})", broker_argv(repo, workdir, port, memory, counting, uvloop), port,
                               workdir / f"ottla-{port}.log", cwd=repo)


_MAPPING = re.compile(r"^[0-9a-f]+-[0-9a-f]+ (\S+) \S+ \S+ \S+\s*(.*)$")  # an smaps mapping's header: permissions, path


def rss_by_kind(pid: int) -> dict[str, float]:
    """Idle RSS in MiB: anonymous and file-backed (/proc/PID/status), and each LIBRARIES entry's pages (smaps)."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("RssAnon:", "RssFile:")):
            out[line.split(":")[0]] = int(line.split()[1]) / 1024
    library = None
    sums = {name: 0 for name, _ in LIBRARIES} | {name + " text": 0 for name, _ in LIBRARIES}
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        mapping = _MAPPING.match(line)
        if mapping:
            library = next((name for name, parts in LIBRARIES if any(p in mapping.group(2) for p in parts)), None)
            text = mapping.group(1).startswith("r-x")
        elif line.startswith("Rss:") and library is not None:
            sums[library] += int(line.split()[1])
            if text:
                sums[library + " text"] += int(line.split()[1])
    out.update({name: kib / 1024 for name, kib in sums.items()})
    return out


def main_thread_ns(pid: int) -> int:
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


def process_cpu_ms(pid: int) -> float:
    """CPU time of every thread of the process so far, ns-precise (/proc/PID/task/*/schedstat)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError):
            pass  # a thread that just ended
    return total / 1e6


class Raw:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection((bench.HOST, port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.correlation_id = 0

    def request(self, api_key: int, version: int, body: dict):
        self.correlation_id += 1
        payload = encode_request_header(api_key, version, self.correlation_id, "bench-startup")
        payload += encode(APIS[api_key].request, version, body)
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)
        size = struct.unpack(">i", bench.recv_exact(self.sock, 4))[0]
        frame = bench.recv_exact(self.sock, size)
        return decode(APIS[api_key].response, version, frame, response_header_size(api_key, version))


def produce(raw: Raw):
    batch = build_batch([(None, b"v" * 100, [], int(time.time() * 1000))])
    response = raw.request(0, 9, {"transactional_id": None, "acks": -1, "timeout_ms": 5000, "topic_data": [
        {"name": TOPIC, "partition_data": [{"index": 0, "records": batch}]}]})
    assert response.responses[0].partition_responses[0].error_code == 0, response
    return response


def fetch(raw: Raw):
    response = raw.request(1, 12, {"replica_id": -1, "max_wait_ms": 0, "min_bytes": 1, "max_bytes": 1 << 20,
                                   "isolation_level": 0, "session_id": 0, "session_epoch": -1, "topics": [
                                       {"topic": TOPIC, "partitions": [{"partition": 0, "fetch_offset": 0,
                                                                        "current_leader_epoch": -1,
                                                                        "log_start_offset": -1,
                                                                        "partition_max_bytes": 1 << 20}]}]})
    assert response.responses[0].partitions[0].error_code == 0 and response.responses[0].partitions[0].records
    return response


def join_group(group: str):
    def send(raw: Raw):
        response = raw.request(11, 5, {"group_id": group, "session_timeout_ms": 10000, "rebalance_timeout_ms": 10000,
                                       "member_id": "", "group_instance_id": None, "protocol_type": "consumer",
                                       "protocols": [{"name": "range", "metadata": b""}]})
        assert response.error_code == 79, response  # MEMBER_ID_REQUIRED: the first step of a v4+ join
        return response
    return send


def first_requests(port: int, pid: int) -> list[tuple[str, float, float]]:
    """(what, round trip ms, broker main-thread CPU ms) of the first and second of each request."""
    raw = Raw(port)
    out = []
    for name, first, second in (("Produce", produce, produce), ("Fetch", fetch, fetch),
                                ("JoinGroup", join_group("bench-startup-a"), join_group("bench-startup-b"))):
        for which, send in (("first", first), ("second", second)):
            cpu, started = main_thread_ns(pid), time.perf_counter()
            send(raw)
            out.append((f"{which} {name}", (time.perf_counter() - started) * 1000, (main_thread_ns(pid) - cpu) / 1e6))
    raw.sock.close()
    return out


def imported_at_first_metadata(repo: Path, workdir: Path, memory: bool) -> tuple[int, list[str], list[str], bool, dict]:
    """len(sys.modules) of a broker that has answered its first Metadata, the HEAVY ones among them, the ones bound
    but not run (gateway/deferred_imports.py), whether ssl (OpenSSL) is loaded, and the generated methods' code its
    start took from gateway/generated_code.py's file or compiled ({} for a checkout without it)."""
    path = workdir / "modules.txt"
    os.environ["OTTLA_MODULES_FILE"] = str(path)
    broker = start(repo, workdir, memory, counting=True)
    try:
        broker.start(30.0)
        os.kill(broker.proc.pid, signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        listed = path.read_text().split()
        path.unlink()
    finally:
        broker.stop()
        del os.environ["OTTLA_MODULES_FILE"]
    deferred = sorted(n.split(":", 1)[1] for n in listed if n.startswith("deferred:"))
    generated = dict(n.split(":", 1)[1].split("=") for n in listed if n.startswith("generated:"))
    names = {n for n in listed if not n.startswith(("deferred:", "generated:"))}
    return len(names) + len(deferred), [h for h in HEAVY if h in names], deferred, "_ssl" in names, generated


def spread(values: list[float], digits: int = 1) -> str:
    return f"{statistics.median(values):.{digits}f} [{min(values):.{digits}f}-{max(values):.{digits}f}]"


def measure(args: argparse.Namespace) -> list[tuple[str, str, float | None, str | None]]:
    repos = [REPO] + ([Path(args.startup_repo).resolve()] if args.startup_repo else [])
    # (label, checkout, with uvloop): alternated A B (C) A B (C) ...
    starts = [(repo, repo, True) for repo in repos]
    if getattr(args, "startup_asyncio_loop", False):
        starts.append(("asyncio's loop", REPO, False))
    kinds = ("RssAnon", "RssFile", *(name for name, _ in LIBRARIES), *(name + " text" for name, _ in LIBRARIES))
    figures: dict = {label: {"startup": [], "cpu": [], "rss": [], "ready": [], **{p: [] for p in PHASES},
                             **{k: [] for k in kinds}} for label, _, _ in starts}
    extra: dict[Path, dict] = {}
    loads = []
    with tempfile.TemporaryDirectory(prefix="ottla-startup-") as tmp:
        workdir = Path(tmp)
        for repo in repos:  # untimed: bytecode and gateway/generated_code.py's file written, as for any later start
            broker = start(repo, workdir, args.memory)
            broker.env["PYTHONDONTWRITEBYTECODE"] = ""  # empty: unset (CI and these machines set it)
            try:
                broker.start(30.0)
            finally:
                broker.stop()
        for _ in range(args.startups):
            for label, repo, uvloop in starts:
                loads.append(os.getloadavg()[0])
                broker = start(repo, workdir, args.memory, uvloop=uvloop)
                f = figures[label]
                try:
                    f["startup"].append(broker.start(30.0))
                    f["cpu"].append(process_cpu_ms(broker.proc.pid))
                    if broker.ready_line_ms is not None:
                        f["ready"].append(broker.ready_line_ms)
                    time.sleep(args.settle)
                    f["rss"].append(broker.status_kib("VmRSS") / 1024)
                    for kind, mib in rss_by_kind(broker.proc.pid).items():
                        f[kind].append(mib)
                    ready = broker.log_path.read_text(errors="replace")
                    for phase in PHASES:  # absent from an older checkout's ready line
                        match = re.search(rf"\b{phase}=([\d.]+)", ready)
                        if match:
                            f[phase].append(float(match.group(1)))
                finally:
                    broker.stop()
        for repo in repos:
            count, heavy, deferred, ssl_loaded, generated = imported_at_first_metadata(repo, workdir, args.memory)
            broker = start(repo, workdir, args.memory)
            try:
                broker.start(30.0)
                requests = first_requests(broker.port, broker.proc.pid)
            finally:
                broker.stop()
            extra[repo] = {"modules": count, "heavy": heavy, "deferred": deferred, "ssl": ssl_loaded,
                           "requests": requests, "generated": generated}
    rows = []
    for label, repo, uvloop in starts:
        if len(starts) == 1:
            tag = ""
        elif not uvloop:
            tag = " (this checkout, asyncio's loop: uvloop not importable)"
        else:
            tag = f" ({'this checkout' if repo == REPO else repo})"
        f = figures[label]
        rows.append((f"start-up{tag}", f"start-up to first Metadata, ms, median of {args.startups}",
                     statistics.median(f["startup"]), f"range {min(f['startup']):.0f}-{max(f['startup']):.0f}"))
        rows.append((f"start-up{tag}", "broker CPU to first Metadata (all threads), ms, median", statistics.median(f["cpu"]),
                     f"range {min(f['cpu']):.0f}-{max(f['cpu']):.0f}"))
        if f["ready"]:
            rows.append((f"start-up{tag}", "start-up to its 'ready' line, ms, median", statistics.median(f["ready"]),
                         None))
        for phase, what in zip(PHASES, ("Server.start() to bound listeners", "of it: RocksDB open (import + open)",
                                        "of it: broker state (topics, configs) loaded", "of it: listeners bound")):
            if f[phase]:
                rows.append((f"start-up{tag}", f"{what}, ms, median", statistics.median(f[phase]),
                             f"range {min(f[phase]):.1f}-{max(f[phase]):.1f}"))
        rows.append((f"start-up{tag}", f"idle RSS after {args.settle:g} s, MiB, median", statistics.median(f["rss"]),
                     f"range {min(f['rss']):.1f}-{max(f['rss']):.1f}"))
        for kind, what in (("RssAnon", "anonymous"), ("RssFile", "file-backed"),
                           *((name, f"pages of {name}") for name, _ in LIBRARIES)):
            if f[kind]:
                note = "/proc/PID/status" if kind in ("RssAnon", "RssFile") else \
                    f"of it executable text (r-xp) {statistics.median(f[kind + ' text']):.2f} (smaps Rss)"
                rows.append((f"start-up{tag}", f"of idle RSS: {what}, MiB, median", statistics.median(f[kind]), note))
        if not uvloop:
            continue
        e = extra[repo]
        rows.append((f"start-up{tag}", "modules imported by the first Metadata, count", e["modules"],
                     "heavy ones loaded: " + (", ".join(e["heavy"]) or "none") + "; bound, not run: " +
                     (", ".join(e["deferred"]) or "none") + "; ssl (OpenSSL) " +
                     ("loaded" if e["ssl"] else "not loaded (no TLS listener: gateway/no_tls.py)")))
        if e["generated"]:
            rows.append((f"start-up{tag}", "dataclass/namedtuple methods' code taken from the file, count",
                         float(e["generated"]["taken"]), f"compiled: {e['generated']['compiled']} "
                         "(gateway/generated_code.py; a start after a changed class compiles its methods once)"))
        for what, wall_ms, cpu_ms in e["requests"]:
            rows.append((f"start-up{tag}", f"{what}: round trip, ms", wall_ms, None))
            rows.append((f"start-up{tag}", f"{what}: broker CPU per request (main thread), ms", cpu_ms, None))
    rows.append(("start-up", "load average (1 min) during the start-ups, median", statistics.median(loads),
                 f"range {min(loads):.2f}-{max(loads):.2f}"))
    return rows


def add_arguments(p) -> None:
    p.add_argument("--startups", type=int, default=5, help="start-ups per checkout (default %(default)s)")
    p.add_argument("--startup-repo", metavar="PATH", help="alternate each start-up with this checkout's broker (A/B)")
    p.add_argument("--startup-asyncio-loop", action="store_true", help="also alternate start-ups of this checkout "
                   "without uvloop (asyncio's own loop): start-up, CPU and idle RSS")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    p.add_argument("--repo", dest="startup_repo", help=argparse.SUPPRESS)
    p.add_argument("--memory", action="store_true", help="start with --memory (no RocksDB)")
    p.add_argument("--settle", type=float, default=1.0, help="idle seconds after start-up before reading RSS")
    args = p.parse_args(argv)
    print(f"load average at start: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    rows = measure(args)
    print(f"load average at end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print("| what | figure | value | note |\n|---|---|---:|---|")
    for what, metric, value, note in rows:
        print(f"| {what} | {metric} | {value:,.2f} | {note or ''} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What authorization costs: the ACL check per request with 0 and 10,000 ACLs (in-process: the
authorizer's decision, and a whole Produce handled with no authorizer, 0 ACLs and 10,000 ACLs), and
produce MB/s and broker CPU seconds per MB with the authorizer off and on (10,000 ACLs, the producer
allowed by one of them), brokers started fresh each round, the variants interleaved, medians reported.

    python scripts/bench_acl.py [--records 200000] [--record-size 1024] [--rounds 3] [--memory]
    python scripts/bench.py --acl ...      # the same, after the main phases

The issue's bound: the check must not grow with the number of ACLs (10,000 within noise of 0).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from bench_metrics import _cpu, _start as _start_broker, produce_records  # noqa: E402

ACLS = 10_000
PRINCIPAL = "User:ANONYMOUS"  # PLAINTEXT connections: what the ACLs name


def many_acls(n: int, topic: str) -> list:
    """n bindings on other resources (literal, prefixed, other principals) plus WRITE on `topic`."""
    from gateway.security.acls import AclBinding, Operation as Op, PatternType as P, Permission as Perm, \
        ResourceType as R
    out = [AclBinding(R.TOPIC, topic, P.LITERAL, PRINCIPAL, "*", Op.WRITE, Perm.ALLOW)]
    for i in range(n - 1):
        kind = i % 4
        if kind == 0:
            out.append(AclBinding(R.TOPIC, f"other-{i}", P.LITERAL, PRINCIPAL, "*", Op.READ, Perm.ALLOW))
        elif kind == 1:
            out.append(AclBinding(R.TOPIC, f"team{i}-", P.PREFIXED, PRINCIPAL, "*", Op.WRITE, Perm.ALLOW))
        elif kind == 2:
            out.append(AclBinding(R.GROUP, f"group-{i}", P.LITERAL, PRINCIPAL, "*", Op.READ, Perm.ALLOW))
        else:
            out.append(AclBinding(R.TOPIC, topic, P.LITERAL, f"User:u{i}", "*", Op.WRITE, Perm.ALLOW))
    return out


def check_cost(n_checks: int = 100_000) -> list[tuple[str, str, float]]:
    from gateway.security.acls import AclStore, Operation as Op, ResourceType as R
    from gateway.security.authorizer import Authorizer

    rows = []
    for n in (0, 1_000, ACLS, 100_000):
        store = AclStore()
        store.add(many_acls(n, "bench-acl") if n else [])
        authorizer = Authorizer(store)
        best = []
        for _ in range(5):  # the best of 5: the machine is shared
            t0 = time.perf_counter_ns()
            for _ in range(n_checks):
                authorizer.authorize(PRINCIPAL, "127.0.0.1", Op.WRITE, R.TOPIC, "bench-acl")
            best.append((time.perf_counter_ns() - t0) / n_checks)
        rows.append((f"ACL check (authorize, TOPIC WRITE), {n} ACLs", "ns, best of 5", min(best)))
    return rows


def produce_handler_cost(n_requests: int = 10_000) -> list[tuple[str, str, float]]:
    """One Produce of one small batch, handled in-process (decode + handler + encode)."""
    import structlog

    from gateway import handlers  # noqa: F401
    from gateway.registry import RequestContext, lookup
    from tests.gateway.inprocess import new_broker
    from wire.codec import decode, encode
    from wire.records import build_batch

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    rows = []
    batch = build_batch([(None, b"v" * 100, [], 1)])
    body = {"transactional_id": None, "acks": 1, "timeout_ms": 1000,
            "topic_data": [{"name": "bench-acl", "partition_data": [{"index": 0, "records": batch}]}]}
    reg = lookup(0, 9)
    raw = encode(reg.api.request, 9, body)
    variants = (("no authorizer", {}, 0), ("authorizer, 0 ACLs", {"authorizer": True}, 0),
                (f"authorizer, {ACLS} ACLs", {"authorizer": True}, ACLS))
    for passno, (label, config, acls) in enumerate(variants * 2):  # the first pass warms up, the second counts
        broker = new_broker(**config)
        broker.logs.create_topic("bench-acl", 1)
        if broker.authorizer is not None:
            broker.authorizer.acls.add(many_acls(acls, "bench-acl") if acls else [])
            if not acls:
                broker.authorizer.allow_everyone_if_no_acl_found = True

        async def run():
            ctx = RequestContext(broker, 0, 9, 1, "bench", structlog.get_logger(), peer="127.0.0.1:1")
            best = []
            for _ in range(3):
                t0 = time.perf_counter_ns()
                for _ in range(n_requests):
                    response = await reg.handler(ctx, decode(reg.api.request, 9, raw))
                    encode(reg.api.response, 9, response)
                best.append((time.perf_counter_ns() - t0) / n_requests)
            return min(best)
        cost = asyncio.run(run()) / 1000
        if passno >= len(variants):
            rows.append((f"Produce handled in-process, {label}", "us, best of 3", cost))
    return rows


def _start(workdir: Path, authorizer: bool, memory: bool):
    return _start_broker(workdir, None, memory, ("--authorizer", "--allow-everyone-if-no-acl-found") if authorizer else ())


def _grant(bootstrap: str, bindings) -> None:
    """CreateAcls straight on the wire (PLAINTEXT is ANONYMOUS: the broker's ACLs are added before)."""
    from tests.gateway.rawclient import RawClient

    host, _, port = bootstrap.rpartition(":")
    raw = RawClient((host, int(port)), timeout=60)
    try:
        for start in range(0, len(bindings), 1000):
            response = raw.request(30, 3, {"creations": [
                {"resource_type": b.resource_type, "resource_name": b.resource_name,
                 "resource_pattern_type": b.pattern_type, "principal": b.principal, "host": b.host,
                 "operation": b.operation, "permission_type": b.permission} for b in bindings[start:start + 1000]]})
            assert all(r.error_code == 0 for r in response.results), response.results[:1]
    finally:
        raw.close()


def one_round(authorizer: bool, args) -> dict[str, float]:
    from confluent_kafka.admin import AdminClient, NewTopic

    with tempfile.TemporaryDirectory(prefix="ottla-bench-acl-") as tmp:
        proc, bootstrap = _start(Path(tmp), authorizer, args.memory)
        try:
            if authorizer:  # no ACL covers the cluster yet, so ANONYMOUS may ALTER it (allow.everyone)
                from gateway.security.acls import AclBinding, Operation as Op, PatternType as P, \
                    Permission as Perm, ResourceType as R
                _grant(bootstrap, [AclBinding(R.CLUSTER, "kafka-cluster", P.LITERAL, PRINCIPAL, "*", Op.ALL,
                                              Perm.ALLOW)] + many_acls(ACLS, "bench-acl"))
            admin = AdminClient({"bootstrap.servers": bootstrap})
            for future in admin.create_topics([NewTopic("bench-acl", 1, 1)]).values():
                future.result(30)
            value = os.urandom(args.record_size)
            mb = args.records * args.record_size / 1e6
            cpu0, t0 = _cpu(proc.pid), time.perf_counter()
            producer = produce_records(bootstrap, "bench-acl", args.records, value)
            assert producer.flush(120) == 0
            seconds, cpu = time.perf_counter() - t0, _cpu(proc.pid) - cpu0
            return {"produce MB/s": mb / seconds, "produce broker CPU s/MB": cpu / mb}
        finally:
            proc.terminate()
            proc.wait(15)


def measure(args) -> list[tuple[str, str, float]]:
    rows = check_cost() + produce_handler_cost()
    runs: dict[bool, list[dict]] = {False: [], True: []}
    for _ in range(args.rounds):
        for on in (False, True):
            runs[on].append(one_round(on, args))
    for figure in ("produce MB/s", "produce broker CPU s/MB"):
        off = statistics.median(r[figure] for r in runs[False])
        on = statistics.median(r[figure] for r in runs[True])
        rows += [(f"authorizer off: {figure}", "median", off), (f"authorizer on, {ACLS} ACLs: {figure}", "median", on),
                 (f"authorizer on/off: {figure}", "ratio", on / off if off else float("nan"))]
    return rows


def table(rows) -> str:
    lines = ["| ACLs and authorization | unit | value |", "|---|---|---|"]
    lines += [f"| {name} | {unit} | {value:.4g} |" for name, unit, value in rows]
    return "\n".join(lines) + f"\n\nload average at the end: {open('/proc/loadavg').read().split()[:3]}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=200_000)
    p.add_argument("--record-size", type=int, default=1024)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--memory", action="store_true")
    print(table(measure(p.parse_args(argv))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

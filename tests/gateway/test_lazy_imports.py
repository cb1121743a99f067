"""`ottla serve` with no feature flags imports only what serving needs: no heavy library and no
coordinator or handler before the first request that needs it (gateway/handlers TABLE, the Broker's
lazily built coordinators). Run in a fresh interpreter: the test process has imported everything."""

from __future__ import annotations

import json
import subprocess
import sys

from gateway import broker

HEAVY = ["aiohttp", "cryptography", "prometheus_client", "confluent_kafka", "jinja2", "re2", "cramjam",
         "gateway.trace", "gateway.report",
         "gateway.http", "gateway.metrics", "gateway.metrics_collector", "gateway.security.sasl",
         "gateway.security.tls", "gateway.security.scram", "gateway.security.oauthbearer",
         "gateway.security.credentials", "gateway.groups.coordinator", "gateway.groups.kip848.coordinator",
         "gateway.txn.coordinator",
         "gateway.share.coordinator", "gateway.share.manager", "gateway.handlers.produce", "gateway.handlers.fetch",
         "gateway.handlers.group_membership", "gateway.handlers.txn_coordinator", "gateway.handlers.share_fetch",
         "gateway.security.acls"]

CHILD = r'''
import asyncio, json, struct, sys
from gateway.cli import parser, serve_config
from gateway.logs import configure
from gateway.server import Server

HEAVY = json.loads(sys.argv[2])
argv = ["serve", "--port", "0", "--data-dir", sys.argv[1], "--log-level", "warning"]
config = serve_config(parser(tools=False).parse_args(argv), argv)
configure(config.log_level, config.log_format)
loaded = lambda: sorted(h for h in HEAVY if h in sys.modules)
report = {"at_start": loaded()}


def frame(api_key, version, correlation_id, body):
    payload = struct.pack(">hhih", api_key, version, correlation_id, 4) + b"test" + body
    return struct.pack(">i", len(payload)) + payload


async def main():
    server = Server(config)
    await server.start()
    reader, writer = await asyncio.open_connection(server.broker.host, server.broker.port)

    async def call(data):
        writer.write(data)
        size = struct.unpack(">i", await reader.readexactly(4))[0]
        return await reader.readexactly(size)

    answer = await call(frame(18, 0, 1, b""))  # ApiVersions v0
    report["api_versions_error"] = struct.unpack_from(">h", answer, 4)[0]
    answer = await call(frame(3, 1, 2, struct.pack(">i", -1)))  # Metadata v1, every topic
    report["metadata_brokers"] = struct.unpack_from(">i", answer, 4)[0]
    report["at_metadata"] = loaded()
    from wire.codec import decode, encode
    from wire.messages import APIS
    from wire.records import build_batch
    body = encode(APIS[0].request, 3, {"transactional_id": None, "acks": -1, "timeout_ms": 5000, "topic_data": [
        {"name": "lazy", "partition_data": [{"index": 0, "records": build_batch([(None, b"v", [], 1)])}]}]})
    produced = decode(APIS[0].response, 3, await call(frame(0, 3, 3, body)), 4)
    report["produce_error"] = produced.responses[0].partition_responses[0].error_code
    report["after_produce"] = loaded()
    body = encode(APIS[11].request, 5, {"group_id": "g", "session_timeout_ms": 10000, "rebalance_timeout_ms": 10000,
                                        "member_id": "", "protocol_type": "consumer",
                                        "protocols": [{"name": "range", "metadata": b""}]})
    joined = decode(APIS[11].response, 5, await call(frame(11, 5, 4, body)), 4)
    report["join_error"] = joined.error_code
    report["after_join"] = loaded()
    writer.close()
    server.stop()
    await server.shutdown()

asyncio.run(main())
print(json.dumps(report))
'''


def test_serve_imports_heavy_modules_only_when_a_request_needs_them(tmp_path):
    out = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "data"), json.dumps(HEAVY)], check=True,
                         capture_output=True, text=True, timeout=120).stdout
    report = json.loads(out.strip().splitlines()[-1])
    assert report["api_versions_error"] == 0 and report["metadata_brokers"] == 1
    assert report["at_start"] == [] and report["at_metadata"] == []
    assert report["produce_error"] == 0
    assert report["after_produce"] == ["gateway.handlers.produce"]
    assert report["join_error"] == 79  # MEMBER_ID_REQUIRED: JoinGroup v4+'s first answer
    assert report["after_join"] == ["gateway.groups.coordinator", "gateway.handlers.group_membership",
                                    "gateway.handlers.produce"]


def test_state_prefixes_checked_at_start_are_the_coordinators_own():
    from gateway.groups.group_metadata import GROUP_METADATA_KEY
    from gateway.groups.offsets import METADATA_KEY, OFFSET_KEY
    from gateway.txn.offsets import PENDING_KEY
    from gateway.txn.state import TXN_KEY
    from partitions.keys import DLQ_REPLAYED, SHARE_PARTITION

    assert set(broker._GROUP_STATE) == {OFFSET_KEY, METADATA_KEY, GROUP_METADATA_KEY}
    assert set(broker._TXN_STATE) == {TXN_KEY, PENDING_KEY}
    assert set(broker._SHARE_STATE) == {SHARE_PARTITION, DLQ_REPLAYED}


# What `ottla serve` (its real entry point, gateway.cli.main) must not have imported by its first Metadata: pdb and
# what it imports (construct.debug's; gateway/deferred_imports.py binds pdb without running it), OpenSSL's
# _hashlib (construct.core's hashlib, likewise), shutil with zlib/bz2/lzma (argparse's HelpFormatter; gateway.cli's
# own finds the width without it), the ACL store and the authorizer (off without --authorizer; Metadata and the
# request guards name ACL codes from gateway.security.acl_codes), the fault records (gateway.faults.kinds: with the
# first fault) and the log cleaner (partitions.cleaner, wire.batch_rewrite: with the first compacted topic). Each
# of these was imported before.
NEVER_BY_FIRST_METADATA = ["bdb", "cmd", "code", "codeop", "_hashlib", "shutil", "bz2", "lzma",
                           "gateway.security.acls", "gateway.security.authorizer", "gateway.faults.kinds",
                           "partitions.cleaner", "wire.batch_rewrite"]

SERVE = r'''
import json, os, signal, socket, struct, sys, threading, time
from gateway.cli import main

port, never = int(sys.argv[2]), json.loads(sys.argv[3])
report = {}


def frame(api_key, version, correlation_id, body):
    payload = struct.pack(">hhih", api_key, version, correlation_id, 4) + b"test" + body
    return struct.pack(">i", len(payload)) + payload


def read(sock):
    head = b""
    while len(head) < 4:
        head += sock.recv(4 - len(head))
    size, data = struct.unpack(">i", head)[0], b""
    while len(data) < size:
        data += sock.recv(size - len(data))
    return data


def client():
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        sock.sendall(frame(18, 0, 1, b""))  # ApiVersions v0
        report["api_versions_error"] = struct.unpack_from(">h", read(sock), 4)[0]
        sock.sendall(frame(3, 1, 2, struct.pack(">i", -1)))  # Metadata v1, every topic
        report["metadata_brokers"] = struct.unpack_from(">i", read(sock), 4)[0]
        from gateway.deferred_imports import is_deferred
        report["loaded"] = sorted(m for m in never if m in sys.modules)
        report["deferred"] = sorted(m for m in ("pdb", "hashlib") if is_deferred(m))
        import hashlib  # first use: runs it, in the same module object construct.core holds
        report["sha256"] = hashlib.sha256(b"ottla").hexdigest()
        report["construct_holds_it"] = sys.modules["construct.core"].hashlib is hashlib
        report["after_use"] = sorted(m for m in ("pdb", "hashlib") if is_deferred(m))
        sock.close()
    finally:
        print(json.dumps(report), flush=True)
        os.kill(os.getpid(), signal.SIGTERM)


threading.Thread(target=client, daemon=True).start()
sys.exit(main(["serve", "--port", str(port), "--data-dir", sys.argv[1], "--log-level", "warning"]))
'''


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ottla_serve_leaves_pdb_hashlib_shutil_and_the_acl_store_unloaded_by_its_first_metadata(tmp_path):
    import hashlib

    out = subprocess.run([sys.executable, "-c", SERVE, str(tmp_path / "data"), str(_free_port()),
                          json.dumps(NEVER_BY_FIRST_METADATA)], capture_output=True, text=True, timeout=120)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert out.returncode == 0, out.stderr
    assert report["api_versions_error"] == 0 and report["metadata_brokers"] == 1
    assert report["loaded"] == []
    assert report["deferred"] == ["hashlib", "pdb"]
    assert report["sha256"] == hashlib.sha256(b"ottla").hexdigest()
    assert report["construct_holds_it"] is True
    assert report["after_use"] == ["pdb"]

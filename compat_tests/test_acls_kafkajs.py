"""ACLs through kafkajs' admin client (createAcls/describeAcls), enforced on a kafkajs producer
authenticated with SASL/PLAIN: a user without ACLs is refused (TOPIC_AUTHORIZATION_FAILED), WRITE on
the topic lets it produce; an acks=0 produce refused for WRITE gets its connection closed, as Kafka
closes it (the broker logs why). Ottla-started broker only (compat_tests/acl_broker.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from compat_tests.acl_broker import ADMIN, ALICE, acl_broker  # noqa: F401  (the module fixture)

JS_DIR = Path(__file__).parent / "js"
pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
    pytest.mark.skipif(not (JS_DIR / "node_modules" / "kafkajs").is_dir(),
                       reason="kafkajs is not installed: run `npm ci` in compat_tests/js"),
]


def node(script: str, broker, user, **params) -> tuple[int, dict]:
    """Run one kafkajs script as `user` over SASL_PLAINTEXT PLAIN: (exit code, its JSON result)."""
    params = {"bootstrap": broker.bootstrap, "sasl": {"mechanism": "plain", "username": user[0],
                                                      "password": user[1]}, **params}
    proc = subprocess.run(["node", script, json.dumps(params)], cwd=JS_DIR, capture_output=True, text=True,
                          timeout=60)
    lines = proc.stdout.strip().splitlines()
    return proc.returncode, (json.loads(lines[-1]) if lines else {"stderr": proc.stderr[-2000:]})


def produce(broker, user, topic: str, acks: int = -1):
    return node("produce.js", broker, user, topic=topic, acks=acks, retry={"retries": 0}, messages=[
        {"key": "k", "value": "v", "timestamp": int(time.time() * 1000), "headers": []}])


def test_a_user_without_acls_is_refused_and_write_lets_it_produce(acl_broker):
    topic = f"kafkajs-acl-{uuid.uuid4().hex[:8]}"
    code, created = node("admin.js", acl_broker, ADMIN, action="create", topic=topic)
    assert code == 0 and created["created"] is True, created
    code, refused = produce(acl_broker, ALICE, topic)
    # kafkajs' text for TOPIC_AUTHORIZATION_FAILED (wrapped in KafkaJSNonRetriableError: not retried)
    assert code != 0 and "Not authorized to access topics: [Topic authorization failed]" in refused["error"], refused

    write = {"resourceType": "TOPIC", "resourceName": topic, "resourcePatternType": "LITERAL",
             "principal": "User:alice", "host": "*", "operation": "WRITE", "permissionType": "ALLOW"}
    code, alice_grants = node("admin.js", acl_broker, ALICE, action="createAcls", acl=[write], filter=write)
    assert alice_grants.get("error") == "CLUSTER_AUTHORIZATION_FAILED", alice_grants  # needs CLUSTER ALTER
    code, described = node("admin.js", acl_broker, ADMIN, action="createAcls", acl=[write],
                           filter={**write, "operation": "ANY", "permissionType": "ANY"})
    assert code == 0 and "error" not in described, described
    (resource,) = described["resources"]
    assert resource["resourceName"] == topic
    assert [(a["principal"], a["operation"], a["permissionType"]) for a in resource["acls"]] == \
        [("User:alice", 4, 3)]  # WRITE, ALLOW

    code, produced = produce(acl_broker, ALICE, topic)
    assert code == 0, produced
    assert produced[0]["errorCode"] == 0 and produced[0]["baseOffset"] == "0", produced


def test_an_acks0_produce_refused_for_write_closes_the_connection(acl_broker):
    topic = f"kafkajs-acks0-{uuid.uuid4().hex[:8]}"
    assert node("admin.js", acl_broker, ADMIN, action="create", topic=topic)[0] == 0
    describe = {"resourceType": "TOPIC", "resourceName": topic, "resourcePatternType": "LITERAL",
                "principal": "User:alice", "host": "*", "operation": "DESCRIBE", "permissionType": "ALLOW"}
    assert node("admin.js", acl_broker, ADMIN, action="createAcls", acl=[describe], filter=describe)[0] == 0
    start = acl_broker.log_size()
    code, sent = produce(acl_broker, ALICE, topic, acks=0)  # Metadata allowed, the Produce refused: no answer
    assert code == 0, sent
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        closed = [line for line in acl_broker.log_text(start).splitlines()
                  if "produce_acks0_failed_connection_closed" in line and f"{topic}-0" in line]
        if closed:
            break
        time.sleep(0.2)
    assert closed, acl_broker.log_text(start)[-3000:]
    assert "User:alice" in closed[0] and "TOPIC_AUTHORIZATION_FAILED" in closed[0]
    code, watermarks = node("admin.js", acl_broker, ADMIN, action="offsets", topic=topic)
    assert code == 0 and watermarks[0]["high"] == "0", watermarks  # nothing appended

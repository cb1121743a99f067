"""`ottla acls ...` and `ottla users ...` as a user runs them.

ACLs need a broker with an authorizer: against Ottla a second broker of this module's own
(`--authorizer --super-user User:ANONYMOUS`, so this test may do everything); against KAFKA_BOOTSTRAP the
external broker, skipped when it has no authorizer (SECURITY_DISABLED). SCRAM users need the broker's
KIP-554 APIs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from compat_tests import samples
from compat_tests.cli import own_broker, ottla
from compat_tests.conftest import REPO, Broker


class AuthorizingBroker(Broker):
    def command(self) -> list[str]:
        return super().command() + ["--authorizer", "--super-user", "User:ANONYMOUS"]


def _serve_has(flag: str) -> bool:
    help_text = subprocess.run([sys.executable, "-m", "gateway", "serve", "--help"], cwd=REPO, capture_output=True,
                               text=True).stdout
    return flag in help_text


@pytest.fixture(scope="module")
def acl_bootstrap(broker, tmp_path_factory):
    if not broker.managed:
        probe = ottla(broker.bootstrap, "acls", "list")
        if "SECURITY_DISABLED" in probe.err:
            pytest.skip("the external broker has no authorizer")
        yield broker.bootstrap
        return
    if not _serve_has("--authorizer"):
        pytest.skip("this Ottla has no authorizer yet")
    with own_broker(tmp_path_factory, AuthorizingBroker, "ottla-acl") as bootstrap:
        yield bootstrap


def test_acls_create_list_delete(acl_bootstrap):
    topic = samples.unique_name("cli-acl")
    alice, bob = samples.unique_name("User:alice"), samples.unique_name("User:bob")
    created = ottla(acl_bootstrap, "acls", "create", "--allow-principal", alice, "--allow-principal", bob,
                    "--operation", "Read", "--operation", "DescribeConfigs", "--topic", topic)
    assert created.code == 0, created.err
    assert sum(line.endswith("created") for line in created.out.splitlines()) == 4
    denied = ottla(acl_bootstrap, "acls", "create", "--deny-principal", alice, "--operation", "Write",
                   "--topic", topic[:-3], "--resource-pattern-type", "prefixed", "--host", "10.0.0.1")
    assert denied.code == 0, denied.err
    cluster = ottla(acl_bootstrap, "acls", "create", "--allow-principal", alice, "--operation", "IdempotentWrite",
                    "--cluster")
    assert cluster.code == 0, cluster.err

    mine = ottla(acl_bootstrap, "acls", "list", "--principal", alice, json_output=True)
    assert mine.code == 0, mine.err
    assert sorted((r["resource_type"], r["name"], r["pattern"], r["operation"], r["permission"], r["host"])
                  for r in mine.json()) == sorted([
        ("CLUSTER", "kafka-cluster", "LITERAL", "IDEMPOTENT_WRITE", "ALLOW", "*"),
        ("TOPIC", topic, "LITERAL", "DESCRIBE_CONFIGS", "ALLOW", "*"),
        ("TOPIC", topic, "LITERAL", "READ", "ALLOW", "*"),
        ("TOPIC", topic[:-3], "PREFIXED", "WRITE", "DENY", "10.0.0.1")])
    matching = ottla(acl_bootstrap, "acls", "list", "--topic", topic, "--resource-pattern-type", "match",
                     json_output=True).json()
    assert {(r["principal"], r["pattern"]) for r in matching} == {(alice, "LITERAL"), (bob, "LITERAL"),
                                                                  (alice, "PREFIXED")}
    table = ottla(acl_bootstrap, "acls", "list", "--principal", bob).out.splitlines()
    assert table[0].split() == ["PRINCIPAL", "HOST", "OPERATION", "PERMISSION", "RESOURCE-TYPE", "NAME", "PATTERN"]
    assert len(table) == 3

    gone = ottla(acl_bootstrap, "acls", "delete", "--principal", bob, json_output=True)
    assert gone.code == 0 and len(gone.json()) == 2
    assert ottla(acl_bootstrap, "acls", "list", "--principal", bob, json_output=True).json() == []
    assert ottla(acl_bootstrap, "acls", "delete", "--principal", alice).code == 0
    assert ottla(acl_bootstrap, "acls", "list", "--principal", alice, json_output=True).json() == []

    bad = ottla(acl_bootstrap, "acls", "create", "--allow-principal", "alice", "--operation", "Read", "--topic", topic)
    assert bad.code == 1 and "INVALID_REQUEST" in bad.err
    assert ottla(acl_bootstrap, "acls", "create", "--allow-principal", alice, "--operation", "Fly",
                 "--topic", topic).code == 2


def test_scram_users(bootstrap):
    probe = ottla(bootstrap, "users", "list")
    if "UNSUPPORTED" in probe.err:
        pytest.skip("the broker has no DescribeUserScramCredentials (KIP-554)")
    user = samples.unique_name("cli-user")
    made = ottla(bootstrap, "users", "create", user, "--password", "s3cret")
    assert made.code == 0, made.err
    stronger = ottla(bootstrap, "users", "create", user, "--mechanism", "SCRAM-SHA-512", "--iterations", "8192",
                     stdin="another secret\n")
    assert stronger.code == 0, stronger.err
    listed = ottla(bootstrap, "users", "list", user, json_output=True)
    assert listed.code == 0, listed.err
    assert sorted((r["mechanism"], r["iterations"]) for r in listed.json()) == [("SCRAM-SHA-256", 4096),
                                                                               ("SCRAM-SHA-512", 8192)]
    assert any(r["user"] == user for r in ottla(bootstrap, "users", "list", json_output=True).json())
    assert ottla(bootstrap, "users", "delete", user, "--mechanism", "SCRAM-SHA-512").code == 0
    assert [r["mechanism"] for r in ottla(bootstrap, "users", "list", user, json_output=True).json()] == \
        ["SCRAM-SHA-256"]
    assert ottla(bootstrap, "users", "delete", user).code == 0
    missing = ottla(bootstrap, "users", "list", user)
    assert missing.code == 4 and "RESOURCE_NOT_FOUND" in missing.err
    assert ottla(bootstrap, "users", "create", user, "--password", "x", "--iterations", "10").code == 2


class SaslBroker(Broker):
    """Ottla with one SASL_PLAINTEXT listener (no PLAINTEXT one) and the user alice."""

    def command(self) -> list[str]:
        argv, plain = super().command(), []
        skip = False
        for arg in argv:
            if skip:
                skip = False
            elif arg in ("--host", "--port"):
                skip = True
            else:
                plain.append(arg)
        return plain + ["--listener", f"SASL_PLAINTEXT://{self.host}:{self.port}", "--user", "alice:s3cret"]


@pytest.fixture(scope="module")
def sasl_bootstrap(broker, tmp_path_factory):
    if not broker.managed:
        pytest.skip("the credentials of an external broker are not known here")
    if not _serve_has("--user"):
        pytest.skip("this Ottla has no SASL listeners yet")
    with own_broker(tmp_path_factory, SaslBroker, "ottla-sasl") as bootstrap:
        yield bootstrap


def _client_properties(path, mechanism: str, password: str) -> str:
    module = "plain.PlainLoginModule" if mechanism == "PLAIN" else "scram.ScramLoginModule"
    path.write_text("security.protocol=SASL_PLAINTEXT\n"
                    f"sasl.mechanism={mechanism}\n"
                    f"sasl.jaas.config=org.apache.kafka.common.security.{module} required \\\n"
                    f'    username="alice" password="{password}";\n')
    return str(path)


def test_command_config_logs_in_with_sasl(sasl_bootstrap, tmp_path):
    topic = samples.unique_name("cli-sasl")
    for mechanism in ("PLAIN", "SCRAM-SHA-256"):
        good = _client_properties(tmp_path / f"{mechanism}.properties", mechanism, "s3cret")
        created = ottla(sasl_bootstrap, "topics", "create", f"{topic}-{mechanism}", "--command-config", good)
        assert created.code == 0, created.err
        assert ottla(sasl_bootstrap, "produce", f"{topic}-{mechanism}", "--command-config", good,
                     stdin="one\ntwo\n").code == 0
        read = ottla(sasl_bootstrap, "consume", f"{topic}-{mechanism}", "--from-beginning", "--to-end",
                     "--command-config", good)
        assert read.code == 0 and read.out == "one\ntwo\n", read.err
        txns = ottla(sasl_bootstrap, "transactions", "list", "--command-config", good)  # kafka-python, SASL too
        assert txns.code == 0, txns.err
    bad = _client_properties(tmp_path / "bad.properties", "SCRAM-SHA-256", "wrong")
    refused = ottla(sasl_bootstrap, "topics", "list", "--command-config", bad, "--timeout", "5")
    assert refused.code == 5 and refused.err.startswith("ottla: _AUTHENTICATION"), refused.err
    assert ottla(sasl_bootstrap, "share-groups", "list", "--command-config", good).code == 2  # PLAINTEXT only

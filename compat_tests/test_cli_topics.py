"""`ottla topics ...` as a user runs it, against Ottla or any broker (KAFKA_BOOTSTRAP)."""

from __future__ import annotations

from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType

from compat_tests import samples
from compat_tests.cli import ottla


def described_configs(bootstrap, topic):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.describe_configs([ConfigResource(ResourceType.TOPIC, topic)])
    return {k: v.value for k, v in next(iter(futures.values())).result(timeout=30).items()}


def test_create_list_describe_alter_delete(bootstrap):
    name = samples.unique_name("cli-topics")
    created = ottla(bootstrap, "topics", "create", name, "--partitions", "3", "--config", "retention.ms=3600000")
    assert created.code == 0, created.err
    assert created.out.split("\n")[1].split() == [name, "created"]

    again = ottla(bootstrap, "topics", "create", name, "--partitions", "3")
    assert again.code == 1 and "TOPIC_ALREADY_EXISTS" in again.out
    assert ottla(bootstrap, "topics", "create", name, "--if-not-exists").code == 0

    listed = ottla(bootstrap, "topics", "list", json_output=True)
    assert listed.code == 0
    row = next(t for t in listed.json() if t["name"] == name)
    assert row["partitions"] == 3 and row["replication_factor"] >= 1
    table = ottla(bootstrap, "topics", "list")
    assert table.out.splitlines()[0].split() == ["NAME", "PARTITIONS", "REPLICATION-FACTOR"]
    assert [line.split()[1] for line in table.out.splitlines() if line.split()[0] == name] == ["3"]

    described = ottla(bootstrap, "topics", "describe", name, json_output=True)
    assert described.code == 0, described.err
    (topic,) = described.json()
    assert [p["partition"] for p in topic["partitions"]] == [0, 1, 2]
    assert topic["configs"]["retention.ms"] == "3600000"
    assert all(p["low"] == 0 and p["high"] == 0 for p in topic["partitions"])

    altered = ottla(bootstrap, "topics", "alter", name, "--partitions", "5", "--config", "retention.ms=7200000",
                    "--config", "cleanup.policy=compact")
    assert altered.code == 0, altered.err
    configs = described_configs(bootstrap, name)
    assert configs["retention.ms"] == "7200000" and configs["cleanup.policy"] == "compact"
    assert len(ottla(bootstrap, "topics", "describe", name, json_output=True).json()[0]["partitions"]) == 5
    assert ottla(bootstrap, "topics", "alter", name, "--delete-config", "cleanup.policy").code == 0
    assert described_configs(bootstrap, name)["cleanup.policy"] == "delete"

    deleted = ottla(bootstrap, "topics", "delete", name)
    assert deleted.code == 0, deleted.err
    missing = ottla(bootstrap, "topics", "describe", name)
    assert missing.code == 4 and missing.err.startswith("ottla: UNKNOWN_TOPIC_OR_PARTITION")
    assert ottla(bootstrap, "topics", "delete", name).code == 4
    assert ottla(bootstrap, "topics", "delete", name, "--if-exists").code == 0


def test_command_config_file_in_kafkas_client_format(bootstrap, tmp_path):
    """bootstrap.servers and client settings from a Kafka client properties file, no --bootstrap-server."""
    import os
    import subprocess
    import sys

    config = tmp_path / "client.properties"
    config.write_text(f"# Kafka client settings\nbootstrap.servers={bootstrap}\nclient.id=ottla-cli-test\n"
                      "key.deserializer=org.apache.kafka.common.serialization.StringDeserializer\n"
                      "request.timeout.ms=20000\n")
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    run = subprocess.run([sys.executable, "-m", "gateway", "topics", "list", "--command-config", str(config),
                          "--output", "json"], capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 0, run.stderr
    assert isinstance(run.stdout and __import__("json").loads(run.stdout), list)
    env["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
    assert subprocess.run([sys.executable, "-m", "gateway", "topics", "list"], capture_output=True, env=env,
                          timeout=60).returncode == 0
    missing = subprocess.run([sys.executable, "-m", "gateway", "topics", "list", "--command-config",
                              str(tmp_path / "absent")], capture_output=True, text=True, env=env, timeout=60)
    assert missing.returncode == 2 and missing.stderr.startswith("ottla: cannot read --command-config")

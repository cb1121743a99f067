"""`ottla groups ...` and `ottla configs ...` as a user runs them, against the groups real consumers leave."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

from compat_tests import samples, topics
from compat_tests.cli import ottla

pytestmark = pytest.mark.groups
DEADLINE_S = 45


def consumer(bootstrap, group):
    return Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                     "enable.auto.commit": False, "session.timeout.ms": 10_000})


def consume_and_commit(bootstrap, topic, group, count):
    """A real group member reads `count` records, commits after them, and leaves; the offsets it read."""
    c = consumer(bootstrap, group)
    c.subscribe([topic])
    seen = []
    deadline = time.monotonic() + DEADLINE_S
    try:
        while len(seen) < count and time.monotonic() < deadline:
            m = c.poll(1.0)
            if m is not None and m.error() is None:
                seen.append(m.offset())
                if len(seen) == count:
                    c.commit(message=m, asynchronous=False)
    finally:
        c.close()
    assert len(seen) == count
    return seen


def committed(bootstrap, group):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    answer = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result(30)
    return {(tp.topic, tp.partition): tp.offset for tp in answer.topic_partitions if tp.offset >= 0}


@pytest.fixture
def loaded(bootstrap):
    topic = samples.unique_name("cli-groups")
    topics.create_topic(bootstrap, topic, partitions=1)
    assert ottla(bootstrap, "produce", topic, stdin="\n".join(f"r{i}" for i in range(30))).code == 0
    return topic


def test_describe_shows_the_lag_a_real_group_left(bootstrap, loaded):
    group = samples.unique_name("cli-group")
    consume_and_commit(bootstrap, loaded, group, 10)
    listed = ottla(bootstrap, "groups", "list", json_output=True)
    assert listed.code == 0, listed.err
    assert [g["state"] for g in listed.json() if g["group"] == group] == ["EMPTY"]
    described = ottla(bootstrap, "groups", "describe", group, json_output=True)
    assert described.code == 0, described.err
    (info,) = described.json()
    assert info["state"] == "EMPTY" and info["members"] == []
    assert [(r["topic"], r["partition"], r["current_offset"], r["log_end_offset"], r["lag"]) for r in info["offsets"]] \
        == [(loaded, 0, 10, 30, 20)]
    assert info["total_lag"] == 20
    table = ottla(bootstrap, "groups", "describe", group).out.splitlines()
    header = next(line for line in table if line.startswith("TOPIC"))
    assert header.split()[:5] == ["TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG"]
    assert table[table.index(header) + 1].split()[:5] == [loaded, "0", "10", "30", "20"]
    assert any(line.split() == ["total", "lag", "20"] for line in table)
    offsets_gone = ottla(bootstrap, "groups", "delete-offsets", group, "--topic", f"{loaded}:0", json_output=True)
    assert offsets_gone.code == 0, offsets_gone.err
    assert offsets_gone.json() == [{"group": group, "topic": loaded, "partition": 0, "result": "deleted"}]
    assert committed(bootstrap, group) == {}


def test_describe_shows_a_live_members_assignment(bootstrap, loaded):
    group = samples.unique_name("cli-live")
    c = consumer(bootstrap, group)
    c.subscribe([loaded])
    try:
        deadline = time.monotonic() + DEADLINE_S
        while not c.assignment() and time.monotonic() < deadline:
            c.poll(0.5)
        assert c.assignment()
        info = None
        while time.monotonic() < deadline:
            c.poll(0.2)
            (info,) = ottla(bootstrap, "groups", "describe", group, json_output=True).json()
            if info["state"] == "STABLE" and info["members"]:
                break
        assert info["state"] == "STABLE"
        (member,) = info["members"]
        assert member["assignment"] == [{"topic": loaded, "partition": 0}]
        assert info["offsets"][0]["consumer_id"] == member["member_id"]
        active = ottla(bootstrap, "groups", "reset-offsets", group, "--topic", loaded, "--to-earliest", "--execute")
        assert active.code == 1 and "inactive" in active.err
        subscribed = ottla(bootstrap, "groups", "delete-offsets", group, "--topic", loaded)
        assert subscribed.code == 1 and "GROUP_SUBSCRIBED_TO_TOPIC" in subscribed.out, subscribed.out + subscribed.err
    finally:
        c.close()


def test_reset_offsets_dry_run_changes_nothing_and_execute_moves_them(bootstrap, loaded):
    group = samples.unique_name("cli-reset")
    consume_and_commit(bootstrap, loaded, group, 10)
    dry = ottla(bootstrap, "groups", "reset-offsets", group, "--topic", loaded, "--to-earliest", json_output=True)
    assert dry.code == 0, dry.err
    assert dry.json() == {"executed": False, "offsets": [{"group": group, "topic": loaded, "partition": 0,
                                                          "current_offset": 10, "new_offset": 0}]}
    plain = ottla(bootstrap, "groups", "reset-offsets", group, "--topic", loaded, "--shift-by", "-3", "--dry-run")
    assert plain.out.splitlines()[1].split() == [group, loaded, "0", "10", "7"] and "dry run" in plain.out
    assert committed(bootstrap, group) == {(loaded, 0): 10}

    executed = ottla(bootstrap, "groups", "reset-offsets", group, "--topic", f"{loaded}:0", "--to-offset", "4",
                     "--execute", json_output=True)
    assert executed.code == 0, executed.err
    assert executed.json()["executed"] is True and executed.json()["offsets"][0]["new_offset"] == 4
    assert committed(bootstrap, group) == {(loaded, 0): 4}
    assert consume_and_commit(bootstrap, loaded, group, 3) == [4, 5, 6]  # a real consumer resumes there

    clamped = ottla(bootstrap, "groups", "reset-offsets", group, "--all-topics", "--to-offset", "1000", "--execute")
    assert clamped.code == 0 and committed(bootstrap, group) == {(loaded, 0): 30}
    assert ottla(bootstrap, "groups", "reset-offsets", group, "--all-topics", "--shift-by", "-5",
                 "--execute").code == 0
    assert committed(bootstrap, group) == {(loaded, 0): 25}
    by_time = ottla(bootstrap, "groups", "reset-offsets", group, "--all-topics", "--to-timestamp", "0", "--execute")
    assert by_time.code == 0 and committed(bootstrap, group) == {(loaded, 0): 0}
    assert ottla(bootstrap, "groups", "reset-offsets", group, "--all-topics", "--to-latest",
                 "--execute").code == 0
    assert committed(bootstrap, group) == {(loaded, 0): 30}

    deleted = ottla(bootstrap, "groups", "delete", group)
    assert deleted.code == 0, deleted.err
    gone = ottla(bootstrap, "groups", "describe", group)
    assert gone.code == 4 and "GROUP_ID_NOT_FOUND" in gone.err
    assert ottla(bootstrap, "groups", "delete", group).code == 4


def test_configs_describe_and_alter_topic_and_broker(bootstrap, loaded):
    altered = ottla(bootstrap, "configs", "alter", "--topic", loaded, "--add-config",
                    "retention.ms=123456,cleanup.policy=[compact,delete]")
    assert altered.code == 0, altered.err
    described = ottla(bootstrap, "configs", "describe", "--entity-type", "topics", "--entity-name", loaded,
                      json_output=True)
    assert described.code == 0, described.err
    configs = {c["name"]: c for c in described.json()["configs"]}
    assert configs["retention.ms"]["value"] == "123456" and configs["retention.ms"]["source"] == "DYNAMIC_TOPIC"
    assert configs["cleanup.policy"]["value"] == "compact,delete"
    assert ottla(bootstrap, "configs", "alter", "--topic", loaded, "--delete-config", "retention.ms").code == 0
    after = {c["name"] for c in ottla(bootstrap, "configs", "describe", "--topic", loaded,
                                      json_output=True).json()["configs"]}
    assert "retention.ms" not in after and "cleanup.policy" in after
    every = ottla(bootstrap, "configs", "describe", "--topic", loaded, "--all", json_output=True).json()["configs"]
    assert {"retention.ms", "segment.bytes"} <= {c["name"] for c in every}
    admin = AdminClient({"bootstrap.servers": bootstrap})
    broker_id = str(admin.describe_cluster().result(30).nodes[0].id)
    broker = ottla(bootstrap, "configs", "describe", "--broker", broker_id, "--all", json_output=True)
    assert broker.code == 0 and any(c["name"] == "log.retention.hours" for c in broker.json()["configs"])
    bad = ottla(bootstrap, "configs", "alter", "--topic", loaded, "--add-config", "retention.ms=not-a-number")
    assert bad.code == 1 and bad.err.startswith("ottla: INVALID_CONFIG")


def test_group_configs(broker, bootstrap, loaded):
    if not broker.managed:
        pytest.skip("GROUP config resources are Kafka 4.0+; an external broker may be older")
    group = samples.unique_name("cli-group-config")
    consume_and_commit(bootstrap, loaded, group, 1)
    assert ottla(bootstrap, "configs", "alter", "--group", group, "--add-config",
                 "consumer.session.timeout.ms=50000").code == 0
    (row,) = ottla(bootstrap, "configs", "describe", "--group", group, json_output=True).json()["configs"]
    assert (row["name"], row["value"]) == ("consumer.session.timeout.ms", "50000")

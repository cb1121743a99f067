"""`ottla share-groups ...` and `ottla transactions ...` as a user runs them, against Ottla or any broker."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import Producer

from compat_tests import samples, share_groups, topics
from compat_tests.cli import ottla

DEADLINE_S = 45


@pytest.mark.share
def test_share_group_list_describe_delete(bootstrap):
    topic, group = samples.unique_name("cli-share"), samples.unique_name("cli-share-group")
    share_groups.create_topic(bootstrap, topic, partitions=2)
    share_groups.set_group_configs(bootstrap, group, {"share.auto.offset.reset": "earliest"})
    share_groups.produce(bootstrap, topic, [b"v%d" % i for i in range(20)])
    consumer = share_groups.share_consumer(bootstrap, group, topic)
    try:
        got = 0
        deadline = time.monotonic() + DEADLINE_S
        while got < 20 and time.monotonic() < deadline:
            got += len(share_groups.poll(consumer))
        assert got == 20
        listed = ottla(bootstrap, "share-groups", "list", json_output=True)
        assert listed.code == 0, listed.err
        assert [g["state"] for g in listed.json() if g["group"] == group] == ["STABLE"]
        described = ottla(bootstrap, "share-groups", "describe", group, json_output=True)
        assert described.code == 0, described.err
        (info,) = described.json()
        assert info["state"] == "STABLE"
        (member,) = info["members"]
        assert member["assignment"] == [{"topic": topic, "partition": 0}, {"topic": topic, "partition": 1}]
        assert member["subscribed_topics"] == [topic]
        assert [(r["topic"], r["partition"]) for r in info["offsets"]] == [(topic, 0), (topic, 1)]
        assert sum(r["log_end_offset"] for r in info["offsets"]) == 20
        assert all(r["members"] == [member["member_id"]] for r in info["offsets"])
        table = ottla(bootstrap, "share-groups", "describe", group).out
        assert "START-OFFSET" in table and member["member_id"] in table
        busy = ottla(bootstrap, "share-groups", "delete", group)
        assert busy.code == 1 and "NON_EMPTY_GROUP" in busy.out
        busy_reset = ottla(bootstrap, "share-groups", "reset-offsets", group, "--all-topics", "--to-earliest",
                           "--execute")
        assert busy_reset.code == 1 and "NON_EMPTY_GROUP" in busy_reset.err
    finally:
        consumer.close()
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:  # the member leaves on close (or when its session ends)
        (info,) = ottla(bootstrap, "share-groups", "describe", group, json_output=True).json()
        if not info["members"]:
            break
        time.sleep(0.5)
    before = {(r["topic"], r["partition"]): r["start_offset"] for r in info["offsets"]}
    dry = ottla(bootstrap, "share-groups", "reset-offsets", group, "--topic", f"{topic}:0", "--to-offset", "3",
                json_output=True)
    assert dry.code == 0, dry.err
    assert dry.json()["executed"] is False and [r["new_offset"] for r in dry.json()["offsets"]] == [3]
    (unchanged,) = ottla(bootstrap, "share-groups", "describe", group, json_output=True).json()
    assert {(r["topic"], r["partition"]): r["start_offset"] for r in unchanged["offsets"]} == before
    moved = ottla(bootstrap, "share-groups", "reset-offsets", group, "--topic", f"{topic}:0", "--to-offset", "3",
                  "--execute")
    assert moved.code == 0, moved.err
    (after,) = ottla(bootstrap, "share-groups", "describe", group, json_output=True).json()
    assert [r["start_offset"] for r in after["offsets"] if r["partition"] == 0] == [3]
    while time.monotonic() < deadline:
        deleted = ottla(bootstrap, "share-groups", "delete", group)
        if deleted.code == 0:
            break
        time.sleep(0.5)
    assert deleted.code == 0, deleted.out + deleted.err
    missing = ottla(bootstrap, "share-groups", "describe", group)
    assert missing.code == 4 and missing.err.startswith("ottla: GROUP_ID_NOT_FOUND")


def test_transactions_list_and_describe(bootstrap):
    topic = samples.unique_name("cli-txn-admin")
    tid = samples.unique_name("cli-txn-admin-id")
    topics.create_topic(bootstrap, topic, partitions=1)
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": tid, "transaction.timeout.ms": 50_000})
    producer.init_transactions(30)
    producer.begin_transaction()
    producer.produce(topic, value=b"open", partition=0)
    assert producer.flush(30) == 0
    try:
        listed = ottla(bootstrap, "transactions", "list", json_output=True)
        assert listed.code == 0, listed.err
        (row,) = [t for t in listed.json() if t["transactional_id"] == tid]
        assert row["state"] == "Ongoing" and row["producer_id"] >= 0
        ongoing = ottla(bootstrap, "transactions", "list", "--state", "Ongoing", json_output=True).json()
        assert tid in [t["transactional_id"] for t in ongoing]
        described = ottla(bootstrap, "transactions", "describe", tid, json_output=True)
        assert described.code == 0, described.err
        (info,) = described.json()
        assert (info["state"], info["producer_id"], info["timeout_ms"]) == ("Ongoing", row["producer_id"], 50_000)
        assert info["partitions"] == [{"topic": topic, "partition": 0}] and info["duration_ms"] >= 0
        table = ottla(bootstrap, "transactions", "describe", tid).out.splitlines()
        assert table[0].split()[:3] == ["TRANSACTIONAL-ID", "COORDINATOR", "STATE"]
        assert table[1].split()[0] == tid and f"{topic}:0" in table[1]
    finally:
        producer.commit_transaction(30)
    (after,) = ottla(bootstrap, "transactions", "describe", tid, json_output=True).json()
    assert after["state"] in ("CompleteCommit", "Empty") and after["partitions"] == []
    missing = ottla(bootstrap, "transactions", "describe", samples.unique_name("cli-no-such-txn"))
    assert missing.code == 4 and missing.err.startswith("ottla: TRANSACTIONAL_ID_NOT_FOUND")

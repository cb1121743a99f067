"""kafka-python consumer groups: split and hand-over, resume from commits, static members, group admin."""

from __future__ import annotations

import ipaddress
import time

import pytest
from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition
from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.errors import GroupSubscribedToTopicError, NoError

from compat_tests import groups, samples, topics

CLIENT = groups.Client("kafka-python", {
    "session_timeout_ms": groups.SESSION_TIMEOUT_MS, "heartbeat_interval_ms": groups.HEARTBEAT_INTERVAL_MS,
})
READ_TIMEOUT_S = 15.0

pytestmark = pytest.mark.groups


@pytest.mark.timeout(120)
def test_members_split_partitions_and_take_over_on_close_and_kill9(bootstrap, tmp_path):
    groups.split_then_move_on_close_and_kill9(CLIENT, bootstrap, tmp_path)


def test_restarted_consumer_resumes_from_committed_offsets(bootstrap, tmp_path):
    groups.resume_from_committed_offsets(CLIENT, bootstrap, tmp_path)


def test_consumer_resumes_from_committed_offsets_after_broker_restart(bootstrap, tmp_path, restart_broker):
    groups.resume_from_committed_offsets(CLIENT, bootstrap, tmp_path, restart_broker)


def test_running_consumer_reads_nothing_twice_across_broker_restart(bootstrap, tmp_path, restart_broker):
    groups.running_member_survives_broker_restart(CLIENT, bootstrap, tmp_path, restart_broker)


def test_static_member_restart_keeps_its_partitions_without_rebalance(bootstrap, tmp_path):
    groups.static_member_restart_keeps_assignment(CLIENT, bootstrap, tmp_path)


def test_duplicate_group_instance_id_fences_the_old_member(bootstrap, tmp_path):
    # kafka-python stops heartbeating quietly on FENCED_INSTANCE_ID; the application sees FencedInstanceIdError
    # raised by whichever call meets the fencing first: commit(), or poll() when it was rejoining
    groups.duplicate_instance_id_is_fenced(CLIENT, bootstrap, tmp_path,
                                           lambda e: e["where"] in ("commit", "revoke", "poll"))


def test_admin_lists_describes_and_deletes_groups_and_offsets(bootstrap):
    topic = groups.new_topic(bootstrap, "admin-kp", partitions=3)
    group = samples.unique_name("compat-admin-kp")
    with groups.RoundProducer(bootstrap, topic, partitions=3) as producer:
        producer.round("admin", 5)
    tps = [TopicPartition(topic, p) for p in range(3)]
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, client_id="compat-kp-admin", enable_auto_commit=False,
        auto_offset_reset="earliest", fetch_max_wait_ms=100, session_timeout_ms=groups.SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=groups.HEARTBEAT_INTERVAL_MS, partition_assignment_strategy=(RangePartitionAssignor,),
    )
    admin = topics.admin_client(bootstrap)
    try:
        consumer.subscribe([topic])
        consumer.partitions_for_topic(topic)  # see group_member.py: avoids a kafka-python 3.0.12 hang
        read, deadline = 0, time.monotonic() + READ_TIMEOUT_S
        while read < 15 and time.monotonic() < deadline:
            read += sum(len(records) for records in consumer.poll(timeout_ms=200).values())
        assert read == 15
        consumer.commit({tps[0]: OffsetAndMetadata(5, "", -1), tps[1]: OffsetAndMetadata(2, "", -1)})

        listed = {g["group_id"]: g for g in admin.list_groups()}
        assert listed[group]["protocol_type"] == "consumer"
        described = admin.describe_groups([group])[group]
        assert (described["error"], described["group_state"]) == (None, "Stable")
        assert (described["protocol_type"], described["protocol_data"]) == ("consumer", "range")
        (member,) = described["members"]
        assert member["client_id"] == "compat-kp-admin"
        assert member["member_metadata"]["topics"] == [topic]
        assert member["member_assignment"]["assigned_partitions"] == [{"topic": topic, "partitions": [0, 1, 2]}]

        committed = admin.list_group_offsets(group)[group]
        assert {tp.partition: o.offset for tp, o in committed.items()} == {0: 5, 1: 2}
        ends = consumer.end_offsets(tps)
        assert {tp.partition: ends[tp] - committed[tp].offset for tp in committed} == {0: 0, 1: 3}  # the lag

        assert admin.delete_groups([group]) == {group: "NonEmptyGroupError"}
        assert admin.delete_group_offsets(group, [tps[1]]) == {tps[1]: GroupSubscribedToTopicError}
        consumer.close()
        described = admin.describe_groups([group])[group]
        assert (described["error"], described["group_state"], described["members"]) == (None, "Empty", [])

        assert admin.delete_group_offsets(group, [tps[1]]) == {tps[1]: NoError}
        assert {tp.partition: o.offset for tp, o in admin.list_group_offsets(group)[group].items()} == {0: 5}
        assert admin.delete_groups([group]) == {group: "OK"}
        assert group not in {g["group_id"] for g in admin.list_groups()}
        assert admin.list_group_offsets(group)[group] == {}
        assert admin.describe_groups([group])[group]["group_state"] == "Dead"
        assert member["client_host"].startswith("/"), member  # Kafka's InetAddress.toString(): "/" + client IP
        ipaddress.ip_address(member["client_host"][1:])
    finally:
        consumer.close()
        admin.close()

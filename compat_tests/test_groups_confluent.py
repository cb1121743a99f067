"""confluent-kafka (librdkafka) consumer groups, eager range, cooperative-sticky and KIP-848: split and
hand-over, resume from commits, static members, group admin."""

from __future__ import annotations

import ipaddress
import time

import pytest
from confluent_kafka import (
    Consumer, ConsumerGroupState, ConsumerGroupTopicPartitions, ConsumerGroupType, KafkaError, KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, OffsetSpec

from compat_tests import groups, samples

CLASSIC = {"session.timeout.ms": groups.SESSION_TIMEOUT_MS, "heartbeat.interval.ms": groups.HEARTBEAT_INTERVAL_MS}
RANGE = groups.Client("confluent", {**CLASSIC, "partition.assignment.strategy": "range"})
COOPERATIVE = groups.Client("confluent", {**CLASSIC, "partition.assignment.strategy": "cooperative-sticky"})
# KIP-848: the broker assigns, sets the heartbeat interval and times sessions out (Kafka's and Ottla's
# group.consumer.* defaults: 5 s, 45 s); librdkafka refuses session.timeout.ms and heartbeat.interval.ms
CONSUMER = groups.Client("confluent", {"group.protocol": "consumer"},
                         session_timeout_s=45.0, heartbeat_interval_s=5.0)
CALL_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 15.0

ALL_PROTOCOLS = [
    pytest.param(RANGE, id="range"),
    pytest.param(COOPERATIVE, id="cooperative-sticky"),
    pytest.param(CONSUMER, id="consumer"),
]
CLASSIC_AND_CONSUMER = [pytest.param(RANGE, id="range"), pytest.param(CONSUMER, id="consumer")]

pytestmark = pytest.mark.groups


@pytest.mark.timeout(150)  # KIP-848: the kill -9 step alone waits out a 45 s broker-side session timeout
@pytest.mark.parametrize("client", ALL_PROTOCOLS)
def test_members_split_partitions_and_take_over_on_close_and_kill9(bootstrap, tmp_path, client):
    groups.split_then_move_on_close_and_kill9(client, bootstrap, tmp_path)


@pytest.mark.parametrize("client", ALL_PROTOCOLS)
def test_restarted_consumer_resumes_from_committed_offsets(bootstrap, tmp_path, client):
    groups.resume_from_committed_offsets(client, bootstrap, tmp_path)


@pytest.mark.parametrize("client", CLASSIC_AND_CONSUMER)
def test_consumer_resumes_from_committed_offsets_after_broker_restart(bootstrap, tmp_path, restart_broker,
                                                                      client):
    groups.resume_from_committed_offsets(client, bootstrap, tmp_path, restart_broker)


@pytest.mark.parametrize("client", CLASSIC_AND_CONSUMER)
def test_running_consumer_reads_nothing_twice_across_broker_restart(bootstrap, tmp_path, restart_broker, client):
    groups.running_member_survives_broker_restart(client, bootstrap, tmp_path, restart_broker)


@pytest.mark.parametrize("client", CLASSIC_AND_CONSUMER)
def test_static_member_restart_keeps_its_partitions_without_rebalance(bootstrap, tmp_path, client):
    groups.static_member_restart_keeps_assignment(client, bootstrap, tmp_path)


def test_duplicate_group_instance_id_fences_the_old_member(bootstrap, tmp_path):
    # librdkafka fails the commit with FENCED_INSTANCE_ID, then hands the application a fatal error
    groups.duplicate_instance_id_is_fenced(RANGE, bootstrap, tmp_path, lambda e: e["where"] == "poll" and e["fatal"])


def test_consumer_protocol_refuses_a_duplicate_group_instance_id(bootstrap, tmp_path):
    new = groups.duplicate_instance_id_is_refused(CONSUMER, bootstrap, tmp_path)
    refused = [(e["where"], e["fatal"]) for e in new.errors if e["error"] == groups.UNRELEASED_INSTANCE_ID]
    assert ("poll", True) in refused, new.errors


@pytest.mark.parametrize("client, group_type, assignor", [
    pytest.param(RANGE, ConsumerGroupType.CLASSIC, "range", id="classic"),
    pytest.param(CONSUMER, ConsumerGroupType.CONSUMER, "uniform", id="consumer"),
])
def test_admin_lists_describes_and_deletes_groups_and_offsets(bootstrap, client, group_type, assignor):
    topic = groups.new_topic(bootstrap, "admin-ck", partitions=3)
    group = samples.unique_name("compat-admin-ck")
    with groups.RoundProducer(bootstrap, topic, partitions=3) as producer:
        producer.round("admin", 5)
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": group, "client.id": "compat-ck-admin",
        "enable.auto.commit": False, "auto.offset.reset": "earliest", "fetch.wait.max.ms": 100, **client.config,
    })
    admin = AdminClient({"bootstrap.servers": bootstrap, "client.id": "compat-confluent"})
    try:
        consumer.subscribe([topic])
        read, deadline = 0, time.monotonic() + READ_TIMEOUT_S
        while read < 15 and time.monotonic() < deadline:
            read += sum(1 for m in consumer.consume(100, 0.2) if m.error() is None)
        assert read == 15
        consumer.commit(offsets=[TopicPartition(topic, 0, 5), TopicPartition(topic, 1, 2)], asynchronous=False)

        listed = {g.group_id: g for g in admin.list_consumer_groups(request_timeout=CALL_TIMEOUT_S).result().valid}
        assert (listed[group].state, listed[group].type, listed[group].is_simple_consumer_group) \
            == (ConsumerGroupState.STABLE, group_type, False)
        described = admin.describe_consumer_groups([group], request_timeout=CALL_TIMEOUT_S)[group].result()
        assert (described.state, described.type, described.partition_assignor) \
            == (ConsumerGroupState.STABLE, group_type, assignor)
        (member,) = described.members
        assert member.client_id == "compat-ck-admin"
        assert sorted((tp.topic, tp.partition) for tp in member.assignment.topic_partitions) \
            == [(topic, 0), (topic, 1), (topic, 2)]

        assert committed_offsets(admin, group) == {0: 5, 1: 2}
        ends = admin.list_offsets({TopicPartition(topic, p): OffsetSpec.latest() for p in range(3)},
                                  request_timeout=CALL_TIMEOUT_S)
        end = {tp.partition: f.result().offset for tp, f in ends.items()}
        assert {p: end[p] - o for p, o in committed_offsets(admin, group).items()} == {0: 0, 1: 3}  # the lag

        with pytest.raises(KafkaException) as refused:
            admin.delete_consumer_groups([group], request_timeout=CALL_TIMEOUT_S)[group].result()
        assert refused.value.args[0].code() == KafkaError.NON_EMPTY_GROUP
        consumer.close()
        described = admin.describe_consumer_groups([group], request_timeout=CALL_TIMEOUT_S)[group].result()
        assert (described.state, described.members) == (ConsumerGroupState.EMPTY, [])

        # an empty group's offsets may be rewritten by anyone (kafka-consumer-groups --reset-offsets)
        moved = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 1, 4), TopicPartition(topic, 2, 1)])
        admin.alter_consumer_group_offsets([moved], request_timeout=CALL_TIMEOUT_S)[group].result()
        assert committed_offsets(admin, group) == {0: 5, 1: 4, 2: 1}

        admin.delete_consumer_groups([group], request_timeout=CALL_TIMEOUT_S)[group].result()
        listed = admin.list_consumer_groups(request_timeout=CALL_TIMEOUT_S).result().valid
        assert group not in {g.group_id for g in listed}
        assert committed_offsets(admin, group) == {}
        assert member.host.startswith("/"), member.host  # Kafka's InetAddress.toString(): "/" + client IP
        ipaddress.ip_address(member.host[1:])
    finally:
        consumer.close()


def committed_offsets(admin: AdminClient, group: str) -> dict[int, int]:
    request = [ConsumerGroupTopicPartitions(group)]
    found = admin.list_consumer_group_offsets(request, request_timeout=CALL_TIMEOUT_S)[group].result()
    return {tp.partition: tp.offset for tp in found.topic_partitions if tp.offset >= 0}

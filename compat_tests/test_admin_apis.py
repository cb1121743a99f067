"""The admin APIs through real admin clients: partitions added and then used, topic partitions paged,
log dir sizes, elections, reassignments, the quorum and the features; bad input gets Kafka's answers.

kafka-python's KafkaAdminClient covers every API; confluent-kafka, aiokafka and kafkajs the ones they
have. Tests that assert Ottla's own single-node facts (the 4.2 version inference, a node id of the
quorum) run only against a broker this session started.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewPartitions
from kafka.errors import InvalidPartitionsError, UnknownTopicOrPartitionError

from compat_tests import samples, topics
from compat_tests.test_kafkajs import node

TIMEOUT_S = 15.0


@pytest.fixture(scope="module")
def admin(broker):
    client = KafkaAdminClient(bootstrap_servers=broker.bootstrap, client_id="compat-admin", request_timeout_ms=10_000)
    yield client
    client.close()


def partition_count(admin, name: str) -> int:
    (described,) = admin.describe_topics([name])
    return len(described["partitions"])


def test_kafka_python_identifies_kafka_4_2(broker, admin):
    if not broker.managed:
        pytest.skip("the inferred version is the external broker's own")
    assert admin.get_broker_version_data(admin.describe_cluster()["controller_id"]).broker_version == (4, 2)


def test_new_partitions_take_writes_and_reach_a_subscribed_group(bootstrap, admin, topic):
    group = samples.unique_name("compat-admin-group")
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                             metadata_max_age_ms=500, fetch_max_wait_ms=100, client_id="compat-admin")
    producer = KafkaProducer(bootstrap_servers=bootstrap, client_id="compat-admin")
    # kafka-python 3.0.12 can miss its SyncGroup answer when a metadata update makes the leader rejoin
    # (compat_tests/README.md, findings): load the topic's metadata first, as every group member here does
    consumer.partitions_for_topic(topic)
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while not consumer.assignment() and time.monotonic() < deadline:
            consumer.poll(timeout_ms=1000)
        assert {tp.partition for tp in consumer.assignment()} == {0}
        admin.create_partitions({topic: NewPartitions(3)})
        assert partition_count(admin, topic) == 3
        sent = producer.send(topic, b"to-the-new-partition", partition=2).get(TIMEOUT_S)
        assert sent.partition == 2 and sent.offset == 0
        received = []
        while not received and time.monotonic() < deadline + TIMEOUT_S:
            for records in consumer.poll(timeout_ms=1000).values():
                received += [(r.partition, r.value) for r in records]
        assert received == [(2, b"to-the-new-partition")]
        assert {tp.partition for tp in consumer.assignment()} == {0, 1, 2}
    finally:
        producer.close(timeout=5)
        consumer.close()


@pytest.mark.parametrize("count, message", [
    (1, "Topic already has 1 partition(s)."),
    (0, "The topic {topic} currently has 1 partition(s); 0 would not be an increase."),
    (-2, "The topic {topic} currently has 1 partition(s); -2 would not be an increase."),
])
def test_counts_that_are_not_an_increase_change_nothing(admin, topic, count, message):
    response = admin.create_partitions({topic: NewPartitions(count)}, raise_errors=False)
    (result,) = response.results
    assert (result.error_code, result.error_message) == (InvalidPartitionsError.errno, message.format(topic=topic))
    assert partition_count(admin, topic) == 1


def test_unknown_topic_and_validate_only_change_nothing(admin, topic):
    missing = samples.unique_name("compat-admin-missing")
    response = admin.create_partitions({missing: NewPartitions(2)}, raise_errors=False)
    assert response.results[0].error_code == UnknownTopicOrPartitionError.errno
    admin.create_partitions({topic: NewPartitions(4)}, validate_only=True)
    assert partition_count(admin, topic) == 1
    assert missing not in admin.list_topics()


def test_describe_topic_partitions_pages_through_a_topic(admin, bootstrap):
    name = samples.unique_name("compat-admin-pages")
    topics.create_topic(bootstrap, name, partitions=5)
    seen, cursor = [], None
    for _ in range(5):
        page = admin.describe_topic_partitions([name], response_partition_limit=2, cursor=cursor)
        seen += [p["partition_index"] for t in page["topics"] for p in t["partitions"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [0, 1, 2, 3, 4] and cursor is None


def test_log_dir_sizes_grow_after_producing(admin, bootstrap, topic):
    def size() -> int:
        (broker,) = admin.describe_log_dirs()
        return sum(p["partition_size"] for d in broker["log_dirs"] for t in d["topics"] if t["name"] == topic
                   for p in t["partitions"])

    before = size()
    producer = KafkaProducer(bootstrap_servers=bootstrap, client_id="compat-admin")
    try:
        for _ in range(20):
            producer.send(topic, b"x" * 1000, partition=0)
        producer.flush(timeout=TIMEOUT_S)
    finally:
        producer.close(timeout=5)
    assert size() >= before + 20 * 1000


def test_elections_reassignments_quorum_and_features(broker, admin, topic):
    elected = admin.elect_leaders(0, {topic: [0]}, raise_errors=False)
    assert elected.replica_election_results[0].partition_result[0].error_code == 84  # ELECTION_NOT_NEEDED
    assert admin.list_partition_reassignments() == {}
    features = admin.describe_features()
    assert features["metadata.version"]["finalized"][0] >= 7
    if broker.managed:  # one node: it is the quorum's only voter, and KIP-890 part 2 is not finalized
        quorum = admin.describe_metadata_quorum()["topics"][0]["partitions"][0]
        assert [v["replica_id"] for v in quorum["current_voters"]] == [quorum["leader_id"]]
        assert features["transaction.version"]["finalized"][1] < 2


def test_confluent_kafka_create_partitions_then_produce_and_elect(bootstrap, topic):
    from confluent_kafka import KafkaException, Producer
    from confluent_kafka.admin import AdminClient, NewPartitions as ConfluentNewPartitions

    client = AdminClient({"bootstrap.servers": bootstrap})
    client.create_partitions([ConfluentNewPartitions(topic, 2)])[topic].result(TIMEOUT_S)
    with pytest.raises(KafkaException) as refused:
        client.create_partitions([ConfluentNewPartitions(topic, 1)])[topic].result(TIMEOUT_S)
    assert refused.value.args[0].code() == InvalidPartitionsError.errno
    assert len(client.list_topics(topic, timeout=TIMEOUT_S).topics[topic].partitions) == 2
    producer = Producer({"bootstrap.servers": bootstrap})
    delivered = []
    producer.produce(topic, b"v", partition=1, on_delivery=lambda err, msg: delivered.append((err, msg.partition())))
    producer.flush(TIMEOUT_S)
    assert delivered == [(None, 1)]


def test_confluent_kafka_authorized_operations_and_elections(bootstrap, topic):
    from confluent_kafka import ElectionType, TopicCollection, TopicPartition as ConfluentTopicPartition
    from confluent_kafka.admin import AclOperation, AdminClient

    client = AdminClient({"bootstrap.servers": bootstrap})
    cluster = client.describe_cluster(include_authorized_operations=True).result(TIMEOUT_S)
    assert {AclOperation.ALTER, AclOperation.DESCRIBE, AclOperation.IDEMPOTENT_WRITE} <= set(cluster.authorized_operations)
    described = client.describe_topics(TopicCollection([topic]), include_authorized_operations=True)[topic].result(
        TIMEOUT_S)
    assert {AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE} <= set(described.authorized_operations)
    elected = client.elect_leaders(ElectionType.PREFERRED, [ConfluentTopicPartition(topic, 0)]).result(TIMEOUT_S)
    assert [error.code() for error in elected.values()] == [84]  # ELECTION_NOT_NEEDED: the preferred leader leads


def test_aiokafka_create_partitions(bootstrap, topic):
    from aiokafka.admin import AIOKafkaAdminClient, NewPartitions as AioNewPartitions
    from aiokafka.errors import InvalidPartitionsError as AioInvalidPartitions

    async def grow():
        client = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await client.start()
        try:
            grown = await client.create_partitions({topic: AioNewPartitions(3)})
            try:
                await client.create_partitions({topic: AioNewPartitions(3)})
                refused = None
            except AioInvalidPartitions as exc:
                refused = str(exc)
            return grown, refused, await client.describe_topics([topic])
        finally:
            await client.close()

    grown, refused, (described,) = asyncio.run(grow())
    assert [r[1] for r in grown.topic_errors] == [0]
    assert refused is not None and refused.endswith("Topic already has 3 partition(s).")
    assert len(described["partitions"]) == 3


def test_kafkajs_create_partitions_and_reassignments(bootstrap, topic):
    result = node("admin.js", bootstrap, action="partitions", topic=topic, count=3)
    assert result["partitions"] == [0, 1, 2]
    assert result["reassignments"] == {"topics": []}
    assert result["decrease"]["type"] == "INVALID_PARTITIONS"
    assert result["elsewhere"] is not None  # INVALID_REPLICA_ASSIGNMENT: there is no broker 2


def test_internal_topics_exist_once_a_group_does_and_clients_hide_them(bootstrap, admin):
    from aiokafka import AIOKafkaConsumer
    from aiokafka.admin import AIOKafkaAdminClient

    admin.describe_groups([samples.unique_name("compat-admin-lookup")])  # FindCoordinator: a group coordinator
    (offsets,) = admin.describe_topics(["__consumer_offsets"])
    assert offsets["is_internal"] is True and len(offsets["partitions"]) >= 1
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="compat-admin")
    try:
        assert "__consumer_offsets" not in consumer.topics()  # consumers hide internal topics
    finally:
        consumer.close()

    async def listings():
        aio = AIOKafkaConsumer(bootstrap_servers=bootstrap)
        aio_admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await aio.start()
        await aio_admin.start()
        try:
            return await aio.topics(), await aio_admin.list_topics()
        finally:
            await aio.stop()
            await aio_admin.close()

    hidden, shown = asyncio.run(listings())
    assert "__consumer_offsets" not in hidden and "__consumer_offsets" in shown  # admin tools show them

"""The core handlers' Kafka semantics, through the wire against an in-memory broker."""

import pytest

from wire.errors import ErrorCode
from wire.records import build_batch, iter_batches
from wire.schema import ZERO_UUID

PRODUCE, FETCH, LIST_OFFSETS, METADATA, CREATE, DELETE, DESCRIBE_CONFIGS, DESCRIBE_CLUSTER, EPOCHS = \
    0, 1, 2, 3, 19, 20, 32, 60, 23


@pytest.fixture
def client(broker):
    c = broker.client()
    yield c
    c.close()


def create(client, name, partitions=1, configs=(), version=7, **extra):
    topic = {"name": name, "num_partitions": partitions, "replication_factor": -1, "assignments": [],
             "configs": [{"name": k, "value": v} for k, v in configs], **extra}
    return client.request(CREATE, version, {"topics": [topic], "timeout_ms": 1000, "validate_only": False}).topics[0]


def produce(client, name, batch, partition=0):
    response = client.request(PRODUCE, 9, {"transactional_id": None, "acks": -1, "timeout_ms": 1000, "topic_data": [
        {"name": name, "partition_data": [{"index": partition, "records": batch}]}]})
    return response.responses[0].partition_responses[0]


def fetch(client, name, offset, *, max_bytes=1 << 20, partition_max_bytes=1 << 20, isolation=0, version=11,
          topic_id=None, max_wait_ms=0, min_bytes=0):
    topic = {"topic": name, "topic_id": topic_id or ZERO_UUID, "partitions": [
        {"partition": 0, "current_leader_epoch": -1, "fetch_offset": offset, "log_start_offset": -1,
         "partition_max_bytes": partition_max_bytes}]}
    return client.request(FETCH, version, {"replica_id": -1, "max_wait_ms": max_wait_ms, "min_bytes": min_bytes,
                                           "max_bytes": max_bytes, "isolation_level": isolation, "session_id": 0,
                                           "session_epoch": -1, "topics": [topic], "forgotten_topics_data": [],
                                           "rack_id": ""})


def list_offset(client, name, timestamp, version=7):
    response = client.request(LIST_OFFSETS, version, {"replica_id": -1, "isolation_level": 0, "topics": [
        {"name": name, "partitions": [{"partition_index": 0, "current_leader_epoch": -1, "timestamp": timestamp}]}]})
    return response.topics[0].partitions[0]


def test_create_topic_reports_id_partitions_and_configs(client):
    created = create(client, "created", 3, [("retention.ms", "1000")])
    assert created.error_code == ErrorCode.NONE
    assert created.topic_id != ZERO_UUID and created.num_partitions == 3
    assert {c.name: c.value for c in created.configs}["retention.ms"] == "1000"
    again = create(client, "created")
    assert again.error_code == ErrorCode.TOPIC_ALREADY_EXISTS


@pytest.mark.parametrize("name, partitions, replication, code", [
    ("bad/name", 1, -1, ErrorCode.INVALID_TOPIC_EXCEPTION),
    ("zero-partitions", 0, -1, ErrorCode.INVALID_PARTITIONS),
    ("three-replicas", 1, 3, ErrorCode.INVALID_REPLICATION_FACTOR),
])
def test_create_topic_errors(client, name, partitions, replication, code):
    topic = {"name": name, "num_partitions": partitions, "replication_factor": replication, "assignments": [],
             "configs": []}
    answer = client.request(CREATE, 7, {"topics": [topic], "timeout_ms": 1000, "validate_only": False}).topics[0]
    assert answer.error_code == code


def test_create_topic_with_unknown_config_is_invalid(client):
    assert create(client, "bad-config", configs=[("no.such.config", "1")]).error_code == ErrorCode.INVALID_CONFIG


def test_metadata_topic_ids_are_stable_and_auto_creation_follows_the_flag(client):
    create(client, "stable-id")
    first = client.request(METADATA, 12, {"topics": [{"name": "stable-id", "topic_id": ZERO_UUID}],
                                          "allow_auto_topic_creation": False})
    second = client.request(METADATA, 12, {"topics": None, "allow_auto_topic_creation": False})
    ids = {t.name: t.topic_id for t in second.topics}
    assert first.topics[0].topic_id == ids["stable-id"] != ZERO_UUID
    missing = client.request(METADATA, 12, {"topics": [{"name": "not-auto", "topic_id": ZERO_UUID}],
                                            "allow_auto_topic_creation": False})
    assert missing.topics[0].error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    auto = client.request(METADATA, 12, {"topics": [{"name": "auto-made", "topic_id": ZERO_UUID}],
                                         "allow_auto_topic_creation": True})
    assert auto.topics[0].error_code == ErrorCode.NONE and len(auto.topics[0].partitions) == 1
    assert first.controller_id == 1 and first.brokers[0].port == client.sock.getpeername()[1]


def test_metadata_v0_empty_list_means_all_topics_and_v1_empty_means_none(client):
    create(client, "listed")
    assert "listed" in {t.name for t in client.request(METADATA, 0, {"topics": []}).topics}
    assert client.request(METADATA, 1, {"topics": []}).topics == []


def test_metadata_by_unknown_topic_id(client):
    response = client.request(METADATA, 12, {"topics": [{"name": None, "topic_id": b"\x07" * 16}],
                                             "allow_auto_topic_creation": False})
    assert response.topics[0].error_code == ErrorCode.UNKNOWN_TOPIC_ID


def test_fetch_returns_whole_batches_and_respects_max_bytes_except_the_first(client):
    create(client, "sizes")
    for i in range(3):
        produce(client, "sizes", build_batch([(None, bytes([i]) * 2000, [], 1000 + i)]))
    everything = fetch(client, "sizes", 0).responses[0].partitions[0]
    assert [h.base_offset for h, _ in iter_batches(everything.records)] == [0, 1, 2]
    assert everything.high_watermark == 3 and everything.last_stable_offset == 3 and everything.log_start_offset == 0
    tiny = fetch(client, "sizes", 1, max_bytes=10, partition_max_bytes=10).responses[0].partitions[0]
    assert [h.base_offset for h, _ in iter_batches(tiny.records)] == [1]  # KIP-74: the first batch comes whole
    at_end = fetch(client, "sizes", 3).responses[0].partitions[0]
    assert at_end.error_code == ErrorCode.NONE and not at_end.records
    beyond = fetch(client, "sizes", 4).responses[0].partitions[0]
    assert beyond.error_code == ErrorCode.OFFSET_OUT_OF_RANGE


def test_fetch_by_topic_id_and_unknown_topic_id(client):
    topic_id = create(client, "by-id").topic_id
    produce(client, "by-id", build_batch([(b"k", b"v", [], 5)]))
    found = fetch(client, "", 0, version=13, topic_id=topic_id).responses[0]
    assert found.topic_id == topic_id and found.partitions[0].records
    unknown = fetch(client, "", 0, version=13, topic_id=b"\x09" * 16).responses[0].partitions[0]
    assert unknown.error_code == ErrorCode.UNKNOWN_TOPIC_ID


def test_read_committed_fetch_without_transactions_reads_up_to_the_high_watermark(client):
    create(client, "committed-read")
    produce(client, "committed-read", build_batch([(None, b"v", [], 5)]))
    partition = fetch(client, "committed-read", 0, isolation=1).responses[0].partitions[0]
    assert partition.records and partition.last_stable_offset == 1 and partition.aborted_transactions == []


def test_list_offsets_earliest_latest_by_time_and_max_timestamp(client):
    create(client, "times")
    produce(client, "times", build_batch([(None, b"a", [], 100), (None, b"b", [], 300), (None, b"c", [], 200)]))
    produce(client, "times", build_batch([(None, b"d", [], 250)]))
    assert list_offset(client, "times", -2).offset == 0
    assert list_offset(client, "times", -1).offset == 4
    exact = list_offset(client, "times", 150)
    assert (exact.offset, exact.timestamp) == (1, 300)  # the first record at or after 150, inside the batch
    assert (list_offset(client, "times", -3).offset, list_offset(client, "times", -3).timestamp) == (1, 300)
    assert list_offset(client, "times", 301).offset == -1
    assert list_offset(client, "no-such-topic", -1).error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION


def test_log_append_time_topic_stamps_the_broker_time(client):
    create(client, "append-time", configs=[("message.timestamp.type", "LogAppendTime")])
    answer = produce(client, "append-time", build_batch([(None, b"v", [], 5)]))
    assert answer.log_append_time_ms > 1_600_000_000_000
    batch, _ = next(iter_batches(fetch(client, "append-time", 0).responses[0].partitions[0].records))
    assert batch.log_append_time and batch.max_timestamp == answer.log_append_time_ms


def test_delete_topic_then_data_is_gone(client):
    create(client, "doomed")
    produce(client, "doomed", build_batch([(None, b"v", [], 5)]))
    deleted = client.request(DELETE, 6, {"topics": [{"name": "doomed", "topic_id": ZERO_UUID}], "timeout_ms": 1000})
    assert deleted.responses[0].error_code == ErrorCode.NONE
    again = client.request(DELETE, 4, {"topic_names": ["doomed"], "timeout_ms": 1000})
    assert again.responses[0].error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    create(client, "doomed")
    assert list_offset(client, "doomed", -1).offset == 0


def test_describe_configs_for_topic_and_broker(client):
    create(client, "described", configs=[("cleanup.policy", "compact"), ("segment.ms", "60000"), ("delete.retention.ms", "1")])
    response = client.request(DESCRIBE_CONFIGS, 4, {"resources": [
        {"resource_type": 2, "resource_name": "described", "configuration_keys": None},
        {"resource_type": 4, "resource_name": "1", "configuration_keys": ["num.partitions"]},
        {"resource_type": 2, "resource_name": "absent", "configuration_keys": None}]})
    topic, broker_result, absent = response.results
    configs = {c.name: c for c in topic.configs}
    assert configs["cleanup.policy"].value == "compact" and configs["cleanup.policy"].config_source == 1
    assert configs["max.message.bytes"].config_source == 5 and configs["max.message.bytes"].config_type == 3
    assert [c.name for c in broker_result.configs] == ["num.partitions"]
    assert absent.error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    v0 = client.request(DESCRIBE_CONFIGS, 0, {"resources": [
        {"resource_type": 2, "resource_name": "described", "configuration_keys": ["cleanup.policy"]}]})
    assert v0.results[0].configs[0].is_default is False


def test_describe_cluster_and_offset_for_leader_epoch(client):
    cluster = client.request(DESCRIBE_CLUSTER, 1, {"include_cluster_authorized_operations": False, "endpoint_type": 1})
    assert cluster.error_code == 0 and cluster.controller_id == 1 and cluster.cluster_id
    create(client, "epochs")
    produce(client, "epochs", build_batch([(None, b"v", [], 5), (None, b"w", [], 6)]))
    answer = client.request(EPOCHS, 4, {"replica_id": -1, "topics": [{"topic": "epochs", "partitions": [
        {"partition": 0, "current_leader_epoch": 0, "leader_epoch": 0}]}]}).topics[0].partitions[0]
    assert (answer.error_code, answer.leader_epoch, answer.end_offset) == (0, 0, 2)


@pytest.mark.parametrize("version", [4, 11, 12, 13, 17])
def test_fetch_error_partitions_carry_empty_records_never_null(client, version):
    """librdkafka fails the whole Fetch response on a null message set, so the error never reaches it."""
    topic_id = create(client, f"null-records-{version}").topic_id
    produce(client, f"null-records-{version}", build_batch([(b"k", b"v", [], 5)]))

    def partition(offset=0, *, index=0, epoch=-1, name=f"null-records-{version}", tid=topic_id):
        topic = {"topic": name, "topic_id": tid, "partitions": [
            {"partition": index, "current_leader_epoch": epoch, "fetch_offset": offset, "log_start_offset": -1,
             "partition_max_bytes": 1 << 20}]}
        response = client.request(FETCH, version, {
            "replica_id": -1, "max_wait_ms": 0, "min_bytes": 0, "max_bytes": 1 << 20, "isolation_level": 0,
            "session_id": 0, "session_epoch": -1, "topics": [topic], "forgotten_topics_data": [], "rack_id": ""})
        return response.responses[0].partitions[0]

    unknown_topic = ErrorCode.UNKNOWN_TOPIC_ID if version >= 13 else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    cases = [
        (partition(99), ErrorCode.OFFSET_OUT_OF_RANGE),
        (partition(index=5), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
        (partition(name="no-such-topic", tid=b"\x07" * 16), unknown_topic),
    ]
    if version >= 9:  # current_leader_epoch
        cases.append((partition(epoch=7), ErrorCode.UNKNOWN_LEADER_EPOCH))
    for answer, code in cases:
        assert answer.error_code == code
        assert answer.records == b""  # decoded null would be None

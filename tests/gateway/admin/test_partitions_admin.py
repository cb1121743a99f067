"""CreatePartitions, DescribeTopicPartitions, DescribeLogDirs and AlterReplicaLogDirs, in process."""

import time

import pytest

from tests.gateway.inprocess import call, new_broker
from wire.errors import ErrorCode
from wire.records import build_batch

PRODUCE, METADATA, ALTER_LOG_DIRS, DESCRIBE_LOG_DIRS, CREATE_PARTITIONS, DESCRIBE_TOPIC_PARTITIONS = \
    0, 3, 34, 35, 37, 75


@pytest.fixture
def broker():
    b = new_broker()
    b.logs.create_topic("t", 2)
    return b


def grow(broker, *topics, validate_only=False, version=3):
    body = {"timeout_ms": 1000, "validate_only": validate_only, "topics": [
        {"name": name, "count": count, "assignments": assignments} for name, count, assignments in topics]}
    return [(r.name, r.error_code, r.error_message) for r in call(broker, CREATE_PARTITIONS, version, body).results]


def test_new_partitions_get_a_leader_and_show_in_metadata(broker):
    assert grow(broker, ("t", 5, None)) == [("t", ErrorCode.NONE, None)]
    response = call(broker, METADATA, 12, {"topics": [{"name": "t", "topic_id": bytes(16)}],
                                           "allow_auto_topic_creation": False,
                                           "include_topic_authorized_operations": False})
    partitions = response.topics[0].partitions
    assert [p.partition_index for p in partitions] == [0, 1, 2, 3, 4]
    assert all(p.leader_id == broker.node_id and p.replica_nodes == [broker.node_id] for p in partitions)


def test_more_partitions_survive_restart(broker):
    grow(broker, ("t", 4, None))
    assert len(new_broker(broker.storage).logs.get("t").partitions) == 4


@pytest.mark.parametrize("count, message", [
    (2, "Topic already has 2 partition(s)."),
    (1, "The topic t currently has 2 partition(s); 1 would not be an increase."),
    (-3, "The topic t currently has 2 partition(s); -3 would not be an increase."),
])
def test_counts_that_are_not_an_increase_are_invalid_partitions(broker, count, message):
    assert grow(broker, ("t", count, None)) == [("t", ErrorCode.INVALID_PARTITIONS, message)]
    assert len(broker.logs.get("t").partitions) == 2


def test_unknown_duplicate_and_validate_only_change_nothing(broker):
    results = grow(broker, ("nope", 3, None), ("t", 3, None), ("t", 4, None))
    assert results == [("t", ErrorCode.INVALID_REQUEST, "Duplicate topic name."),
                       ("nope", ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, None)]
    assert grow(broker, ("t", 9, None), validate_only=True) == [("t", ErrorCode.NONE, None)]
    assert len(broker.logs.get("t").partitions) == 2 and broker.logs.get("nope") is None


@pytest.mark.parametrize("assignments, message", [
    ([{"broker_ids": [1]}], "Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified."),
    ([{"broker_ids": [1]}, {"broker_ids": [7]}],
     "The manual partition assignment includes broker 7, but no such broker is registered."),
    ([{"broker_ids": []}, {"broker_ids": [1]}], "The manual partition assignment includes an empty replica list."),
    ([{"broker_ids": [1, 1]}, {"broker_ids": [1]}], "The manual partition assignment includes the broker 1 more than once."),
])
def test_manual_assignments_must_name_this_broker_once(broker, assignments, message):
    assert grow(broker, ("t", 4, assignments)) == [("t", ErrorCode.INVALID_REPLICATION_ASSIGNMENT, message)]
    assert len(broker.logs.get("t").partitions) == 2
    assert grow(broker, ("t", 4, [{"broker_ids": [1]}, {"broker_ids": [1]}])) == [("t", ErrorCode.NONE, None)]


def test_growing_to_a_thousand_partitions_takes_under_a_second(broker):
    started = time.perf_counter()
    assert grow(broker, ("t", 1000, None)) == [("t", ErrorCode.NONE, None)]
    assert time.perf_counter() - started < 1.0
    assert len(broker.logs.get("t").partitions) == 1000


def describe(broker, names, limit=2000, cursor=None):
    response = call(broker, DESCRIBE_TOPIC_PARTITIONS, 0, {
        "topics": [{"name": n} for n in names], "response_partition_limit": limit, "cursor": cursor})
    return response


def test_describe_topic_partitions_pages_with_a_cursor(broker):
    broker.logs.create_topic("a", 3)
    broker.logs.create_topic("z", 1)
    seen, cursor, pages = [], None, 0
    while True:
        page = describe(broker, [], limit=2, cursor=cursor)
        pages += 1
        seen += [(t.name, p.partition_index) for t in page.topics for p in t.partitions]
        if page.next_cursor is None:
            break
        cursor = {"topic_name": page.next_cursor.topic_name, "partition_index": page.next_cursor.partition_index}
    assert seen == [("a", 0), ("a", 1), ("a", 2), ("t", 0), ("t", 1), ("z", 0)]
    assert pages == 3
    first = describe(broker, ["t"]).topics[0]
    assert first.topic_id == broker.logs.get("t").topic_id and first.partitions[0].leader_id == broker.node_id
    # READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11
    assert first.topic_authorized_operations == sum(1 << op for op in (3, 4, 5, 6, 7, 8, 10, 11))


def test_describe_topic_partitions_errors(broker):
    response = describe(broker, ["t", "missing", "bad/name"])
    assert {t.name: t.error_code for t in response.topics} == {
        "t": ErrorCode.NONE, "missing": ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "bad/name": ErrorCode.INVALID_TOPIC_EXCEPTION}
    refused = describe(broker, ["t"], cursor={"topic_name": "other", "partition_index": 0})
    assert [(t.name, t.error_code) for t in refused.topics] == [("t", ErrorCode.INVALID_REQUEST)]
    refused = describe(broker, ["t"], cursor={"topic_name": "t", "partition_index": -1})
    assert refused.topics[0].error_code == ErrorCode.INVALID_REQUEST


def produce(broker, name, partition, value):
    call(broker, PRODUCE, 9, {"transactional_id": None, "acks": -1, "timeout_ms": 1000, "topic_data": [
        {"name": name, "partition_data": [{"index": partition, "records": build_batch([(b"k", value, [], 1000)])}]}]})


def log_dirs(broker, topics=None, version=4):
    response = call(broker, DESCRIBE_LOG_DIRS, version, {"topics": topics})
    (result,) = response.results
    return result, {(t.name, p.partition_index): p.partition_size for t in result.topics for p in t.partitions}


def test_describe_log_dirs_sizes_grow_with_produced_data(broker):
    _, sizes = log_dirs(broker)
    assert sizes == {("t", 0): 0, ("t", 1): 0}
    produce(broker, "t", 1, b"x" * 1000)
    result, sizes = log_dirs(broker, [{"topic": "t", "partitions": [1, 7]}, {"topic": "missing", "partitions": [0]}])
    assert list(sizes) == [("t", 1)] and sizes[("t", 1)] > 1000
    assert result.error_code == ErrorCode.NONE and result.total_bytes == -1  # --memory: no directory


def test_describe_log_dirs_reports_the_data_dir_disk(tmp_path):
    broker = new_broker(data_dir=str(tmp_path), memory=False)  # the memory engine, but a real data dir
    result, _ = log_dirs(broker)
    assert result.log_dir == str(tmp_path) and result.total_bytes > result.usable_bytes > 0


def test_alter_replica_log_dirs_only_to_the_one_dir(broker):
    here = log_dirs(broker)[0].log_dir
    response = call(broker, ALTER_LOG_DIRS, 2, {"dirs": [
        {"path": here, "topics": [{"name": "t", "partitions": [0, 5]}]},
        {"path": "/elsewhere", "topics": [{"name": "u", "partitions": [0]}]}]})
    assert {(r.topic_name, p.partition_index): p.error_code for r in response.results for p in r.partitions} == {
        ("t", 0): ErrorCode.NONE, ("t", 5): ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ("u", 0): ErrorCode.LOG_DIR_NOT_FOUND}


def test_rocksdb_engine_estimates_partition_sizes_too(tmp_path):
    from partitions.rocks import RocksStorage

    storage = RocksStorage(str(tmp_path / "rocksdb"))
    broker = new_broker(storage, data_dir=str(tmp_path), memory=False)
    broker.logs.create_topic("t", 1)
    assert log_dirs(broker)[1] == {("t", 0): 0}
    produce(broker, "t", 0, b"x" * 1000)
    once = log_dirs(broker)[1][("t", 0)]
    produce(broker, "t", 0, b"y" * 1000)
    assert 1000 < once < log_dirs(broker)[1][("t", 0)]
    storage.close()


def test_a_kip848_group_is_assigned_new_partitions_at_its_next_heartbeat(broker):
    def heartbeat(epoch, owned=None):
        return call(broker, 68, 1, {"group_id": "g848", "member_id": "m1", "member_epoch": epoch, "instance_id": None,
                                    "rack_id": None, "rebalance_timeout_ms": 30000,
                                    "subscribed_topic_names": ["t"] if epoch == 0 else None,
                                    "subscribed_topic_regex": None, "server_assignor": None,
                                    "topic_partitions": owned})

    def assigned(response):
        return sorted(p for t in (response.assignment.topic_partitions if response.assignment else [])
                      for p in t.partitions)

    joined = heartbeat(0, [])
    assert joined.error_code == ErrorCode.NONE and assigned(joined) == [0, 1]
    topic_id = broker.logs.get("t").topic_id
    grow(broker, ("t", 4, None))
    again = heartbeat(joined.member_epoch, [{"topic_id": topic_id, "partitions": [0, 1]}])
    assert again.error_code == ErrorCode.NONE and assigned(again) == [0, 1, 2, 3]

"""__consumer_offsets and __transaction_state: created by the first FindCoordinator, internal, never produced to."""

from tests.gateway.inprocess import call, new_broker
from wire.errors import ErrorCode
from wire.records import build_batch

PRODUCE, METADATA, FIND_COORDINATOR = 0, 3, 10


def metadata(broker, version=12):
    response = call(broker, METADATA, version, {"topics": None, "allow_auto_topic_creation": False,
                                                "include_topic_authorized_operations": False})
    return {t.name: t for t in response.topics}


def find_coordinator(broker, key, key_type=0):
    return call(broker, FIND_COORDINATOR, 4, {"key_type": key_type, "coordinator_keys": [key]}).coordinators[0]


def test_first_group_lookup_creates_consumer_offsets_with_kafkas_partition_count():
    broker = new_broker()
    assert "__consumer_offsets" not in metadata(broker)
    assert find_coordinator(broker, "g").error_code == ErrorCode.NONE
    topic = metadata(broker)["__consumer_offsets"]
    assert topic.is_internal and len(topic.partitions) == 50
    assert find_coordinator(broker, "g2").error_code == ErrorCode.NONE
    assert len(metadata(broker)) == 1
    find_coordinator(broker, "txn", key_type=1)
    assert metadata(broker)["__transaction_state"].is_internal


def test_internal_topics_survive_restart_as_internal():
    broker = new_broker()
    find_coordinator(broker, "g")
    reopened = new_broker(broker.storage)
    assert reopened.logs.get("__consumer_offsets").is_internal


def test_producing_to_an_internal_topic_is_refused_and_appends_nothing():
    broker = new_broker()
    find_coordinator(broker, "g")
    response = call(broker, PRODUCE, 9, {"transactional_id": None, "acks": -1, "timeout_ms": 1000, "topic_data": [
        {"name": "__consumer_offsets", "partition_data": [{"index": 0, "records": build_batch([(b"k", b"v", [], 1000)])}]}]})
    assert response.responses[0].partition_responses[0].error_code == ErrorCode.INVALID_TOPIC_EXCEPTION
    assert broker.logs.partition("__consumer_offsets", 0).high_watermark == 0


def test_an_internal_name_is_internal_however_the_topic_was_created():
    broker = new_broker()
    created = call(broker, 19, 7, {"timeout_ms": 1000, "validate_only": False, "topics": [
        {"name": "__transaction_state", "num_partitions": 3, "replication_factor": -1, "assignments": [],
         "configs": []}]}).topics[0]
    assert created.error_code == ErrorCode.NONE
    assert metadata(broker)["__transaction_state"].is_internal and len(metadata(broker)["__transaction_state"].partitions) == 3


def test_the_cluster_metadata_topic_cannot_be_created():
    broker = new_broker()
    created = call(broker, 19, 7, {"timeout_ms": 1000, "validate_only": False, "topics": [
        {"name": "__cluster_metadata", "num_partitions": 1, "replication_factor": -1, "assignments": [],
         "configs": []}]}).topics[0]
    assert (created.error_code, created.error_message) == (
        ErrorCode.INVALID_REQUEST, "Creation of internal topic __cluster_metadata is prohibited.")
    assert broker.logs.get("__cluster_metadata") is None

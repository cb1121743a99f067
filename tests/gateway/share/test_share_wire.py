"""Over the wire, against a broker process: what librdkafka never sends. ShareAcknowledge v2 Renew,
the v2 acquire modes, DescribeShareGroupOffsets/AlterShareGroupOffsets/DeleteShareGroupOffsets, and
the error codes of the share-group APIs."""

import pytest

from tests.gateway.rawclient import RawClient
from tests.gateway.share.support import (
    ALTER_OFFSETS, DELETE_OFFSETS, DESCRIBE, DESCRIBE_OFFSETS, Member, acquired,
)
from tests.gateway.test_handlers import create, produce
from wire.errors import ErrorCode
from wire.records import build_batch

ACCEPT, RELEASE, REJECT, RENEW = 1, 2, 3, 4
METADATA = 3


class Wire(RawClient):
    def topic_id(self, name: str) -> bytes:
        response = self.request(METADATA, 12, {"topics": [{"name": name, "topic_id": b"\0" * 16}],
                                               "allow_auto_topic_creation": False,
                                               "include_topic_authorized_operations": False})
        return response.topics[0].topic_id


@pytest.fixture(scope="module")
def wire(broker):
    client = Wire(broker.address)
    yield client
    client.close()


def _member(wire, group, topic):
    member = Member(wire, group, [topic])
    assert member.heartbeat().error_code == ErrorCode.NONE
    assert member.fetch().error_code == ErrorCode.NONE  # the SPSO starts here: latest, nothing yet
    return member


def _produce(wire, topic, n, start=0):
    produce(wire, topic, build_batch([(None, b"%d" % i, [], 1000) for i in range(start, start + n)]))


def test_v2_acquire_modes_and_renew(wire):
    create(wire, "wire-modes")
    m = _member(wire, "wire-modes-g", "wire-modes")
    _produce(wire, "wire-modes", 5)
    _produce(wire, "wire-modes", 5, 5)
    assert acquired(m.fetch(version=2, max_records=3, mode=1)) == [(0, 2, 1)]  # record-limit: exactly 3
    # batch-optimized: 3 and 4 are fewer than max_records, so the next batch comes whole
    assert acquired(m.fetch(version=2, max_records=3, mode=0)) == [(3, 9, 1)]
    renewed = m.acknowledge({("wire-modes", 0): [(0, 9, [RENEW])]}, version=2, renew=True)
    assert renewed.error_code == ErrorCode.NONE and renewed.acquisition_lock_timeout_ms == 30000
    assert renewed.responses[0].partitions[0].error_code == ErrorCode.NONE
    # Renew is v2 with is_renew_ack only
    plain = m.acknowledge({("wire-modes", 0): [(0, 0, [RENEW])]}, version=2)
    assert plain.responses[0].partitions[0].error_code == ErrorCode.INVALID_REQUEST
    done = m.acknowledge({("wire-modes", 0): [(0, 4, [ACCEPT]), (5, 9, [RELEASE])]}, version=2)
    assert done.responses[0].partitions[0].error_code == ErrorCode.NONE
    assert acquired(m.fetch(version=2, max_records=100)) == [(5, 9, 2)]


def test_offsets_admin(wire):
    create(wire, "wire-offsets")
    m = _member(wire, "wire-offsets-g", "wire-offsets")
    _produce(wire, "wire-offsets", 4)
    m.fetch(acks={})
    m.acknowledge({("wire-offsets", 0): [(0, 1, [ACCEPT])]})
    described = wire.request(DESCRIBE_OFFSETS, 1, {"groups": [
        {"group_id": "wire-offsets-g", "topics": None}, {"group_id": "absent", "topics": None}]})
    group, absent = described.groups
    partition = group.topics[0].partitions[0]
    assert (group.topics[0].topic_name, partition.start_offset, partition.lag) == ("wire-offsets", 2, 2)
    assert absent.error_code == ErrorCode.GROUP_ID_NOT_FOUND
    alter = {"group_id": "wire-offsets-g", "topics": [
        {"topic_name": "wire-offsets", "partitions": [{"partition_index": 0, "start_offset": 3}]}]}
    assert wire.request(ALTER_OFFSETS, 0, alter).error_code == ErrorCode.NON_EMPTY_GROUP
    delete = {"group_id": "wire-offsets-g", "topics": [{"topic_name": "wire-offsets"}]}
    assert wire.request(DELETE_OFFSETS, 0, delete).error_code == ErrorCode.NON_EMPTY_GROUP
    assert m.heartbeat(epoch=-1).error_code == ErrorCode.NONE
    altered = wire.request(ALTER_OFFSETS, 0, alter)
    assert altered.error_code == ErrorCode.NONE and altered.responses[0].partitions[0].error_code == 0
    v0 = wire.request(DESCRIBE_OFFSETS, 0, {"groups": [{"group_id": "wire-offsets-g", "topics": [
        {"topic_name": "wire-offsets", "partitions": [0]}, {"topic_name": "nope", "partitions": [0]}]}]})
    ours, nope = v0.groups[0].topics
    assert ours.partitions[0].start_offset == 3
    assert nope.partitions[0].error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    m2 = Member(wire, "wire-offsets-g", ["wire-offsets"])
    m2.heartbeat()
    assert acquired(m2.fetch()) == [(3, 3, 1)]  # from the altered start offset
    m2.heartbeat(epoch=-1)
    deleted = wire.request(DELETE_OFFSETS, 0, delete)
    assert deleted.error_code == ErrorCode.NONE and deleted.responses[0].error_code == ErrorCode.NONE
    after = wire.request(DESCRIBE_OFFSETS, 1, {"groups": [{"group_id": "wire-offsets-g", "topics": [
        {"topic_name": "wire-offsets", "partitions": [0]}]}]})
    assert after.groups[0].topics[0].partitions[0].start_offset == -1  # no state: starts over by auto.offset.reset
    missing = wire.request(DELETE_OFFSETS, 0, {"group_id": "wire-offsets-g", "topics": [{"topic_name": "nope"}]})
    assert missing.responses[0].error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    alter["group_id"] = "wire-offsets-new"  # Alter creates the share group
    assert wire.request(ALTER_OFFSETS, 0, alter).error_code == ErrorCode.NONE


def test_error_codes(wire):
    create(wire, "wire-errors")
    a = _member(wire, "wire-errors-g", "wire-errors")
    b = _member(wire, "wire-errors-g", "wire-errors")
    _produce(wire, "wire-errors", 2)
    assert acquired(a.fetch()) == [(0, 1, 1)]
    # INVALID_RECORD_STATE: b acknowledges a's records
    stolen = b.acknowledge({("wire-errors", 0): [(0, 1, [ACCEPT])]})
    assert stolen.responses[0].partitions[0].error_code == ErrorCode.INVALID_RECORD_STATE
    piggy = b.fetch(acks={("wire-errors", 0): [(0, 0, [ACCEPT])]})
    assert piggy.responses[0].partitions[0].acknowledge_error_code == ErrorCode.INVALID_RECORD_STATE
    # INVALID_SHARE_SESSION_EPOCH, SHARE_SESSION_NOT_FOUND
    assert a.fetch(epoch=a.session_epoch + 3).error_code == ErrorCode.INVALID_SHARE_SESSION_EPOCH
    assert a.acknowledge({}, epoch=0).error_code == ErrorCode.INVALID_SHARE_SESSION_EPOCH
    stranger = Member(wire, "wire-errors-g", ["wire-errors"])
    assert stranger.fetch(epoch=4).error_code == ErrorCode.SHARE_SESSION_NOT_FOUND
    assert stranger.acknowledge({}, epoch=4).error_code == ErrorCode.SHARE_SESSION_NOT_FOUND
    # UNKNOWN_MEMBER_ID: a session needs a member; FENCED_MEMBER_EPOCH: a heartbeat from the wrong epoch
    assert stranger.fetch().error_code == ErrorCode.UNKNOWN_MEMBER_ID
    assert stranger.heartbeat(epoch=1).error_code == ErrorCode.UNKNOWN_MEMBER_ID
    assert a.heartbeat(epoch=a.epoch + 5).error_code == ErrorCode.FENCED_MEMBER_EPOCH
    # INVALID_REQUEST: acknowledgements in the opening fetch, and a malformed batch
    assert a.fetch(epoch=0, acks={("wire-errors", 0): [(0, 0, [ACCEPT])]}).error_code == ErrorCode.INVALID_REQUEST
    bad = a.acknowledge({("wire-errors", 0): [(1, 0, [ACCEPT])]})
    assert bad.responses[0].partitions[0].error_code == ErrorCode.INVALID_REQUEST
    # GROUP_ID_NOT_FOUND for a group of another type, in every share API
    wire.request(11, 5, {"group_id": "wire-classic", "session_timeout_ms": 10000, "rebalance_timeout_ms": 10000,
                         "member_id": "", "group_instance_id": None, "protocol_type": "consumer",
                         "protocols": [{"name": "range", "metadata": b""}]})
    assert Member(wire, "wire-classic", ["wire-errors"]).heartbeat().error_code == ErrorCode.GROUP_ID_NOT_FOUND
    described = wire.request(DESCRIBE, 1, {"group_ids": ["wire-classic"], "include_authorized_operations": False})
    assert described.groups[0].error_code == ErrorCode.GROUP_ID_NOT_FOUND
    assert wire.request(DELETE_OFFSETS, 0, {"group_id": "wire-classic", "topics": []}).error_code == \
        ErrorCode.GROUP_ID_NOT_FOUND
    # a final ShareFetch closes the session
    assert a.fetch(epoch=-1).error_code == ErrorCode.NONE
    assert a.fetch(epoch=7).error_code == ErrorCode.SHARE_SESSION_NOT_FOUND

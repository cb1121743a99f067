"""ShareGroupHeartbeat, ShareFetch and ShareAcknowledge in-process: what librdkafka sends and what it does not."""

import pytest

from tests.gateway.share.support import (
    DELETE_GROUPS, DESCRIBE, DESCRIBE_GROUPS, LIST_GROUPS, Member, acquired, call, new_broker, produce,
    set_group_configs,
)
from wire.errors import ErrorCode
from wire.records import build_batch

EARLIEST = {"share.auto.offset.reset": "earliest"}
ACCEPT, RELEASE, REJECT, RENEW = 1, 2, 3, 4


@pytest.fixture
def broker():
    b = new_broker()
    b.logs.create_topic("t", 1)
    set_group_configs(b, "g", EARLIEST)
    return b


def joined(broker, group="g", topics=("t",)):
    member = Member(broker, group, list(topics))
    assert member.heartbeat().error_code == ErrorCode.NONE
    return member


def test_join_gets_every_partition_and_a_group_epoch(broker):
    a = joined(broker)
    assert a.epoch == 1
    assert [(p.topic_id, list(p.partitions)) for p in a.assignment.topic_partitions] == [
        (broker.logs.get("t").topic_id, [0])]
    b = joined(broker)
    assert b.epoch == 2 and list(b.assignment.topic_partitions[0].partitions) == [0]  # both hold partition 0
    response = a.heartbeat()
    assert response.member_epoch == 2 and response.heartbeat_interval_ms == 5000


def test_heartbeat_errors(broker):
    a = joined(broker)
    assert a.heartbeat(epoch=a.epoch + 1).error_code == ErrorCode.FENCED_MEMBER_EPOCH
    stranger = Member(broker, "g", ["t"])
    assert stranger.heartbeat(epoch=3).error_code == ErrorCode.UNKNOWN_MEMBER_ID
    assert Member(broker, "", ["t"]).heartbeat().error_code == ErrorCode.INVALID_REQUEST
    assert Member(broker, "g", ["t"], member_id="").heartbeat().error_code == ErrorCode.INVALID_REQUEST
    assert Member(broker, "g", []).heartbeat().error_code == ErrorCode.INVALID_REQUEST
    broker.groups.groups["classic"] = type(broker.groups.groups["g"]).__mro__[1]("classic")  # any other group type
    assert Member(broker, "classic", ["t"]).heartbeat().error_code == ErrorCode.GROUP_ID_NOT_FOUND


def test_leave_releases_locks_at_once(broker):
    produce(broker, "t", [b"a", b"b"])
    a, b = joined(broker), joined(broker)
    assert acquired(a.fetch()) == [(0, 1, 1)]  # the fetch that opens a session fetches too
    assert acquired(b.fetch()) == []
    assert a.heartbeat(epoch=-1).member_epoch == -1
    assert acquired(b.fetch()) == [(0, 1, 2)]
    late = a.acknowledge({("t", 0): [(0, 1, [ACCEPT])]}, epoch=-1)  # librdkafka acknowledges after leaving
    assert late.error_code == ErrorCode.NONE
    assert late.responses[0].partitions[0].error_code == ErrorCode.INVALID_RECORD_STATE
    assert a.fetch().error_code == ErrorCode.SHARE_SESSION_NOT_FOUND


def test_session_epochs(broker):
    a = joined(broker)
    assert a.fetch(epoch=1).error_code == ErrorCode.SHARE_SESSION_NOT_FOUND
    assert a.fetch().error_code == ErrorCode.NONE  # opens at 0
    assert a.fetch(epoch=5).error_code == ErrorCode.INVALID_SHARE_SESSION_EPOCH
    assert a.fetch(epoch=1).error_code == ErrorCode.NONE
    assert a.fetch(epoch=2).error_code == ErrorCode.NONE
    assert a.acknowledge({}, epoch=0).error_code == ErrorCode.INVALID_SHARE_SESSION_EPOCH
    assert a.fetch(acks={("t", 0): [(0, 0, [ACCEPT])]}, epoch=0).error_code == ErrorCode.INVALID_REQUEST
    assert Member(broker, "g", ["t"]).fetch().error_code == ErrorCode.UNKNOWN_MEMBER_ID  # not a member
    assert a.fetch(epoch=-1).error_code == ErrorCode.NONE  # closes
    assert a.fetch(epoch=4).error_code == ErrorCode.SHARE_SESSION_NOT_FOUND


def test_records_are_shared_between_members_and_acks_piggyback(broker):
    produce(broker, "t", [b"0", b"1", b"2"])
    produce(broker, "t", [b"3", b"4"])
    a, b = joined(broker), joined(broker)
    first = a.fetch(max_records=1)  # batch-optimized: the whole first batch
    assert acquired(first) == [(0, 2, 1)] and first.acquisition_lock_timeout_ms == 30000
    assert acquired(b.fetch()) == [(3, 4, 1)]
    response = a.fetch(acks={("t", 0): [(0, 2, [ACCEPT])]})
    assert response.responses[0].partitions[0].acknowledge_error_code == ErrorCode.NONE
    assert broker.shares.partitions["g", broker.logs.get("t").topic_id, 0].start == 3
    # a can't acknowledge b's records: INVALID_RECORD_STATE, and nothing changes
    response = a.acknowledge({("t", 0): [(3, 4, [ACCEPT])]})
    assert response.responses[0].partitions[0].error_code == ErrorCode.INVALID_RECORD_STATE


def test_release_redelivers_reject_does_not(broker):
    produce(broker, "t", [b"0", b"1"])
    a = joined(broker)
    assert acquired(a.fetch()) == [(0, 1, 1)]
    response = a.acknowledge({("t", 0): [(0, 1, [RELEASE, REJECT])]})
    assert response.responses[0].partitions[0].error_code == ErrorCode.NONE
    assert acquired(a.fetch()) == [(0, 0, 2)]


def test_v2_record_limit_mode_and_renew(broker):
    produce(broker, "t", [b"%d" % i for i in range(10)])
    a = joined(broker)
    assert acquired(a.fetch(version=2, max_records=4, mode=1)) == [(0, 3, 1)]
    assert acquired(a.fetch(version=2, max_records=4, mode=0)) == [(4, 9, 1)]
    # Renew only with is_renew_ack on v2; such a request acknowledges and fetches nothing
    response = a.acknowledge({("t", 0): [(0, 3, [RENEW])]}, version=2, renew=True)
    assert response.error_code == ErrorCode.NONE and response.acquisition_lock_timeout_ms == 30000
    assert response.responses[0].partitions[0].error_code == ErrorCode.NONE
    response = a.acknowledge({("t", 0): [(0, 3, [RENEW])]}, version=1)
    assert response.responses[0].partitions[0].error_code == ErrorCode.INVALID_REQUEST
    response = a.fetch(version=2, renew=True, acks={("t", 0): [(4, 9, [RENEW])]})
    assert acquired(response) == [] and response.responses[0].partitions[0].acknowledge_error_code == 0


def test_unknown_topic_id_and_partition(broker):
    a = joined(broker)
    broker.logs.create_topic("u", 1)
    response = a.fetch(partitions=[("t", 7)])
    assert response.responses[0].partitions[0].error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    u = broker.logs.get("u")
    broker.logs.delete_topic("u")
    topics = [{"topic_id": u.topic_id, "partitions": [{"partition_index": 0, "acknowledgement_batches": []}]}]
    response = call(broker, 78, 1, {"group_id": "g", "member_id": a.member_id, "share_session_epoch": a.session_epoch,
                                    "max_wait_ms": 0, "min_bytes": 1, "max_records": 10, "batch_size": 10,
                                    "topics": topics, "forgotten_topics_data": []})
    assert [p.error_code for t in response.responses for p in t.partitions] == [
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_ID]


def test_lock_expiry_through_the_broker_tick(broker):
    set_group_configs(broker, "g", {"share.record.lock.duration.ms": "1000"})
    produce(broker, "t", [b"x"])
    a, b = joined(broker), joined(broker)
    assert acquired(a.fetch()) == [(0, 0, 1)]
    deadline = broker.shares.next_deadline()
    assert deadline is not None
    broker.tick(deadline)
    assert acquired(b.fetch()) == [(0, 0, 2)]


def test_latest_is_the_default(broker):
    produce(broker, "t", [b"old"])
    a = Member(broker, "fresh", ["t"])
    a.heartbeat()
    assert acquired(a.fetch()) == []
    produce(broker, "t", [b"new"])
    assert acquired(a.fetch()) == [(1, 1, 1)]


def test_list_describe_and_delete_share_groups(broker):
    a = joined(broker)
    a.fetch()
    listed = call(broker, LIST_GROUPS, 5, {"states_filter": [], "types_filter": ["share"]})
    assert [(g.group_id, g.group_type, g.group_state, g.protocol_type) for g in listed.groups] == [
        ("g", "share", "Stable", "share")]
    assert call(broker, LIST_GROUPS, 5, {"states_filter": [], "types_filter": ["classic"]}).groups == []
    described = call(broker, DESCRIBE, 1, {"group_ids": ["g", "nope"], "include_authorized_operations": False})
    g, nope = described.groups
    assert (g.group_state, g.assignor_name, [m.member_id for m in g.members]) == ("Stable", "simple", [a.member_id])
    assert g.members[0].assignment.topic_partitions[0].topic_name == "t"
    assert nope.error_code == ErrorCode.GROUP_ID_NOT_FOUND
    classic = call(broker, DESCRIBE_GROUPS, 5, {"groups": ["g"], "include_authorized_operations": False})
    assert classic.groups[0].group_state == "Dead"
    deleted = call(broker, DELETE_GROUPS, 2, {"groups_names": ["g"]})
    assert deleted.results[0].error_code == ErrorCode.NON_EMPTY_GROUP
    a.heartbeat(epoch=-1)
    assert broker.shares.start_offsets("g")
    deleted = call(broker, DELETE_GROUPS, 2, {"groups_names": ["g"]})
    assert deleted.results[0].error_code == ErrorCode.NONE
    assert broker.shares.start_offsets("g") == {} and "g" not in broker.groups.groups


def _transaction(broker, topic, values, *, pid, commit, base_sequence=0):
    log = broker.logs.partition(topic, 0)
    log.append(build_batch([(None, v, [], 1000) for v in values], producer_id=pid, producer_epoch=0,
                           base_sequence=base_sequence, transactional=True), 1000)
    log.append_control(pid, 0, commit=commit, coordinator_epoch=0, now_ms=1000)


def test_markers_are_never_delivered_and_read_committed_skips_aborted_records(broker):
    set_group_configs(broker, "rc", {"share.auto.offset.reset": "earliest", "share.isolation.level": "read_committed"})
    _transaction(broker, "t", [b"a0", b"a1"], pid=7, commit=False)  # offsets 0-1, marker 2
    _transaction(broker, "t", [b"c0"], pid=7, commit=True, base_sequence=2)  # offset 3, marker 4
    produce(broker, "t", [b"plain"])  # offset 5
    uncommitted, committed = joined(broker), joined(broker, group="rc")
    assert acquired(uncommitted.fetch()) == [(0, 1, 1), (3, 3, 1), (5, 5, 1)]  # markers archived, not handed out
    assert acquired(committed.fetch()) == [(3, 3, 1), (5, 5, 1)]
    committed.acknowledge({("t", 0): [(3, 3, [ACCEPT]), (5, 5, [ACCEPT])]})
    assert broker.shares.partitions["rc", broker.logs.get("t").topic_id, 0].start == 6


def test_read_committed_stops_at_the_last_stable_offset(broker):
    set_group_configs(broker, "rc", {"share.auto.offset.reset": "earliest", "share.isolation.level": "read_committed"})
    log = broker.logs.partition("t", 0)
    produce(broker, "t", [b"before"])
    log.append(build_batch([(None, b"open", [], 1000)], producer_id=9, producer_epoch=0, base_sequence=0,
                           transactional=True), 1000)
    produce(broker, "t", [b"after"])
    committed = joined(broker, group="rc")
    assert log.last_stable_offset == 1
    assert acquired(committed.fetch()) == [(0, 0, 1)]
    log.append_control(9, 0, commit=True, coordinator_epoch=0, now_ms=1000)
    assert acquired(committed.fetch()) == [(1, 2, 1)]


def test_batch_size_cuts_acquired_ranges_at_log_batch_boundaries(broker):
    for start in range(0, 10, 2):
        produce(broker, "t", [b"%d" % i for i in range(start, start + 2)])  # batches of 2: 0-1, 2-3 ...
    a = joined(broker)
    assert acquired(a.fetch(batch_size=3)) == [(0, 3, 1), (4, 7, 1), (8, 9, 1)]


def test_group_share_max_size_and_renew_disabled_come_from_the_configs(broker):
    from gateway.configs import ResourceType

    broker.configs.replace(ResourceType.BROKER, "", {"group.share.max.size": "1"})
    joined(broker)
    assert Member(broker, "g", ["t"]).heartbeat().error_code == ErrorCode.GROUP_MAX_SIZE_REACHED
    set_group_configs(broker, "solo", {"share.auto.offset.reset": "earliest",
                                       "share.renew.acknowledge.enable": "false"})
    produce(broker, "t", [b"x"])
    s = joined(broker, group="solo")
    assert acquired(s.fetch(version=2)) == [(0, 0, 1)]
    response = s.acknowledge({("t", 0): [(0, 0, [RENEW])]}, version=2, renew=True)
    assert response.responses[0].partitions[0].error_code == ErrorCode.INVALID_REQUEST


def test_session_timeout_and_heartbeat_interval_are_the_groups_and_fencing_releases_locks(broker):
    set_group_configs(broker, "g", {"share.session.timeout.ms": "50000", "share.heartbeat.interval.ms": "7000"})
    produce(broker, "t", [b"x", b"y"])
    a, b = joined(broker), joined(broker)
    assert a.heartbeat().heartbeat_interval_ms == 7000
    assert acquired(a.fetch()) == [(0, 1, 1)]
    import time

    time.sleep(0.01)
    b.heartbeat()  # b's session now ends after a's
    deadline = broker.share_groups.timers.deadline(("session", "g", a.member_id))
    b_deadline = broker.share_groups.timers.deadline(("session", "g", b.member_id))
    assert deadline is not None and b_deadline is not None
    broker.tick(deadline)  # a's session runs out (b heartbeat later, so its session is later too)
    assert a.member_id not in broker.groups.groups["g"].members
    assert acquired(b.fetch()) == [(0, 1, 2)]  # a's records were released when it was fenced
    assert a.heartbeat().error_code == ErrorCode.UNKNOWN_MEMBER_ID
    assert a.fetch().error_code == ErrorCode.UNKNOWN_MEMBER_ID  # its session lives on, but it may not fetch


def test_by_duration_starts_at_the_first_record_that_recent(broker):
    import time

    now = int(time.time() * 1000)
    produce(broker, "t", [b"old"], now_ms=now - 3_600_000)
    produce(broker, "t", [b"recent"], now_ms=now - 60_000)
    set_group_configs(broker, "d", {"share.auto.offset.reset": "by_duration:PT10M"})
    d = joined(broker, group="d")
    assert acquired(d.fetch()) == [(1, 1, 1)]


def test_deleting_a_topic_drops_its_share_state(broker):
    from tests.gateway.share.support import call as _call

    produce(broker, "t", [b"x"])
    a = joined(broker)
    a.fetch()
    topic_id = broker.logs.get("t").topic_id
    assert ("g", topic_id, 0) in broker.shares.partitions
    _call(broker, 20, 6, {"topics": [{"name": "t", "topic_id": topic_id}], "timeout_ms": 1000})
    assert ("g", topic_id, 0) not in broker.shares.partitions
    assert list(broker.storage.state().scan(b"H")) == []


def test_simple_assignor_spreads_partitions_and_shares_them_when_members_outnumber_them():
    from gateway.share.group import simple_assign

    t = b"t" * 16
    eight = [(t, p) for p in range(8)]
    two = simple_assign({"m1": eight, "m2": eight}, {})
    assert sorted(len(two[m][t]) for m in two) == [4, 4]
    assert two["m1"][t] | two["m2"][t] == frozenset(range(8))
    three = simple_assign({"a": [(t, 0)], "b": [(t, 0)], "c": [(t, 0)]}, {})
    assert all(three[m] == {t: frozenset({0})} for m in "abc")
    sticky = simple_assign({"m1": eight, "m2": eight}, two)
    assert sticky == two


def test_share_version_0_disables_share_groups_and_1_their_dead_letter_topics(broker):
    from gateway.features import UNSAFE_DOWNGRADE
    from tests.gateway.share.support import DESCRIBE_OFFSETS, call as _call

    a = joined(broker)
    broker.features.update([("share.version", 1, UNSAFE_DOWNGRADE)])
    set_group_configs(broker, "g", {"errors.deadletterqueue.topic.name": "dlq.t"})
    broker.logs.create_topic("dlq.t", 1, {"errors.deadletterqueue.group.enable": "true"})
    produce(broker, "t", [b"x"])
    assert acquired(a.fetch()) == [(0, 0, 1)]
    a.acknowledge({("t", 0): [(0, 0, [REJECT])]})
    assert broker.logs.partition("dlq.t", 0).high_watermark == 0  # level 1: archived, no dead letter
    broker.features.update([("share.version", 0, UNSAFE_DOWNGRADE)])
    assert a.heartbeat().error_code == ErrorCode.UNSUPPORTED_VERSION
    assert a.fetch().error_code == ErrorCode.UNSUPPORTED_VERSION
    assert _call(broker, DESCRIBE_OFFSETS, 1, {"groups": [{"group_id": "g", "topics": None}]}).groups[0].error_code \
        == ErrorCode.UNSUPPORTED_VERSION


def test_share_session_limit_and_invalid_group_id(broker):
    from gateway.configs import ResourceType

    broker.configs.replace(ResourceType.BROKER, "", {"group.share.max.share.sessions": "1"})
    a, b = joined(broker), joined(broker)
    assert a.fetch().error_code == ErrorCode.NONE
    assert b.fetch().error_code == ErrorCode.SHARE_SESSION_LIMIT_REACHED
    assert a.fetch(epoch=-1).error_code == ErrorCode.NONE  # closing one makes room
    assert b.fetch().error_code == ErrorCode.NONE
    nameless = Member(broker, "", ["t"], member_id=b.member_id)
    assert nameless.fetch().error_code == ErrorCode.INVALID_GROUP_ID
    assert nameless.acknowledge({}, epoch=1).error_code == ErrorCode.INVALID_GROUP_ID

"""aiokafka consumer groups: split and hand-over, resume from commits, static members."""

from __future__ import annotations

import pytest

from compat_tests import groups

CLIENT = groups.Client("aiokafka", {
    "session_timeout_ms": groups.SESSION_TIMEOUT_MS, "heartbeat_interval_ms": groups.HEARTBEAT_INTERVAL_MS,
})

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

# No duplicate-instance-id test: aiokafka sends Heartbeat v0-1 and OffsetCommit v2-3, which carry no
# group.instance.id, so a fenced aiokafka member is answered UNKNOWN_MEMBER_ID (by Kafka too), rejoins,
# and takes the instance id back: it never sees FENCED_INSTANCE_ID.

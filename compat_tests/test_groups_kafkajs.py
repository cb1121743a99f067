"""kafkajs 2.2.4 consumer groups (js/group_member.js): split and hand-over, resume from commits."""

from __future__ import annotations

import shutil

import pytest

from compat_tests import groups

CLIENT = groups.Client("kafkajs", {
    "sessionTimeout": groups.SESSION_TIMEOUT_MS, "heartbeatInterval": groups.HEARTBEAT_INTERVAL_MS,
})

pytestmark = [
    pytest.mark.groups,
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
    pytest.mark.skipif(
        not (groups.JS_DIR / "node_modules" / "kafkajs").is_dir(),
        reason="kafkajs is not installed: run `npm ci` in compat_tests/js",
    ),
]
# kafkajs has no static membership (no groupInstanceId), so no group.instance.id tests here.


@pytest.mark.timeout(120)
def test_members_split_partitions_and_take_over_on_close_and_kill9(bootstrap, tmp_path):
    groups.split_then_move_on_close_and_kill9(CLIENT, bootstrap, tmp_path)


def test_restarted_consumer_resumes_from_committed_offsets(bootstrap, tmp_path):
    groups.resume_from_committed_offsets(CLIENT, bootstrap, tmp_path)


def test_consumer_resumes_from_committed_offsets_after_broker_restart(bootstrap, tmp_path, restart_broker):
    groups.resume_from_committed_offsets(CLIENT, bootstrap, tmp_path, restart_broker)


def test_running_consumer_reads_nothing_twice_across_broker_restart(bootstrap, tmp_path, restart_broker):
    groups.running_member_survives_broker_restart(CLIENT, bootstrap, tmp_path, restart_broker)

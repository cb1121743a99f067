"""Class 4: state anyone can make the broker keep is bounded, by Kafka's limits, and expires as in
Kafka; a tick of the coordinator does bounded work however much has expired."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from gateway.groups.config import GroupConfig
from gateway.groups.coordinator import EXPIRY_GROUPS_PER_TICK, GroupCoordinator
from gateway.groups.membership import TIMERS_PER_TICK
from gateway.groups.offsets import INLINE_METADATA_BYTES, STORED
from tests.adversarial.fuzzer import call, memory_broker
from wire.errors import ErrorCode

ROOT = Path(__file__).resolve().parents[2]
OFFSET_COMMIT, OFFSET_FETCH = 8, 9
RETENTION_CHECK_MS = GroupConfig().offsets_retention_check_interval_ms


def _commit(group_id, metadata, partitions=(0,)):
    return {"group_id": group_id, "generation_id_or_member_epoch": -1, "member_id": "", "group_instance_id": None,
            "topics": [{"name": "t", "partitions": [{"partition_index": p, "committed_offset": 7,
                                                     "committed_leader_epoch": -1, "committed_metadata": metadata}
                                                    for p in partitions]}]}


def test_offset_metadata_over_offset_metadata_max_bytes_is_refused():
    broker = memory_broker()
    broker.logs.create_topic("t", 1)
    [topic] = asyncio.run(call(broker, OFFSET_COMMIT, 9, _commit("g", "m" * 4097))).topics
    assert topic.partitions[0].error_code == ErrorCode.OFFSET_METADATA_TOO_LARGE
    [topic] = asyncio.run(call(broker, OFFSET_COMMIT, 9, _commit("g", "m" * 4096))).topics
    assert topic.partitions[0].error_code == ErrorCode.NONE


def test_long_offset_metadata_is_kept_in_the_store_not_in_memory_and_still_fetched():
    broker = memory_broker()
    broker.logs.create_topic("t", 4)
    asyncio.run(call(broker, OFFSET_COMMIT, 9, _commit("g", "é" * 2048, partitions=range(4))))
    held = broker.groups.offsets._offsets["g"]
    assert all(offset.metadata is STORED for offset in held.values())
    fetched = asyncio.run(call(broker, OFFSET_FETCH, 7, {"group_id": "g", "topics": None, "require_stable": False}))
    assert [p.metadata for p in fetched.topics[0].partitions] == ["é" * 2048] * 4
    asyncio.run(call(broker, OFFSET_COMMIT, 9, _commit("g", "short", partitions=[0])))
    assert held[("t", 0)].metadata == "short" and len("short") <= INLINE_METADATA_BYTES


def test_rss_after_a_restart_does_not_grow_with_the_metadata_clients_attached(tmp_path):
    """20 commits of 1,000 partitions x 4 KB metadata (80 MB stored): the restarted process holds little."""
    script = f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
from partitions.rocks import RocksStorage
from gateway.groups.coordinator import GroupCoordinator
def rss(): return int(open('/proc/self/statm').read().split()[1]) * 4096 / 2**20
if sys.argv[1] == 'write':
    storage = RocksStorage(sys.argv[2])
    groups = GroupCoordinator(store=storage.state())
    for g in range(20):
        topics = [{{"name": "t", "partitions": [{{"partition_index": i, "committed_offset": 1,
                    "committed_metadata": str(g) + "m" * 4094}} for i in range(1000)]}}]
        groups.commit_offsets(group_id=f"g{{g}}", topics=topics, now_ms=1000)
    storage.close()
else:
    before = rss()
    storage = RocksStorage(sys.argv[2])
    groups = GroupCoordinator(store=storage.state(), now_ms=1000)
    assert len(groups.offsets.group_ids()) == 20
    assert groups.offsets.get("g7", "t", 999).metadata == "7" + "m" * 4094
    print(rss() - before)
"""
    path = str(tmp_path / "db")
    subprocess.run([sys.executable, "-c", script, "write", path], check=True, timeout=120)
    grown = float(subprocess.run([sys.executable, "-c", script, "read", path], check=True, timeout=120,
                                 capture_output=True, text=True).stdout)
    assert grown < 40, f"RSS grew {grown:.0f} MiB after loading 80 MB of offset metadata"


def _join(coordinator, group_id, version, now, out, client_id="c"):
    coordinator.join_group(group_id=group_id, member_id="", group_instance_id=None, session_timeout_ms=10_000,
                           rebalance_timeout_ms=10_000, protocol_type="consumer", protocols=[("range", b"x")],
                           client_id=client_id, client_host="/h", api_version=version, now_ms=now, respond=out.append)


def _drain(coordinator, now):
    """Tick until nothing is due at now (what the server's timer does); returns the ticks taken."""
    ticks = 0
    while (deadline := coordinator.next_deadline()) is not None and deadline <= now:
        coordinator.tick(now)
        ticks += 1
    return ticks


def test_group_max_size_is_the_broker_setting_and_refuses_the_member_past_it():
    broker = memory_broker(group_max_size=2)
    assert broker.consumer_groups.max_size == 2  # group.consumer.max.size for KIP-848 groups too
    out: list = []
    for i in range(3):
        _join(broker.groups, "g", 0, 1000 + i, out)
    broker.groups.tick(1000)
    assert [r["error_code"] for r in out].count(ErrorCode.GROUP_MAX_SIZE_REACHED) == 1
    assert len(broker.groups.groups["g"].members) == 2


def test_ten_thousand_v0_members_that_never_come_back_expire_and_take_their_group_with_them():
    coordinator = GroupCoordinator(GroupConfig())
    out: list = []
    for i in range(10_000):
        _join(coordinator, f"g{i % 100}", 0, 1000, out)
    _drain(coordinator, 1000)
    assert sum(len(g.members) for g in coordinator.groups.values()) == 10_000
    # their connections are gone: no heartbeat ever comes; sessions (10 s) end, then the emptied groups go
    now = 1000 + 10_001
    ticks = _drain(coordinator, now)
    assert sum(len(g.members) for g in coordinator.groups.values()) == 0
    assert ticks >= 10_000 // TIMERS_PER_TICK  # many bounded ticks, not one long one
    now = 1000 + RETENTION_CHECK_MS + 1
    _drain(coordinator, now)
    assert coordinator.groups == {}
    assert len(coordinator.timers) == 1  # only the next offsets-retention check


def test_a_hundred_thousand_group_ids_from_joins_are_removed_in_bounded_ticks():
    coordinator = GroupCoordinator(GroupConfig())
    out: list = []
    for i in range(100_000):
        _join(coordinator, f"g{i}", 4, 1000, out)  # v4+: MEMBER_ID_REQUIRED, an Empty group with a pending member
    assert len(coordinator.groups) == 100_000
    now = 1000 + RETENTION_CHECK_MS + 1
    most_removed = 0
    while (deadline := coordinator.next_deadline()) is not None and deadline <= now:
        before = len(coordinator.groups)
        coordinator.tick(now)
        most_removed = max(most_removed, before - len(coordinator.groups))
    assert coordinator.groups == {}
    assert len(coordinator.timers) == 1
    # each tick does a bounded share (at most TIMERS_PER_TICK groups' worth, ~10 ms), never all 100,000 at once
    assert 0 < most_removed <= TIMERS_PER_TICK


def test_groups_made_by_simple_offset_commits_expire_with_their_offsets():
    coordinator = GroupCoordinator(GroupConfig(offsets_retention_minutes=1))
    topics = [{"name": "t", "partitions": [{"partition_index": 0, "committed_offset": 1, "committed_metadata": ""}]}]
    for i in range(2 * EXPIRY_GROUPS_PER_TICK + 1):
        coordinator.offset_commit(group_id=f"g{i}", topics=topics, now_ms=1000)
    _drain(coordinator, 1000 + RETENTION_CHECK_MS)
    assert coordinator.groups == {} and coordinator.offsets.group_ids() == []

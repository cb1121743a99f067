"""Classic groups survive a broker restart: members, generation and assignments come back from the store."""

import pytest

from gateway.groups import GroupConfig, MemoryGroupStore
from gateway.groups.group_metadata import GROUP_METADATA_KEY, decode_group_metadata, encode_group_metadata
from partitions.rocks import RocksStorage
from tests.gateway.groups.driver import SESSION_MS, Driver, OtherGroup, subscription
from tests.gateway.groups.test_static_membership import static_group
from wire.errors import ErrorCode

MINUTE = 60_000


def restart(d: Driver, store, after_ms: int, config: GroupConfig | None = None) -> Driver:
    """The broker restarted after_ms later: a new coordinator over the same store."""
    return Driver(config, store, group_id=d.group_id, now=d.now + after_ms)


def listed(d: Driver) -> dict[str, tuple[str, str]]:
    return {g["group_id"]: (g["protocol_type"], g["group_state"]) for g in d.coordinator.list_groups()["groups"]}


class CountingStore(MemoryGroupStore):
    """Counts the group metadata records written (offset commits write other keys)."""

    def __init__(self) -> None:
        super().__init__()
        self.group_writes = 0

    def put(self, key: bytes, value: bytes) -> None:
        self.group_writes += key.startswith(GROUP_METADATA_KEY)
        super().put(key, value)


def test_a_stable_group_comes_back_stable_and_its_members_carry_on_as_if_nothing_happened():
    store = MemoryGroupStore()
    d = Driver(store=store)
    (leader, follower), generation = d.stable_group(2)
    described = d.coordinator.describe_groups(["g"], 5)
    r = restart(d, store, 2_000)
    assert r.coordinator.describe_groups(["g"], 5) == described
    assert described["groups"][0]["members"][1]["member_assignment"] == follower.encode()
    assert r.heartbeat(leader, generation) == ErrorCode.NONE
    assert r.heartbeat(follower, generation) == ErrorCode.NONE
    assert r.commit({("t", 0): 5}, generation=generation, member_id=follower) == {("t", 0): ErrorCode.NONE}
    assert r.committed() == {("t", 0): 5}
    assert r.sync(follower, generation).response["assignment"] == follower.encode()
    rejoin = r.join(follower)  # unchanged subscription: it resumes the current generation
    assert (rejoin.error, rejoin.response["generation_id"], rejoin.response["leader"]) == (
        ErrorCode.NONE, generation, leader)
    assert r.group.state_name == "Stable"
    assert r.commit({("t", 0): 1}, generation=generation - 1, member_id=follower) == {
        ("t", 0): ErrorCode.ILLEGAL_GENERATION}


def test_the_leader_rejoining_a_reloaded_group_starts_a_normal_rebalance():
    store = MemoryGroupStore()
    d = Driver(store=store)
    (leader, follower), generation = d.stable_group(2)
    r = restart(d, store, 2_000)
    leader_join = r.join(leader)
    assert not leader_join.done and r.group.state_name == "PreparingRebalance"
    assert r.heartbeat(follower, generation) == ErrorCode.REBALANCE_IN_PROGRESS
    follower_join = r.join(follower)
    assert [j.response["generation_id"] for j in (leader_join, follower_join)] == [generation + 1] * 2
    assert [m["member_id"] for m in leader_join.response["members"]] == [leader, follower]


def test_a_stable_static_group_survives_a_restart_of_the_rocksdb_store(tmp_path):
    storage = RocksStorage(str(tmp_path / "rocksdb"))
    d = Driver(store=storage.state())
    ids, generation = static_group(d, "host-a", "host-b")
    d.commit({("t", 1): 9}, generation=generation, member_id=ids["host-a"], instance="host-a")
    storage.close()
    reopened = RocksStorage(str(tmp_path / "rocksdb"))
    try:
        r = restart(d, reopened.state(), 3_000)
        assert r.group.state_name == "Stable" and r.group.generation_id == generation
        assert r.group.static_members == ids
        for instance, member_id in ids.items():
            assert r.heartbeat(member_id, generation, instance=instance) == ErrorCode.NONE
            assert r.sync(member_id, generation, instance=instance).response["assignment"] == instance.encode()
        assert r.commit({("t", 1): 10}, generation=generation, member_id=ids["host-b"], instance="host-b") == {
            ("t", 1): ErrorCode.NONE}
        assert r.committed() == {("t", 1): 10}
    finally:
        reopened.close()


def test_a_static_member_that_restarts_after_the_broker_takes_its_place_and_that_is_persisted():
    store = MemoryGroupStore()
    d = Driver(store=store)
    ids, generation = static_group(d, "host-a", "host-b")
    r = restart(d, store, 1_000)
    takeover = r.join(instance="host-b")  # host-b's process restarted too: it has no member id
    new_id = takeover.response["member_id"]
    assert (takeover.error, takeover.response["generation_id"]) == (ErrorCode.NONE, generation)
    assert r.sync(new_id, generation, instance="host-b").response["assignment"] == b"host-b"
    assert r.group.state_name == "Stable"
    again = restart(r, store, 1_000)
    assert again.group.static_members == {"host-a": ids["host-a"], "host-b": new_id}
    assert again.heartbeat(new_id, generation, instance="host-b") == ErrorCode.NONE
    assert again.heartbeat(ids["host-b"], generation, instance="host-b") == ErrorCode.FENCED_INSTANCE_ID


def test_a_member_that_does_not_come_back_expires_a_session_after_the_restart_and_the_rest_rebalance():
    store = MemoryGroupStore()
    d = Driver(store=store)
    (leader, follower), generation = d.stable_group(2)
    d.advance(SESSION_MS - 1)
    r = restart(d, store, 5_000)  # both members' sessions would have run out by now
    loaded_at = r.now
    r.advance(SESSION_MS - 1)
    assert r.heartbeat(leader, generation) == ErrorCode.NONE
    assert follower in r.group.members  # a fresh session counts from the load
    r.advance(1)
    assert r.now == loaded_at + SESSION_MS and follower not in r.group.members
    assert r.heartbeat(follower, generation) == ErrorCode.UNKNOWN_MEMBER_ID
    assert r.heartbeat(leader, generation) == ErrorCode.REBALANCE_IN_PROGRESS
    rejoin = r.join(leader)
    assert rejoin.response["generation_id"] == generation + 1
    assert [m["member_id"] for m in rejoin.response["members"]] == [leader]
    assert r.sync(leader, generation + 1, {leader: b"all"}).response["assignment"] == b"all"
    assert r.group.state_name == "Stable"


def test_an_empty_group_keeps_its_protocol_type_generation_and_empty_since_timestamp():
    config = GroupConfig(offsets_retention_minutes=10, offsets_retention_check_interval_ms=MINUTE)
    store = MemoryGroupStore()
    d = Driver(config, store)
    (member,), generation = d.stable_group(1, session=1_800_000)
    d.commit({("t", 0): 1}, generation=generation, member_id=member)
    d.advance(3 * MINUTE)
    d.leave((member, None))
    empty_since = d.now
    r = restart(d, store, 4 * MINUTE, config)
    assert listed(r) == {"g": ("consumer", "Empty")}
    assert r.group.state_timestamp == empty_since and r.group.generation_id == generation + 1
    r.advance(6 * MINUTE - 1)  # counted from the commit, these offsets would be gone by now
    assert r.committed() == {("t", 0): 1}
    r.advance(1)  # counted from the restart, they would stay another 4 minutes
    assert r.now - empty_since == 10 * MINUTE and r.committed() == {}
    assert "g" not in r.coordinator.groups
    assert "g" not in restart(r, store, 1_000, config).coordinator.groups  # its record went with it


def test_a_rejoining_member_of_a_reloaded_empty_group_gets_the_next_generation():
    store = MemoryGroupStore()
    d = Driver(store=store)
    (member,), generation = d.stable_group(1)
    d.leave((member, None))
    r = restart(d, store, 1_000)
    assert r.join_new().response["generation_id"] == generation + 2


def test_a_deleted_group_stays_deleted():
    store = MemoryGroupStore()
    d = Driver(store=store)
    (member,), generation = d.stable_group(1)
    d.commit({("t", 0): 4}, generation=generation, member_id=member)
    d.leave((member, None))
    assert d.coordinator.delete_groups(["g"], now_ms=d.now)["results"][0]["error_code"] == ErrorCode.NONE
    r = restart(d, store, 1_000)
    assert listed(r) == {} and r.committed() == {} and len(store) == 0


def test_deleting_a_kip848_group_that_replaced_an_empty_classic_group_removes_the_classic_record():
    store = MemoryGroupStore()
    d = Driver(store=store)
    (member,), _ = d.stable_group(1)
    d.leave((member, None))
    d.coordinator.groups["g"] = OtherGroup("g", members=0)  # what the KIP-848 coordinator does on a join
    assert d.coordinator.delete_groups(["g"], now_ms=d.now)["results"][0]["error_code"] == ErrorCode.NONE
    assert listed(restart(d, store, 1_000)) == {}


def test_a_restart_mid_rebalance_brings_back_the_last_completed_generation():
    store = MemoryGroupStore()
    d = Driver(store=store)
    (leader, follower), generation = d.stable_group(2)
    d.join(leader)
    d.join(follower)
    assert d.group.state_name == "CompletingRebalance" and d.group.generation_id == generation + 1
    r = restart(d, store, 1_000)  # the leader's SyncGroup never arrived
    assert r.group.state_name == "Stable" and r.group.generation_id == generation
    assert r.sync(follower, generation + 1).error == ErrorCode.ILLEGAL_GENERATION
    assert r.heartbeat(follower, generation) == ErrorCode.NONE


def test_a_reloaded_group_over_the_max_size_rebalances():
    store = MemoryGroupStore()
    d = Driver(store=store)
    (leader, follower), generation = d.stable_group(2)
    r = restart(d, store, 1_000, GroupConfig(group_max_size=1))
    assert r.group.state_name == "PreparingRebalance"
    assert r.heartbeat(follower, generation) == ErrorCode.REBALANCE_IN_PROGRESS


def test_one_record_per_completed_rebalance_and_none_for_heartbeats_commits_or_resyncs():
    store = CountingStore()
    d = Driver(store=store)
    (leader, follower), generation = d.stable_group(2)
    assert store.group_writes == 1  # the leader's SyncGroup
    for _ in range(5):
        d.advance(1_000)
        assert d.heartbeat(leader, generation) == d.heartbeat(follower, generation) == ErrorCode.NONE
        d.commit({("t", 0): d.now}, generation=generation, member_id=follower)
    d.sync(follower, generation)
    d.join(follower)
    assert store.group_writes == 1
    d.leave((follower, None))
    assert d.heartbeat(leader, generation) == ErrorCode.REBALANCE_IN_PROGRESS
    d.sync(leader, d.join(leader).response["generation_id"], {leader: b"all"})
    assert store.group_writes == 2
    d.leave((leader, None))  # the join phase completes with nobody: the group is Empty
    assert store.group_writes == 3 and d.group.state_name == "Empty"


def test_a_group_record_round_trips_every_member_field():
    d = Driver()
    protocols = [("range", subscription("t", "ü")), ("roundrobin", b"\x00\x01opaque")]
    (leader, follower), generation = d.stable_group(2, protocols=protocols, session=7_000, rebalance=9_000)
    group = d.group
    group.members[follower].assignment = b""
    loaded = decode_group_metadata("g", encode_group_metadata(group))
    assert (loaded.state_name, loaded.generation_id, loaded.protocol_type, loaded.protocol_name, loaded.leader_id,
            loaded.state_timestamp) == ("Stable", generation, "consumer", "range", leader, group.state_timestamp)
    assert loaded.subscribed_topics == {"t", "ü"}
    fields = ("member_id", "group_instance_id", "client_id", "client_host", "rebalance_timeout_ms",
              "session_timeout_ms", "protocol_type", "protocols", "assignment")
    assert [[getattr(m, f) for f in fields] for m in loaded.members.values()] == [
        [getattr(m, f) for f in fields] for m in group.members.values()]
    assert loaded.members[leader].protocols == protocols and loaded.members[leader].assignment == leader.encode()
    assert loaded.select_protocol() == "range"


@pytest.mark.parametrize("damage", [
    lambda record: record[:-1],
    lambda record: record + b"\x00",
    lambda record: b"\x07" + record[1:],
    lambda record: record[:13] + b"\xff\xff\xff\xfe" + record[17:],
])
def test_a_damaged_record_is_refused(damage):
    d = Driver()
    d.stable_group(1)
    record = encode_group_metadata(d.group)
    decode_group_metadata("g", record)
    with pytest.raises(ValueError):
        decode_group_metadata("g", damage(record))

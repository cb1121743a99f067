"""Time-driven transitions: session expiry, the rebalance timeout, pending syncs, new-member joins."""

from gateway.groups import GroupConfig
from gateway.groups.timers import Timers
from tests.gateway.groups.driver import Driver
from wire.errors import ErrorCode


def test_session_expiry_removes_a_silent_member_and_the_rest_get_a_new_generation():
    d = Driver()
    (leader, quiet, chatty), generation = d.stable_group(3)
    d.advance(9_000)
    assert d.heartbeat(leader, generation) == ErrorCode.NONE
    assert d.heartbeat(chatty, generation) == ErrorCode.NONE
    d.advance(999)
    assert quiet in d.group.members
    d.advance(1)  # 10 s after quiet's last sign of life
    assert quiet not in d.group.members
    assert d.group.state_name == "PreparingRebalance"
    assert d.heartbeat(chatty, generation) == ErrorCode.REBALANCE_IN_PROGRESS
    assert d.heartbeat(quiet, generation) == ErrorCode.UNKNOWN_MEMBER_ID
    replies = [d.join(leader), d.join(chatty)]
    responses = [r.response for r in replies]
    assert {r["generation_id"] for r in responses} == {generation + 1}
    assert [m["member_id"] for m in responses[0]["members"]] == [leader, chatty]


def test_heartbeats_keep_a_member_alive_indefinitely():
    d = Driver()
    (member,), generation = d.stable_group(1)
    for _ in range(100):
        d.advance(9_999)
        assert d.heartbeat(member, generation) == ErrorCode.NONE
    assert d.group.state_name == "Stable"


def test_the_last_member_expiring_empties_the_group_and_bumps_the_generation():
    d = Driver()
    (member,), generation = d.stable_group(1)
    d.advance(10_000)
    assert d.group.state_name == "Empty" and not d.group.members
    assert d.group.generation_id == generation + 1 and d.group.protocol_name is None


def test_the_rebalance_timeout_removes_members_that_did_not_rejoin():
    d = Driver()
    (leader, laggard), generation = d.stable_group(2, rebalance=20_000)
    rejoin = d.join(leader, rebalance=20_000)
    for _ in range(3):  # the laggard stays alive but never rejoins
        d.advance(5_000)
        assert d.heartbeat(laggard, generation) == ErrorCode.REBALANCE_IN_PROGRESS
    d.advance(4_999)
    assert not rejoin.done
    d.advance(1)  # 20 s after the rebalance began
    assert rejoin.response["generation_id"] == generation + 1
    assert [m["member_id"] for m in rejoin.response["members"]] == [leader]
    assert d.heartbeat(laggard, generation) == ErrorCode.UNKNOWN_MEMBER_ID


def test_a_member_parked_in_join_group_outlives_its_session_timeout():
    d = Driver()
    (leader, laggard), generation = d.stable_group(2, rebalance=60_000)
    rejoin = d.join(leader, rebalance=60_000)  # parked until the laggard rejoins or 60 s pass
    for _ in range(11):
        d.advance(5_000)
        assert d.heartbeat(laggard, generation) == ErrorCode.REBALANCE_IN_PROGRESS
    d.advance(4_999)
    assert leader in d.group.members and not rejoin.done  # 59.999 s without a heartbeat
    d.advance(1)
    assert rejoin.response["generation_id"] == generation + 1
    assert d.heartbeat(leader, generation + 1) == ErrorCode.NONE


def test_members_that_never_send_sync_group_are_removed_after_the_rebalance_timeout():
    d = Driver()
    (leader, lost), generation = d.stable_group(2, session=25_000, rebalance=20_000)
    rejoins = [d.join(leader, session=25_000, rebalance=20_000), d.join(lost, session=25_000, rebalance=20_000)]
    new = rejoins[0].response["generation_id"]
    d.sync(leader, new, {leader: b"L", lost: b"X"})  # the lost member never syncs
    d.advance(19_999)
    assert lost in d.group.members and d.group.state_name == "Stable"
    d.advance(1)
    assert lost not in d.group.members
    assert d.group.state_name == "PreparingRebalance"
    assert d.heartbeat(leader, new) == ErrorCode.REBALANCE_IN_PROGRESS


def test_a_new_member_that_is_never_let_in_times_out_its_join():
    d = Driver(GroupConfig(group_new_member_join_timeout_ms=300_000))
    (leader,), generation = d.stable_group(1, rebalance=600_000, session=600_000)
    newcomer = d.join_new(rebalance=600_000, session=600_000)
    for _ in range(5):  # the leader stays alive but does not rejoin
        d.advance(60_000)
        assert d.heartbeat(leader, generation) == ErrorCode.REBALANCE_IN_PROGRESS
    assert d.now == 300_000
    assert newcomer.error == ErrorCode.UNKNOWN_MEMBER_ID and newcomer.response["member_id"] == ""


def test_next_deadline_tells_when_to_tick():
    d = Driver(GroupConfig(offsets_retention_check_interval_ms=10**9))
    assert d.coordinator.next_deadline() == 10**9  # only the offsets expiry check
    (member,), generation = d.stable_group(1)
    assert d.coordinator.next_deadline() == 10_000  # the member's session
    d.advance(4_000)
    d.heartbeat(member, generation)
    assert d.coordinator.next_deadline() == 14_000
    d.coordinator.tick(d.coordinator.next_deadline())
    assert not d.group.members


def test_timers_fire_in_deadline_order_and_can_be_replaced_or_cancelled():
    timers = Timers()
    fired = []
    timers.schedule("a", 30, lambda at: fired.append(("a", at)))
    timers.schedule("b", 10, lambda at: fired.append(("b", at)))
    timers.schedule("c", 20, lambda at: fired.append(("c", at)))
    timers.schedule("b", 25, lambda at: fired.append(("b2", at)))  # replaces b
    timers.cancel("c")
    assert timers.next_deadline() == 25 and len(timers) == 2
    assert timers.run_due(24) == 0
    assert timers.run_due(100) == 2
    assert fired == [("b2", 25), ("a", 30)]
    assert timers.next_deadline() is None


def test_an_action_can_schedule_more_work_due_at_once():
    timers = Timers()
    fired = []

    def first(at):
        fired.append(at)
        timers.schedule("second", at, fired.append)

    timers.schedule("first", 5, first)
    assert timers.run_due(5) == 2 and fired == [5, 5]

"""One member's steps towards its target: revoke first, then take what others have released."""

from __future__ import annotations

from types import SimpleNamespace

from gateway.groups.kip848.member import ConsumerGroupMember, MemberState, reconcile

T1 = b"\x01" * 16


def owned(*partitions):
    return [SimpleNamespace(topic_id=T1, partitions=list(partitions))]


def free(topic_id, partition):
    return -1


def held_by_epoch_3(*partitions):
    return lambda topic_id, partition: 3 if partition in partitions else -1


def member(epoch=1, state=MemberState.STABLE, assigned=(), revoking=()):
    return ConsumerGroupMember("m", member_epoch=epoch, previous_member_epoch=epoch - 1, state=state,
                               assigned_partitions={T1: frozenset(assigned)} if assigned else {},
                               partitions_pending_revocation={T1: frozenset(revoking)} if revoking else {})


def test_a_new_member_takes_free_partitions_and_the_target_epoch():
    result = reconcile(member(epoch=0), 4, {T1: frozenset({0, 1})}, free, [])
    assert (result.member_epoch, result.previous_member_epoch, result.state) == (4, 0, MemberState.STABLE)
    assert result.assigned_partitions == {T1: {0, 1}}


def test_partitions_to_give_up_are_revoked_in_the_current_epoch_first():
    result = reconcile(member(epoch=1, assigned={0, 1, 2}), 2, {T1: frozenset({0, 3})}, free, owned(0, 1, 2))
    assert (result.member_epoch, result.state) == (1, MemberState.UNREVOKED_PARTITIONS)
    assert result.assigned_partitions == {T1: {0}}
    assert result.partitions_pending_revocation == {T1: {1, 2}}


def test_the_member_waits_while_it_still_reports_a_revoked_partition():
    waiting = member(epoch=1, state=MemberState.UNREVOKED_PARTITIONS, assigned={0}, revoking={1, 2})
    assert reconcile(waiting, 2, {T1: frozenset({0, 3})}, free, owned(0, 2)) is waiting
    assert reconcile(waiting, 2, {T1: frozenset({0, 3})}, free, None) is waiting


def test_once_revocation_is_acknowledged_the_member_moves_to_the_target():
    waiting = member(epoch=1, state=MemberState.UNREVOKED_PARTITIONS, assigned={0}, revoking={1, 2})
    result = reconcile(waiting, 2, {T1: frozenset({0, 3})}, held_by_epoch_3(1, 2), owned(0))
    assert (result.member_epoch, result.state) == (2, MemberState.STABLE)
    assert result.assigned_partitions == {T1: {0, 3}}
    assert result.partitions_pending_revocation == {}


def test_partitions_another_member_still_holds_are_withheld_until_released():
    result = reconcile(member(epoch=1, assigned={0}), 2, {T1: frozenset({0, 1, 2})}, held_by_epoch_3(2), owned(0))
    assert (result.member_epoch, result.state) == (2, MemberState.UNRELEASED_PARTITIONS)
    assert result.assigned_partitions == {T1: {0, 1}}
    released = reconcile(result, 2, {T1: frozenset({0, 1, 2})}, free, owned(0, 1))
    assert (released.member_epoch, released.state) == (2, MemberState.STABLE)
    assert released.assigned_partitions == {T1: {0, 1, 2}}


def test_a_revocation_the_client_already_made_needs_no_extra_round():
    result = reconcile(member(epoch=1, assigned={0, 1}), 2, {T1: frozenset({0})}, free, owned(0))
    assert (result.member_epoch, result.state) == (2, MemberState.STABLE)
    assert result.assigned_partitions == {T1: {0}}


def test_a_reconciled_member_is_left_as_it_is():
    stable = member(epoch=2, assigned={0})
    assert reconcile(stable, 2, {T1: frozenset({0, 1})}, free, owned(0)) is stable

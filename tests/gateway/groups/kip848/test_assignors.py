"""The uniform and range assignors: balanced, deterministic, sticky; range co-partitions topics."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.groups.kip848.assignors import MemberSubscription, range_assign, uniform_assign

T1 = b"\x01" * 16
T2 = b"\x02" * 16
T3 = b"\x03" * 16


def subscribed(*topics, **previous) -> MemberSubscription:
    return MemberSubscription(frozenset(topics), {t: frozenset(ps) for t, ps in previous.get("had", {}).items()})


def sizes(assignment) -> dict[str, int]:
    return {m: sum(len(ps) for ps in topics.values()) for m, topics in assignment.items()}


def all_partitions(assignment) -> list[tuple[bytes, int]]:
    return sorted((t, p) for topics in assignment.values() for t, ps in topics.items() for p in ps)


def test_uniform_gives_three_members_two_of_six_partitions_each():
    members = {m: subscribed(T1) for m in ("a", "b", "c")}
    assignment = uniform_assign(members, {T1: 6})
    assert sizes(assignment) == {"a": 2, "b": 2, "c": 2}
    assert all_partitions(assignment) == [(T1, p) for p in range(6)]


def test_uniform_spreads_an_uneven_count_by_at_most_one_across_topics():
    members = {m: subscribed(T1, T2) for m in ("a", "b", "c")}
    assignment = uniform_assign(members, {T1: 4, T2: 3})
    assert sorted(sizes(assignment).values()) == [2, 2, 3]
    assert all_partitions(assignment) == [(T1, p) for p in range(4)] + [(T2, p) for p in range(3)]


def test_uniform_is_deterministic_whatever_the_member_order():
    forward = {m: subscribed(T1, T2) for m in ("a", "b", "c", "d")}
    backward = dict(reversed(list(forward.items())))
    assert uniform_assign(forward, {T1: 5, T2: 3}) == uniform_assign(backward, {T1: 5, T2: 3})


def test_uniform_keeps_partitions_in_place_when_a_member_joins():
    members = {"a": subscribed(T1, had={T1: {0, 1, 2}}), "b": subscribed(T1, had={T1: {3, 4, 5}}),
               "c": subscribed(T1)}
    assignment = uniform_assign(members, {T1: 6})
    assert sizes(assignment) == {"a": 2, "b": 2, "c": 2}
    assert assignment["a"][T1] < {0, 1, 2} and assignment["b"][T1] < {3, 4, 5}
    assert assignment["c"][T1] <= {0, 1, 2, 3, 4, 5} - assignment["a"][T1] - assignment["b"][T1]


def test_uniform_gives_the_extra_partition_to_the_member_that_already_holds_more():
    # 7 partitions over 3 members: one keeps 3. The member holding 4 keeps 3 rather than dropping to 2.
    members = {"a": subscribed(T1, had={T1: {0, 1}}), "b": subscribed(T1, had={T1: {2, 3, 4, 5}}),
               "c": subscribed(T1, had={T1: {6}})}
    assignment = uniform_assign(members, {T1: 7})
    assert sizes(assignment) == {"a": 2, "b": 3, "c": 2}
    assert assignment["a"][T1] == {0, 1} and assignment["b"][T1] < {2, 3, 4, 5}


def test_uniform_with_different_subscriptions_gives_topics_only_to_their_subscribers():
    members = {"a": subscribed(T1), "b": subscribed(T1, T2)}
    assignment = uniform_assign(members, {T1: 4, T2: 2})
    assert T2 not in assignment["a"]
    assert assignment["b"][T2] == {0, 1}
    assert sizes(assignment) == {"a": 3, "b": 3}


def test_uniform_ignores_topics_that_do_not_exist():
    assignment = uniform_assign({"a": subscribed(T1, T3)}, {T1: 2})
    assert assignment == {"a": {T1: frozenset({0, 1})}}


def test_uniform_drops_partitions_of_topics_no_longer_subscribed():
    members = {"a": subscribed(T2, had={T1: {0, 1}}), "b": subscribed(T2)}
    assignment = uniform_assign(members, {T1: 2, T2: 2})
    assert all_partitions(assignment) == [(T2, 0), (T2, 1)]


def test_range_co_partitions_topics_of_equal_partition_count():
    members = {"a": subscribed(T1, T2), "b": subscribed(T1, T2)}
    assignment = range_assign(members, {T1: 3, T2: 3})
    assert assignment == {"a": {T1: frozenset({0, 1}), T2: frozenset({0, 1})},
                          "b": {T1: frozenset({2}), T2: frozenset({2})}}


def test_range_hands_out_contiguous_ranges_first_members_one_more():
    members = {m: subscribed(T1) for m in ("a", "b", "c")}
    assignment = range_assign(members, {T1: 8})
    assert assignment == {"a": {T1: frozenset({0, 1, 2})}, "b": {T1: frozenset({3, 4, 5})},
                          "c": {T1: frozenset({6, 7})}}


def test_range_shares_each_topic_among_its_own_subscribers_only():
    members = {"a": subscribed(T1), "b": subscribed(T1, T2), "c": subscribed(T2)}
    assignment = range_assign(members, {T1: 2, T2: 4})
    assert assignment["a"] == {T1: frozenset({0})}
    assert assignment["b"] == {T1: frozenset({1}), T2: frozenset({0, 1})}
    assert assignment["c"] == {T2: frozenset({2, 3})}


def test_range_keeps_what_members_had_within_their_quota():
    members = {"a": subscribed(T1, had={T1: {4, 5}}), "b": subscribed(T1, had={T1: {0, 1, 2, 3}}),
               "c": subscribed(T1)}
    assignment = range_assign(members, {T1: 6})
    assert assignment["a"][T1] == {4, 5}
    assert assignment["b"][T1] == {0, 1}
    assert assignment["c"][T1] == {2, 3}


def test_range_leaves_members_without_partitions_when_there_are_more_members():
    assignment = range_assign({m: subscribed(T1) for m in ("a", "b", "c")}, {T1: 2})
    assert assignment == {"a": {T1: frozenset({0})}, "b": {T1: frozenset({1})}, "c": {}}


member_ids = st.lists(st.sampled_from("abcdefgh"), min_size=1, max_size=6, unique=True)
counts = st.fixed_dictionaries({}, optional={T1: st.integers(0, 9), T2: st.integers(0, 9), T3: st.integers(0, 9)})


@st.composite
def groups(draw):
    topics = draw(counts)
    members = {}
    for member_id in draw(member_ids):
        subscription = draw(st.frozensets(st.sampled_from([T1, T2, T3])))
        had = {t: frozenset(draw(st.frozensets(st.integers(0, 11), max_size=4))) for t in subscription}
        members[member_id] = MemberSubscription(subscription, had)
    # Previous target assignments never share a partition.
    taken: set[tuple[bytes, int]] = set()
    for member_id, spec in list(members.items()):
        had = {t: frozenset(p for p in ps if (t, p) not in taken) for t, ps in spec.assignment.items()}
        taken.update((t, p) for t, ps in had.items() for p in ps)
        members[member_id] = MemberSubscription(spec.subscribed_topic_ids, had)
    return members, topics


@settings(max_examples=300, deadline=None)
@given(groups())
def test_every_subscribed_partition_goes_to_exactly_one_subscriber(group):
    members, topics = group
    for assign in (uniform_assign, range_assign):
        assignment = assign(members, topics)
        assert set(assignment) == set(members)
        expected = sorted((t, p) for t, n in topics.items() for p in range(n)
                          if any(t in spec.subscribed_topic_ids for spec in members.values()))
        assert all_partitions(assignment) == expected, assign.__name__
        for member_id, topics_of_member in assignment.items():
            assert set(topics_of_member) <= members[member_id].subscribed_topic_ids
        assert assign(members, topics) == assignment


@settings(max_examples=300, deadline=None)
@given(groups())
def test_uniform_loads_differ_by_at_most_one_when_everyone_subscribes_alike(group):
    members, topics = group
    same = next(iter(members.values())).subscribed_topic_ids
    members = {m: MemberSubscription(same, spec.assignment) for m, spec in members.items()}
    loads = sizes(uniform_assign(members, topics)).values()
    assert max(loads) - min(loads) <= 1

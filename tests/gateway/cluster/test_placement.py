"""Kafka's placement, leader election and coordinator hashing (gateway/placement.py)."""

import pytest

from gateway.placement import (assign_replicas, coordinator_partition, elect_leader, java_abs, java_string_hash,
                               seeded_start)


@pytest.mark.parametrize("text, expected", [
    ("", 0), ("a", 97), ("hello", 99162322), ("Hello, World", -505841268),
    ("polygenelubricants", -2**31),  # Java's famous Integer.MIN_VALUE hash
    ("héllo", 103094734),  # non-ASCII: UTF-16 code units, not UTF-8 bytes
    ("😀", 1772899),  # a surrogate pair is two code units (0xD83D, 0xDE00)
])
def test_java_string_hash(text, expected):
    assert java_string_hash(text) == expected


def test_utils_abs_maps_min_value_to_zero_and_coordinator_partition_uses_it():
    assert java_abs(-2**31) == 0 and java_abs(-5) == 5
    assert coordinator_partition("polygenelubricants", 50) == 0
    assert coordinator_partition("hello", 50) == 99162322 % 50
    assert coordinator_partition("Hello, World", 50) == 505841268 % 50


def test_different_groups_get_different_partitions():
    assert len({coordinator_partition(f"group-{i}", 50) for i in range(100)}) > 30


def test_rack_unaware_assignment_matches_kafkas_own_test():
    # Kafka's ReplicaAssignmentTest: brokers 0-4, 10 partitions, RF 3, fixed start index 0
    expected = [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 0], [4, 0, 1],
                [0, 2, 3], [1, 3, 4], [2, 4, 0], [3, 0, 1], [4, 1, 2]]
    assert assign_replicas(10, 3, [0, 1, 2, 3, 4], start_index=0, shift=0) == expected


def test_assignment_spreads_leaders_and_never_repeats_a_broker():
    placed = assign_replicas(8, 3, [1, 2, 3], start_index=2, shift=1)
    assert all(len(set(r)) == 3 for r in placed)
    leaders = [r[0] for r in placed]
    assert sorted(leaders.count(b) for b in (1, 2, 3)) == [2, 3, 3]
    with pytest.raises(ValueError):
        assign_replicas(1, 4, [1, 2, 3], start_index=0, shift=0)


def test_seeded_start_is_stable_per_topic_id():
    assert seeded_start(b"x" * 16, 3) == seeded_start(b"x" * 16, 3)
    assert all(0 <= v < 3 for v in seeded_start(b"y" * 16, 3))


def test_election_prefers_the_first_live_in_sync_replica_and_unclean_takes_any_live_one():
    assert elect_leader([2, 3, 1], isr=[2, 3, 1], alive=[1, 3]) == 3
    assert elect_leader([2, 3, 1], isr=[2], alive=[1, 3]) == -1
    assert elect_leader([2, 3, 1], isr=[2], alive=[1, 3], unclean=True) == 3
    assert elect_leader([2, 3, 1], isr=[2, 3, 1], alive=[]) == -1

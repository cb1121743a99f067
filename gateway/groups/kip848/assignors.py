"""Server-side assignors of KIP-848 consumer groups, as pure functions: "uniform" and "range".

Both take the members (their subscribed topic ids and their previous target assignment, for
stickiness) and the partition count of every existing subscribed topic, and return every member's
new target assignment (topic id -> partitions). Members are visited in member-id order and topics in
topic-id order, so the same input always gives the same output. A subscribed topic missing from
`partition_counts` (it does not exist) is ignored.

- uniform (Kafka's default): balance first (member loads differ by at most one partition when all
  members subscribe to the same topics), then stickiness (a member keeps what it had). When the
  subscriptions differ, each member keeps at most an even share of what it had, the rest go to the
  least-loaded subscriber, and partitions then move from heavier to lighter subscribers while that
  narrows the gap; loads can stay more than one apart where only a chain of moves would even them.
- range: per topic, its subscribers share contiguous ranges (the first `count % members` of them one
  more), keeping previously held partitions up to their quota; members with the same subscription
  over topics of equal partition counts get the same partition numbers of each (co-partitioning).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

Assignment = Mapping[bytes, frozenset[int]]  # topic id -> partitions


@dataclass(frozen=True, slots=True)
class MemberSubscription:
    subscribed_topic_ids: frozenset[bytes]
    assignment: Assignment = field(default_factory=dict)  # the previous target assignment


GroupAssignment = dict[str, dict[bytes, frozenset[int]]]
Assignor = Callable[[Mapping[str, MemberSubscription], Mapping[bytes, int]], GroupAssignment]


def uniform_assign(members: Mapping[str, MemberSubscription],
                   partition_counts: Mapping[bytes, int]) -> GroupAssignment:
    subscriptions = {m: frozenset(t for t in spec.subscribed_topic_ids if t in partition_counts)
                     for m, spec in sorted(members.items())}
    if len(set(subscriptions.values())) <= 1:
        owned = _uniform_homogeneous(members, subscriptions, partition_counts)
    else:
        owned = _uniform_heterogeneous(members, subscriptions, partition_counts)
    return {m: _freeze(owned[m]) for m in subscriptions}


def range_assign(members: Mapping[str, MemberSubscription],
                 partition_counts: Mapping[bytes, int]) -> GroupAssignment:
    result: dict[str, dict[bytes, set[int]]] = {m: {} for m in sorted(members)}
    subscribers: dict[bytes, list[str]] = {}
    for member_id in result:
        for topic_id in members[member_id].subscribed_topic_ids:
            if topic_id in partition_counts:
                subscribers.setdefault(topic_id, []).append(member_id)
    for topic_id in sorted(subscribers):
        count = partition_counts[topic_id]
        topic_members = subscribers[topic_id]
        quota, extra = divmod(count, len(topic_members))
        kept: set[int] = set()
        unfilled: list[tuple[str, int]] = []
        for member_id in topic_members:
            previous = sorted(p for p in members[member_id].assignment.get(topic_id, ())
                              if p < count and p not in kept)
            retained = previous[:quota]
            remaining = quota - len(previous)
            if remaining < 0 and extra > 0:
                extra -= 1
                retained.append(previous[quota])
            else:
                unfilled.append((member_id, remaining))
            if retained:
                result[member_id].setdefault(topic_id, set()).update(retained)
                kept.update(retained)
        free = [p for p in range(count) if p not in kept]
        start = 0
        for member_id, remaining in unfilled:
            if extra > 0:
                remaining += 1
                extra -= 1
            if remaining > 0:
                result[member_id].setdefault(topic_id, set()).update(free[start:start + remaining])
                start += remaining
    return {m: _freeze(topics) for m, topics in result.items()}


ASSIGNORS: dict[str, Assignor] = {"uniform": uniform_assign, "range": range_assign}


def _uniform_homogeneous(members, subscriptions, partition_counts) -> dict[str, dict[bytes, set[int]]]:
    """Everyone subscribes to the same topics: quotas of total // n, the first total % n one more."""
    owned: dict[str, dict[bytes, set[int]]] = {m: {} for m in subscriptions}
    if not subscriptions:
        return owned
    topics = sorted(next(iter(subscriptions.values())))
    total = sum(partition_counts[t] for t in topics)
    quota, extra = divmod(total, len(subscriptions))
    retained = _retained(members, subscriptions, partition_counts)
    # The extra slots go to the members that already hold the most: fewer partitions move.
    by_holding = sorted(subscriptions, key=lambda m: (-len(retained[m]), m))
    quotas = {m: quota + (1 if i < extra else 0) for i, m in enumerate(by_holding)}
    taken: set[tuple[bytes, int]] = set()
    for member_id in subscriptions:
        for topic_id, partition in retained[member_id][:quotas[member_id]]:
            owned[member_id].setdefault(topic_id, set()).add(partition)
            taken.add((topic_id, partition))
    free = iter([(t, p) for t in topics for p in range(partition_counts[t]) if (t, p) not in taken])
    for member_id in subscriptions:
        for _ in range(quotas[member_id] - min(len(retained[member_id]), quotas[member_id])):
            topic_id, partition = next(free)
            owned[member_id].setdefault(topic_id, set()).add(partition)
    return owned


def _uniform_heterogeneous(members, subscriptions, partition_counts) -> dict[str, dict[bytes, set[int]]]:
    """Subscriptions differ: keep up to an even share, give the rest to the least loaded, then even out."""
    owner: dict[tuple[bytes, int], str] = {}
    load = {m: 0 for m in subscriptions}
    # Nobody keeps more than an even share: what a member had beyond it is handed out again below.
    total = sum(n for t, n in partition_counts.items() if any(t in topics for topics in subscriptions.values()))
    share = -(-total // len(subscriptions))
    for member_id, partitions in _retained(members, subscriptions, partition_counts).items():
        for tp in partitions[:share]:
            owner[tp] = member_id
            load[member_id] += 1
    subscribers = {t: [m for m in subscriptions if t in subscriptions[m]] for t in partition_counts}
    # Topics with the fewest subscribers first: their partitions have the fewest places to go.
    for topic_id in sorted(partition_counts, key=lambda t: (len(subscribers[t]), t)):
        if not subscribers[topic_id]:
            continue
        for partition in range(partition_counts[topic_id]):
            if (topic_id, partition) not in owner:
                member_id = min(subscribers[topic_id], key=lambda m: (load[m], m))
                owner[(topic_id, partition)] = member_id
                load[member_id] += 1
    # Each move lowers the sum of squared loads, so this ends; the bound is only a guard.
    for _ in range(len(owner) * max(1, len(subscriptions))):
        move = _narrowing_move(owner, load, subscribers)
        if move is None:
            break
        tp, member_id = move
        load[owner[tp]] -= 1
        load[member_id] += 1
        owner[tp] = member_id
    owned: dict[str, dict[bytes, set[int]]] = {m: {} for m in subscriptions}
    for (topic_id, partition), member_id in owner.items():
        owned[member_id].setdefault(topic_id, set()).add(partition)
    return owned


def _narrowing_move(owner, load, subscribers) -> tuple[tuple[bytes, int], str] | None:
    """A partition of the most loaded member that a subscriber with two or more fewer could take."""
    by_member: dict[str, list[tuple[bytes, int]]] = {}
    for tp, member_id in owner.items():
        by_member.setdefault(member_id, []).append(tp)
    for member_id in sorted(by_member, key=lambda m: (-load[m], m)):
        for tp in sorted(by_member[member_id]):
            lighter = [m for m in subscribers[tp[0]] if load[m] <= load[member_id] - 2]
            if lighter:
                return tp, min(lighter, key=lambda m: (load[m], m))
    return None


def _retained(members, subscriptions, partition_counts) -> dict[str, list[tuple[bytes, int]]]:
    """Each member's previous partitions that still exist and are still subscribed, each kept once."""
    seen: set[tuple[bytes, int]] = set()
    retained: dict[str, list[tuple[bytes, int]]] = {}
    for member_id, topics in subscriptions.items():
        keep = []
        for topic_id in sorted(members[member_id].assignment):
            if topic_id not in topics:
                continue
            for partition in sorted(members[member_id].assignment[topic_id]):
                tp = (topic_id, partition)
                if partition < partition_counts[topic_id] and tp not in seen:
                    seen.add(tp)
                    keep.append(tp)
        retained[member_id] = keep
    return retained


def _freeze(topics: dict[bytes, set[int]]) -> dict[bytes, frozenset[int]]:
    return {t: frozenset(ps) for t, ps in sorted(topics.items()) if ps}

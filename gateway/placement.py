"""Where a cluster puts things, as Kafka does: replicas, leaders and coordinators (pure functions).

- Replicas: Kafka's rack-unaware assignment (AdminUtils.assignReplicasToBrokersRackUnaware): the
  first replica of partition p is broker (p + start) mod n, the others follow with a shift that
  grows by one every n partitions, so leaders and followers spread evenly.
- Leaders: the first live replica of the assignment that is in the ISR (Kafka's
  PartitionLeaderElectionAlgorithms.offlinePartitionLeaderElection), else, with unclean leader
  election enabled, the first live replica at all; else none (the partition is offline).
- Coordinators: a group or transactional id lives in partition
  `Utils.abs(key.hashCode()) % partitions` of __consumer_offsets / __transaction_state (Java's
  String.hashCode over UTF-16 code units); its coordinator is that partition's leader.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def java_string_hash(text: str) -> int:
    """Java's String.hashCode: s[0]*31^(n-1) + ... + s[n-1] over UTF-16 code units, as a signed int32."""
    h = 0
    data = text.encode("utf-16-be", "surrogatepass")
    for i in range(0, len(data), 2):
        h = (31 * h + ((data[i] << 8) | data[i + 1])) & 0xFFFFFFFF
    return h - (1 << 32) if h & 0x80000000 else h


def java_abs(value: int) -> int:
    """Kafka's Utils.abs: Integer.MIN_VALUE maps to 0 (not to itself, as Math.abs would)."""
    return 0 if value == -(1 << 31) else abs(value)


def coordinator_partition(key: str, partitions: int) -> int:
    """The __consumer_offsets / __transaction_state partition that holds `key` (GroupCoordinator.partitionFor)."""
    return java_abs(java_string_hash(key)) % partitions


def assign_replicas(partitions: int, replication_factor: int, brokers: Sequence[int], *,
                    start_index: int, shift: int, first_partition: int = 0) -> list[list[int]]:
    """Kafka's rack-unaware replica assignment for `partitions` partitions starting at `first_partition`.

    start_index and shift are Kafka's random startIndex and nextReplicaShift (0 <= x < len(brokers))."""
    n = len(brokers)
    if replication_factor > n or replication_factor < 1:
        raise ValueError(f"replication factor {replication_factor} with {n} brokers")
    result = []
    next_shift = shift
    for partition in range(first_partition, first_partition + partitions):
        if partition > 0 and partition % n == 0:
            next_shift += 1
        first = (partition + start_index) % n
        replicas = [brokers[first]]
        for j in range(replication_factor - 1):
            replicas.append(brokers[(first + 1 + (next_shift + j) % (n - 1)) % n])
        result.append(replicas)
    return result


def seeded_start(seed: bytes, brokers: int) -> tuple[int, int]:
    """Kafka draws startIndex and nextReplicaShift at random; Ottla draws them from the topic id, so a
    topic's placement does not depend on when it was first looked at."""
    import random  # only a cluster places anything

    rng = random.Random(seed)
    return rng.randrange(brokers), rng.randrange(brokers)


def elect_leader(replicas: Sequence[int], isr: Iterable[int], alive: Iterable[int], *,
                 unclean: bool = False) -> int:
    """The new leader (-1: none) of a partition whose leader must change."""
    isr, alive = set(isr), set(alive)
    for replica in replicas:
        if replica in isr and replica in alive:
            return replica
    if unclean:
        for replica in replicas:
            if replica in alive:
                return replica
    return -1

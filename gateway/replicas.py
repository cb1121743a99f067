"""Each partition's replica state in a multi-broker cluster: replicas, leader, leader epoch, ISR, and
the leader-epoch history OffsetForLeaderEpoch answers from (Kafka's leader-epoch-checkpoint).

A state is made the first time a partition is looked at (placement: gateway/placement.py) and
stored through `storage.state()` under `partitions.keys.REPLICA_STATE` each time it changes, so
leader epochs only grow, across restarts too. The log itself stamps each batch it appends with its
`leader_epoch`, which this module keeps equal to the state's epoch.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field

from partitions.keys import REPLICA_STATE

_INDEX = struct.Struct(">I")


@dataclass
class ReplicaState:
    """A partition's replicas, leader, epoch and in-sync set."""

    replicas: list[int]
    leader: int  # -1: offline (no live replica could be elected)
    epoch: int = 0
    isr: list[int] = field(default_factory=list)
    # (epoch, start offset) per leader epoch, oldest first: the KIP-101 leader epoch cache
    epochs: list[tuple[int, int]] = field(default_factory=lambda: [(0, 0)])

    def end_offset_for(self, epoch: int, log_end_offset: int) -> tuple[int, int]:
        """OffsetForLeaderEpoch: (the largest epoch <= `epoch`, where it ended), as Kafka's
        LeaderEpochFileCache.endOffsetFor: the current epoch ends at the log end offset; an epoch
        older than every known one is (-1, -1)."""
        found = -1
        for i, (known, _start) in enumerate(self.epochs):
            if known > epoch:
                break
            found = i
        if found < 0:
            return -1, -1
        known = self.epochs[found][0]
        if found + 1 < len(self.epochs):
            return known, self.epochs[found + 1][1]
        return known, log_end_offset

    def to_bytes(self) -> bytes:
        return json.dumps({"replicas": self.replicas, "leader": self.leader, "epoch": self.epoch,
                           "isr": self.isr, "epochs": self.epochs}, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> "ReplicaState":
        d = json.loads(data)
        return cls(d["replicas"], d["leader"], d["epoch"], d["isr"], [tuple(e) for e in d["epochs"]])


def state_key(topic_id: bytes, index: int) -> bytes:
    return REPLICA_STATE + topic_id + _INDEX.pack(index)


class ReplicaStore:
    """The persisted states, by (topic id, partition)."""

    def __init__(self, store) -> None:
        self._store = store

    def load(self) -> dict[tuple[bytes, int], ReplicaState]:
        states = {}
        for key, value in self._store.scan(REPLICA_STATE):
            topic_id, index = key[1:17], _INDEX.unpack(key[17:21])[0]
            states[topic_id, index] = ReplicaState.from_bytes(value)
        return states

    def save(self, topic_id: bytes, index: int, state: ReplicaState) -> None:
        self._store.put(state_key(topic_id, index), state.to_bytes())

    def save_many(self, items: list[tuple[bytes, int, ReplicaState]]) -> None:
        if items:
            self._store.put_many([(state_key(t, i), s.to_bytes()) for t, i, s in items])

    def delete_topic(self, topic_id: bytes, partitions: int) -> None:
        for index in range(partitions):
            self._store.delete(state_key(topic_id, index))

"""Offsets a transaction staged with TxnOffsetCommit: invisible to OffsetFetch until its COMMIT, dropped on ABORT.

Kept per (group, producer id) in memory and written through to the state store, so a transaction found
in PrepareCommit after a restart still commits them. Layout:

    Q <group length:u16> <group utf-8> <producer id:u64> <topic length:u16> <topic utf-8> <partition:u32>
      -> offset:i64 | leader_epoch:i32 | metadata utf-8
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from wire.errors import ErrorCode

PENDING_KEY = b"Q"

_U16 = struct.Struct(">H")
_U64 = struct.Struct(">Q")
_PARTITION = struct.Struct(">I")
_VALUE = struct.Struct(">qi")

Staged = tuple[int, int, str]  # committed_offset, committed_leader_epoch, metadata


class PendingTxnOffsets:
    def __init__(self, store) -> None:
        self._store = store
        # group -> producer id -> (topic, partition) -> staged
        self._pending: dict[str, dict[int, dict[tuple[str, int], Staged]]] = {}
        for key, value in store.scan(PENDING_KEY):
            group_id, producer_id, topic, partition = _decode_key(key)
            offset, epoch = _VALUE.unpack_from(value)
            staged = (offset, epoch, value[_VALUE.size:].decode("utf-8"))
            self._pending.setdefault(group_id, {}).setdefault(producer_id, {})[topic, partition] = staged

    def stage(self, group_id: str, producer_id: int, offsets: Sequence[tuple[str, int, Staged]]) -> None:
        """Stage offsets [(topic, partition, (offset, leader epoch, metadata))] in one store write."""
        if not offsets:
            return
        self._store.put_many([(_encode_key(group_id, producer_id, t, p),
                               _VALUE.pack(o[0], o[1]) + o[2].encode("utf-8")) for t, p, o in offsets])
        staged = self._pending.setdefault(group_id, {}).setdefault(producer_id, {})
        for topic, partition, offset in offsets:
            staged[topic, partition] = offset

    def has_pending(self, group_id: str, topic: str, partition: int) -> bool:
        """Whether any transaction has staged an offset for this group and partition (require_stable)."""
        return any((topic, partition) in staged for staged in self._pending.get(group_id, {}).values())

    def staged(self, group_id: str, producer_id: int) -> dict[tuple[str, int], Staged]:
        return dict(self._pending.get(group_id, {}).get(producer_id, {}))

    def discard(self, group_id: str, producer_id: int) -> None:
        """Forget what producer_id staged for group_id (after its commit is stored, or on abort)."""
        by_producer = self._pending.get(group_id)
        staged = by_producer.pop(producer_id, None) if by_producer else None
        if not staged:
            return
        for topic, partition in staged:
            self._store.delete(_encode_key(group_id, producer_id, topic, partition))
        if not by_producer:
            del self._pending[group_id]


def mark_unstable(coordinator, group_id: str, topics: list[dict]) -> None:
    """OffsetFetch with require_stable: a partition with staged transactional offsets answers
    UNSTABLE_OFFSET_COMMIT (and no offset) until that transaction completes."""
    for topic in topics:
        for partition in topic["partitions"]:
            if coordinator.has_pending_offsets(group_id, topic["name"], partition["partition_index"]):
                partition.update(error_code=ErrorCode.UNSTABLE_OFFSET_COMMIT, committed_offset=-1,
                                 committed_leader_epoch=-1, metadata="")


def as_commit_topics(staged: dict[tuple[str, int], Staged]) -> list[dict]:
    """The staged offsets in GroupCoordinator.commit_offsets' topics shape."""
    topics: dict[str, list[dict]] = {}
    for (topic, partition), (offset, epoch, metadata) in sorted(staged.items()):
        topics.setdefault(topic, []).append({"partition_index": partition, "committed_offset": offset,
                                             "committed_leader_epoch": epoch, "committed_metadata": metadata})
    return [{"name": name, "partitions": partitions} for name, partitions in topics.items()]


def _encode_key(group_id: str, producer_id: int, topic: str, partition: int) -> bytes:
    group = group_id.encode("utf-8")
    name = topic.encode("utf-8")
    return b"".join((PENDING_KEY, _U16.pack(len(group)), group, _U64.pack(producer_id), _U16.pack(len(name)), name,
                     _PARTITION.pack(partition)))


def _decode_key(key: bytes) -> tuple[str, int, str, int]:
    pos = len(PENDING_KEY)
    (size,) = _U16.unpack_from(key, pos)
    group_id = key[pos + 2:pos + 2 + size].decode("utf-8")
    pos += 2 + size
    (producer_id,) = _U64.unpack_from(key, pos)
    pos += 8
    (size,) = _U16.unpack_from(key, pos)
    topic = key[pos + 2:pos + 2 + size].decode("utf-8")
    (partition,) = _PARTITION.unpack_from(key, pos + 2 + size)
    return group_id, producer_id, topic, partition

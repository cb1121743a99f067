"""Committed offsets per (group, topic, partition): held in memory, written through to a GroupStore.

Store layout (keys compare bytewise, so one group's offsets are one prefix, in topic then partition order):

    O <group length:u16> <group utf-8> <topic length:u16> <topic utf-8> <partition:u32>
      -> version:i8 (0) | offset:i64 | leader_epoch:i32 | commit_timestamp:i64 | expire_timestamp:i64 | metadata utf-8
      -> version:i8 (1) | the same four numbers, and the metadata is under the M key
    M <the same key after the O> -> metadata utf-8

Metadata up to INLINE_METADATA_BYTES lives in memory with its offset. Longer metadata (a client may
attach up to offset.metadata.max.bytes, 4096, to every partition) stays in the store alone and is read
back when an OffsetFetch asks for it: what the broker holds in memory per committed offset, and so
its RSS after a restart, does not grow with what clients attach.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import NamedTuple

from gateway.groups.store import GroupStore
from wire.errors import ErrorCode

OFFSET_KEY = b"O"
METADATA_KEY = b"M"
INLINE_METADATA_BYTES = 64
NO_OFFSET = -1
NO_LEADER_EPOCH = -1
NO_EXPIRE_TIMESTAMP = -1

_U16 = struct.Struct(">H")
_PARTITION = struct.Struct(">I")
_VALUE = struct.Struct(">bqiqq")
_VALUE_VERSION = 0
_VALUE_VERSION_EXTERNAL_METADATA = 1
STORED = None  # CommittedOffset.metadata when the metadata is only in the store (under the M key)


class CommittedOffset(NamedTuple):
    """One committed offset as memory holds it (a tuple: a commit of 100 partitions makes 100 of them)."""

    committed_offset: int
    committed_leader_epoch: int = NO_LEADER_EPOCH
    metadata: str = ""
    commit_timestamp: int = 0
    # Set only by OffsetCommit v2-4 with a retention_time_ms; otherwise offsets.retention.minutes applies.
    expire_timestamp: int = NO_EXPIRE_TIMESTAMP

    def held(self) -> "CommittedOffset":
        """This offset as memory keeps it: long metadata only in the store (STORED)."""
        if self.metadata is STORED or len(self.metadata) <= INLINE_METADATA_BYTES // 4:
            return self
        if len(self.metadata.encode("utf-8")) <= INLINE_METADATA_BYTES:
            return self
        return CommittedOffset(self.committed_offset, self.committed_leader_epoch, STORED,
                               self.commit_timestamp, self.expire_timestamp)


class OffsetManager:
    """The committed offsets of every group; each change is written to the store before it is visible."""

    def __init__(self, store: GroupStore) -> None:
        self._store = store
        self._offsets: dict[str, dict[tuple[str, int], CommittedOffset]] = {}
        for key, value in store.scan(OFFSET_KEY):
            group_id, topic, partition = _decode_key(key)
            self._offsets.setdefault(group_id, {})[topic, partition] = _decode_value(value).held()

    def group_ids(self) -> list[str]:
        return list(self._offsets)

    def has_offsets(self, group_id: str) -> bool:
        return bool(self._offsets.get(group_id))

    def get(self, group_id: str, topic: str, partition: int) -> CommittedOffset | None:
        """The committed offset with its metadata (read from the store when long)."""
        offset = self._offsets.get(group_id, {}).get((topic, partition))
        return offset if offset is None else self._with_metadata(group_id, topic, partition, offset)

    def _with_metadata(self, group_id: str, topic: str, partition: int, offset: CommittedOffset) -> CommittedOffset:
        if offset.metadata is not STORED:
            return offset
        key = METADATA_KEY + _encode_key(group_id, topic, partition)[len(OFFSET_KEY):]
        metadata = next((v for k, v in self._store.scan(key) if k == key), b"").decode("utf-8")
        return CommittedOffset(offset.committed_offset, offset.committed_leader_epoch, metadata,
                               offset.commit_timestamp, offset.expire_timestamp)

    def commit(self, group_id: str, topic: str, partition: int, offset: CommittedOffset) -> None:
        self.commit_many(group_id, [(topic, partition, offset)])

    def commit_many(self, group_id: str, commits: list[tuple[str, int, CommittedOffset]]) -> None:
        """Several partitions' offsets in one store write: all of them land or none."""
        by_topic: dict[tuple[str, int, int], list[tuple[int, int, int, str]]] = {}
        for topic, partition, o in commits:
            by_topic.setdefault((topic, o.commit_timestamp, o.expire_timestamp), []).append(
                (partition, o.committed_offset, o.committed_leader_epoch, o.metadata))
        self._commit(group_id, [(topic, partitions, committed_at, expire_at)
                                for (topic, committed_at, expire_at), partitions in by_topic.items()])

    def commit_topics(self, group_id: str, topics: Sequence[tuple[str, Sequence[tuple[int, int, int, str]]]],
                      commit_timestamp: int, expire_timestamp: int = NO_EXPIRE_TIMESTAMP) -> None:
        """One OffsetCommit's offsets, [(topic, [(partition, offset, leader epoch, metadata)])], all with
        these timestamps, in one store write: the whole request lands or none of it. The key prefix is
        encoded once per topic and a partition with no metadata is one `struct` call."""
        self._commit(group_id, [(topic, partitions, commit_timestamp, expire_timestamp) for topic, partitions in topics])

    def _commit(self, group_id: str, topics: list[tuple[str, Sequence[tuple[int, int, int, str]], int, int]]) -> None:
        if not topics:
            return
        group = group_id.encode("utf-8")
        group_prefix = b"".join((OFFSET_KEY, _U16.pack(len(group)), group))
        pack_partition, pack_value, new = _PARTITION.pack, _VALUE.pack, tuple.__new__
        items: list[tuple[bytes, bytes]] = []
        held: list[tuple[tuple[str, int], CommittedOffset]] = []
        for topic, partitions, committed_at, expire_at in topics:
            name = topic.encode("utf-8")
            prefix = b"".join((group_prefix, _U16.pack(len(name)), name))
            for partition, committed, epoch, metadata in partitions:
                key = prefix + pack_partition(partition)
                if not metadata:
                    items.append((key, pack_value(_VALUE_VERSION, committed, epoch, committed_at, expire_at)))
                    held.append(((topic, partition), new(CommittedOffset, (committed, epoch, "", committed_at,
                                                                           expire_at))))
                    continue
                offset = CommittedOffset(committed, epoch, metadata, committed_at, expire_at)
                kept = offset.held()
                external = kept.metadata is STORED
                if external:
                    items.append((METADATA_KEY + key[len(OFFSET_KEY):], metadata.encode("utf-8")))
                items.append((key, _encode_value(offset, external)))
                held.append(((topic, partition), kept))
        if not items:
            return
        self._store.put_many(items)
        offsets = self._offsets.setdefault(group_id, {})
        get = offsets.get
        for tp, kept in held:
            previous = get(tp)
            if previous is not None and previous.metadata is STORED and kept.metadata is not STORED:
                self._store.delete(METADATA_KEY + _encode_key(group_id, *tp)[len(OFFSET_KEY):])
            offsets[tp] = kept

    def delete(self, group_id: str, partitions: Iterable[tuple[str, int]]) -> None:
        offsets = self._offsets.get(group_id)
        if offsets is None:
            return
        for topic, partition in partitions:
            removed = offsets.pop((topic, partition), None)
            if removed is not None:
                key = _encode_key(group_id, topic, partition)
                self._store.delete(key)
                if removed.metadata is STORED:
                    self._store.delete(METADATA_KEY + key[len(OFFSET_KEY):])
        if not offsets:
            del self._offsets[group_id]

    def delete_group(self, group_id: str) -> None:
        self.delete(group_id, list(self._offsets.get(group_id, ())))

    def delete_topics(self, topics: Collection[str]) -> list[str]:
        """Drop every group's offsets of these topics (deleted topics); returns the groups touched."""
        touched = []
        for group_id, offsets in list(self._offsets.items()):
            gone = [tp for tp in offsets if tp[0] in topics]
            if gone:
                self.delete(group_id, gone)
                touched.append(group_id)
        return touched

    def expire(self, group_id: str, now_ms: int, retention_ms: int, base_timestamp: Callable[[CommittedOffset], int],
               keep_topics: Collection[str] = ()) -> list[tuple[str, int]]:
        """Delete offsets past retention, counted from base_timestamp(offset) (or past their explicit
        expire timestamp); offsets of keep_topics stay. Returns what was deleted."""
        expired = [
            tp for tp, offset in self._offsets.get(group_id, {}).items()
            if tp[0] not in keep_topics and (
                now_ms >= offset.expire_timestamp if offset.expire_timestamp != NO_EXPIRE_TIMESTAMP
                else now_ms - base_timestamp(offset) >= retention_ms)
        ]
        self.delete(group_id, expired)
        return expired

    def fetch(self, group_id: str, topics: Sequence | None) -> list[dict]:
        """OffsetFetchResponse `topics` for requested [{name, partition_indexes}], or all when None;
        a partition with nothing committed answers offset -1."""
        offsets = self._offsets.get(group_id, {})
        if topics is None:
            by_topic: dict[str, list[int]] = {}
            for topic, partition in sorted(offsets):
                by_topic.setdefault(topic, []).append(partition)
            requested = list(by_topic.items())
        else:
            requested = [(t["name"], t["partition_indexes"]) for t in topics]
        get, none = offsets.get, ErrorCode.NONE
        answer = []
        for name, partitions in requested:
            entries = []
            for partition in partitions:  # one fresh dict each: OffsetFetch's checks update them in place
                offset = get((name, partition))
                if offset is None:
                    entries.append({"partition_index": partition, "committed_offset": NO_OFFSET,
                                    "committed_leader_epoch": NO_LEADER_EPOCH, "metadata": "", "error_code": none})
                    continue
                if offset.metadata is STORED:
                    offset = self._with_metadata(group_id, name, partition, offset)
                entries.append({"partition_index": partition, "committed_offset": offset.committed_offset,
                                "committed_leader_epoch": offset.committed_leader_epoch,
                                "metadata": offset.metadata, "error_code": none})
            answer.append({"name": name, "partitions": entries})
        return answer


def _encode_key(group_id: str, topic: str, partition: int) -> bytes:
    group = group_id.encode("utf-8")
    name = topic.encode("utf-8")
    return b"".join((OFFSET_KEY, _U16.pack(len(group)), group, _U16.pack(len(name)), name, _PARTITION.pack(partition)))


def _decode_key(key: bytes) -> tuple[str, str, int]:
    pos = len(OFFSET_KEY)
    (size,) = _U16.unpack_from(key, pos)
    group_id = key[pos + 2 : pos + 2 + size].decode("utf-8")
    pos += 2 + size
    (size,) = _U16.unpack_from(key, pos)
    topic = key[pos + 2 : pos + 2 + size].decode("utf-8")
    (partition,) = _PARTITION.unpack_from(key, pos + 2 + size)
    return group_id, topic, partition


def _encode_value(offset: CommittedOffset, external: bool = False) -> bytes:
    if external:
        return _VALUE.pack(_VALUE_VERSION_EXTERNAL_METADATA, offset.committed_offset, offset.committed_leader_epoch,
                           offset.commit_timestamp, offset.expire_timestamp)
    return _VALUE.pack(_VALUE_VERSION, offset.committed_offset, offset.committed_leader_epoch,
                       offset.commit_timestamp, offset.expire_timestamp) + offset.metadata.encode("utf-8")


def _decode_value(value: bytes) -> CommittedOffset:
    version, committed, epoch, committed_at, expire_at = _VALUE.unpack_from(value, 0)
    if version == _VALUE_VERSION_EXTERNAL_METADATA:
        return CommittedOffset(committed, epoch, STORED, committed_at, expire_at)
    if version != _VALUE_VERSION:
        raise ValueError(f"unknown committed offset record version {version}")
    return CommittedOffset(committed, epoch, value[_VALUE.size :].decode("utf-8"), committed_at, expire_at)

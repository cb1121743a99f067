"""Classic group metadata records: each group's last completed rebalance, written through a GroupStore.

Kafka's GroupMetadataManager writes a GroupMetadataKey/Value record to __consumer_offsets when a group
completes a rebalance (the leader's SyncGroup, with every member's assignment), when a static member
takes over another's place in a Stable group, and when a join phase leaves the group Empty; deleting
the group writes a tombstone. On load a group with members is Stable, one without is Empty, and
`currentStateTimestamp` comes back, so offsets of an Empty group expire counting from when it emptied.
This is the same record, one per group, replaced by each write:

    G <group utf-8>
      -> version:i8 (0) | generation_id:i32 | state_timestamp:i64 | protocol_type:str | protocol_name:str?
         | leader:str? | member_count:i32 | member*
    member := member_id:str | group_instance_id:str? | client_id:str | client_host:str
              | rebalance_timeout_ms:i32 | session_timeout_ms:i32 | protocol_count:i32 | (name:str metadata:bytes)*
              | assignment:bytes
    str := length:i32 (-1: null) utf-8;  bytes := length:i32 bytes      (all integers big-endian)

Unlike Kafka's record, which keeps only the chosen protocol's subscription, a member keeps every
protocol it offered, so after a restart its unchanged JoinGroup resumes the generation instead of
forcing a rebalance. (Committed offsets use their own keys: `gateway.groups.offsets`.)
KIP-848 consumer groups (`gateway.groups.kip848`) are not written here: they live in memory only.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from gateway.groups.group import EMPTY, STABLE, ClassicGroup, Member
from gateway.groups.store import GroupStore

GROUP_METADATA_KEY = b"G"

_VERSION = 0
_HEADER = struct.Struct(">biq")  # version, generation_id, state_timestamp
_I32 = struct.Struct(">i")
_TIMEOUTS = struct.Struct(">ii")  # rebalance_timeout_ms, session_timeout_ms
_NULL = -1


class GroupMetadataStore:
    """Each classic group's latest metadata record in a `GroupStore`: one write per completed rebalance."""

    def __init__(self, store: GroupStore) -> None:
        self._store = store

    def store_group(self, group: ClassicGroup) -> None:
        """Write the group as it stands: Stable with its members and their assignments, or Empty."""
        self._store.put(group_metadata_key(group.group_id), encode_group_metadata(group))

    def delete_group(self, group_id: str) -> None:
        """The tombstone: the group is gone and must not come back on the next load."""
        self._store.delete(group_metadata_key(group_id))

    def load(self) -> Iterator[ClassicGroup]:
        """Every stored group, rebuilt as Kafka loads one (Stable with its members, or Empty); timers
        are the caller's to schedule."""
        for key, value in self._store.scan(GROUP_METADATA_KEY):
            yield decode_group_metadata(key[len(GROUP_METADATA_KEY) :].decode("utf-8"), value)


def group_metadata_key(group_id: str) -> bytes:
    return GROUP_METADATA_KEY + group_id.encode("utf-8")


def encode_group_metadata(group: ClassicGroup) -> bytes:
    out = [_HEADER.pack(_VERSION, group.generation_id, group.state_timestamp),
           _str(group.protocol_type), _str(group.protocol_name), _str(group.leader_id),
           _I32.pack(len(group.members))]
    for member in group.members.values():
        out += [_str(member.member_id), _str(member.group_instance_id), _str(member.client_id),
                _str(member.client_host), _TIMEOUTS.pack(member.rebalance_timeout_ms, member.session_timeout_ms),
                _I32.pack(len(member.protocols))]
        for name, metadata in member.protocols:
            out += [_str(name), _bytes(metadata)]
        out.append(_bytes(member.assignment))
    return b"".join(out)


def decode_group_metadata(group_id: str, value: bytes) -> ClassicGroup:
    """The group a record describes; ValueError on a record this code cannot read."""
    reader = _Reader(value)
    version, generation_id, state_timestamp = reader.unpack(_HEADER)
    if version != _VERSION:
        raise ValueError(f"group {group_id}: unknown group metadata record version {version}")
    group = ClassicGroup(group_id, state_timestamp)
    group.generation_id = generation_id
    group.protocol_type = reader.read_str()
    group.protocol_name = reader.read_str()
    leader_id = reader.read_str()
    (count,) = reader.unpack(_I32)
    members = []
    for _ in range(count):
        member_id, group_instance_id, client_id, client_host = (reader.read_str() for _ in range(4))
        rebalance_timeout_ms, session_timeout_ms = reader.unpack(_TIMEOUTS)
        (protocol_count,) = reader.unpack(_I32)
        protocols = [(reader.read_str(), reader.read_bytes()) for _ in range(protocol_count)]
        members.append(Member(member_id, group_instance_id, client_id, client_host, rebalance_timeout_ms,
                              session_timeout_ms, group.protocol_type, protocols, reader.read_bytes()))
    reader.done()
    group.leader_id = leader_id
    for member in members:
        group.add(member, None)
    group.state = STABLE if members else EMPTY
    group.subscribed_topics = group.compute_subscribed_topics()
    return group


def _str(text: str | None) -> bytes:
    if text is None:
        return _I32.pack(_NULL)
    return _bytes(text.encode("utf-8"))


def _bytes(data: bytes) -> bytes:
    return _I32.pack(len(data)) + data


class _Reader:
    """Reads a record front to back; every read is bounds-checked."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._pos = 0

    def unpack(self, layout: struct.Struct) -> tuple:
        if self._pos + layout.size > len(self._data):
            raise ValueError("group metadata record is truncated")
        values = layout.unpack_from(self._data, self._pos)
        self._pos += layout.size
        return values

    def read_bytes(self) -> bytes:
        size = self._size()
        if size < 0:
            raise ValueError("group metadata record has a null where bytes belong")
        return self._take(size)

    def read_str(self) -> str | None:
        size = self._size()
        return None if size == _NULL else self._take(size).decode("utf-8")

    def done(self) -> None:
        if self._pos != len(self._data):
            raise ValueError(f"group metadata record has {len(self._data) - self._pos} bytes left over")

    def _size(self) -> int:
        (size,) = self.unpack(_I32)
        if size < _NULL:
            raise ValueError(f"group metadata record has a negative length {size}")
        return size

    def _take(self, size: int) -> bytes:
        if self._pos + size > len(self._data):
            raise ValueError("group metadata record is truncated")
        data = bytes(self._data[self._pos : self._pos + size])
        self._pos += size
        return data

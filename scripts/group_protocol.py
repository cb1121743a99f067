"""The consumer protocol's member metadata and assignment bytes, as a classic group's leader writes them.

ConsumerProtocolSubscription (version int16, topics []string, user data bytes) and
ConsumerProtocolAssignment (version int16, [topic string, partitions []int32], user data bytes),
encoded by hand so the benchmark measures the broker, not a client library; plus a range assignor.
"""

from __future__ import annotations

import struct

NULL_BYTES = -1


def _string(text: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack(">h", len(raw)) + raw


def subscription(topics: list[str]) -> bytes:
    """version int16, topics []string, user_data bytes (null)."""
    return struct.pack(">hi", 0, len(topics)) + b"".join(map(_string, topics)) + struct.pack(">i", NULL_BYTES)


def subscribed_topics(metadata: bytes) -> list[str]:
    (count,) = struct.unpack_from(">i", metadata, 2)
    topics, pos = [], 6
    for _ in range(count):
        (size,) = struct.unpack_from(">h", metadata, pos)
        topics.append(bytes(metadata[pos + 2 : pos + 2 + size]).decode("utf-8"))
        pos += 2 + size
    return topics


def assignment(partitions_by_topic: dict[str, list[int]]) -> bytes:
    """version int16, assigned_partitions [topic string, partitions []int32], user_data bytes (null)."""
    out = [struct.pack(">hi", 0, len(partitions_by_topic))]
    for topic, partitions in partitions_by_topic.items():
        out += [_string(topic), struct.pack(f">i{len(partitions)}i", len(partitions), *partitions)]
    return b"".join(out) + struct.pack(">i", NULL_BYTES)


def assigned_partitions(data: bytes) -> dict[str, list[int]]:
    if not data:
        return {}
    (count,) = struct.unpack_from(">i", data, 2)
    out, pos = {}, 6
    for _ in range(count):
        (size,) = struct.unpack_from(">h", data, pos)
        topic = bytes(data[pos + 2 : pos + 2 + size]).decode("utf-8")
        (n,) = struct.unpack_from(">i", data, pos + 2 + size)
        out[topic] = list(struct.unpack_from(f">{n}i", data, pos + 6 + size))
        pos += 6 + size + 4 * n
    return out


def range_assignment(members, partition_counts: dict[str, int]) -> list[dict]:
    """Kafka's RangeAssignor: per topic, its subscribers sorted by member id take consecutive ranges."""
    plan: dict[str, dict[str, list[int]]] = {m.member_id: {} for m in members}
    for topic, count in partition_counts.items():
        subscribers = sorted(m.member_id for m in members if topic in subscribed_topics(m.metadata))
        per_member, extra = divmod(count, len(subscribers))
        for i, member_id in enumerate(subscribers):
            start = i * per_member + min(i, extra)
            plan[member_id][topic] = list(range(start, start + per_member + (i < extra)))
    return [{"member_id": m, "assignment": assignment(p)} for m, p in plan.items()]

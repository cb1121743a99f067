"""The topics a consumer subscribes to, read from its JoinGroup metadata (ConsumerProtocolSubscription).

Every version of the consumer protocol starts with `version int16, topics []string` (non-flexible
encoding: int32 array length, int16 string lengths), so only that prefix is read; later fields
(user data, owned partitions, generation, rack) are ignored.
"""

from __future__ import annotations

import struct

CONSUMER_PROTOCOL_TYPE = "consumer"

_INT16 = struct.Struct(">h")
_INT32 = struct.Struct(">i")


def subscription_topics(metadata: bytes) -> list[str]:
    """The subscribed topics; ValueError when the bytes are not a consumer protocol subscription."""
    try:
        (version,) = _INT16.unpack_from(metadata, 0)
        (count,) = _INT32.unpack_from(metadata, 2)
        if version < 0 or count < 0:
            raise ValueError(f"not a consumer subscription (version {version}, {count} topics)")
        topics = []
        pos = 6
        for _ in range(count):
            (size,) = _INT16.unpack_from(metadata, pos)
            pos += 2
            if size < 0 or pos + size > len(metadata):
                raise ValueError("consumer subscription topic name out of bounds")
            topics.append(bytes(metadata[pos : pos + size]).decode("utf-8"))
            pos += size
        return topics
    except (struct.error, UnicodeDecodeError) as exc:
        raise ValueError(f"not a consumer subscription: {exc}") from exc

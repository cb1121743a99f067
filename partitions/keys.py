"""The whole RocksDB key layout: every key the RocksDB engine reads or writes is built and parsed here.

Keys are bytes compared bytewise, so integers are big-endian unsigned and sort numerically.

    T <topic name utf-8>                                        topic metadata (JSON)
    M <counter name ascii>                                      broker counters (int64), e.g. next producer id
    D <topic id:16> <partition:u32> B <base offset:u64>         one stored record batch (its bytes)
    D <topic id:16> <partition:u32> I <base offset:u64>         that batch's index entry (see INDEX_ENTRY)
    D <topic id:16> <partition:u32> P <producer id:u64>         idempotent-producer state (producers.py bytes)
    D <topic id:16> <partition:u32> O <producer id:u64>         that producer's open transaction here:
                                                                first offset:i64 (transactions.py)
    D <topic id:16> <partition:u32> A <last offset:u64>         an aborted transaction ending at its ABORT
                                                                marker: producer id:i64, first offset:i64
    D <topic id:16> <partition:u32> G <base offset:u64>         one segment's summary (see SEGMENT_ENTRY)
    D <topic id:16> <partition:u32> L                           log start offset, cleaner's first dirty offset
    S <key>                                                     broker state owned by coordinators
                                                                (committed offsets: gateway.groups.offsets)
    S H <group length:u16> <group utf-8> <topic id:16> <partition:u32>
                                                                one share-partition's state (gateway.share)
    S R <topic id:16> <partition:u32>                           how far a DLQ partition was replayed (u64)
    S C <resource type:u8> <resource name utf-8>                one resource's dynamic configs (JSON object;
                                                                gateway.configs: BROKER, GROUP, CLIENT_METRICS)
    S U <entity (JSON list of [type, name])>                    one client-quota entity's quotas (JSON object)
    S A <binding (JSON list: type, name, pattern, principal,   one ACL binding (empty value; gateway.security.acls)
         host, operation, permission)>

A segment summary (G) is stored with the segment's first batch, whole when the segment closes, and for the
active segment only every segments.SAVE_EVERY batches: its stored summary may miss its last batches (fewer
than SAVE_EVERY), which opening adds back from their index entries (I keys are stored with every batch).
A data dir written when every append stored the active summary is this layout with nothing to add back.

Everything a topic owns lives under D <topic id>, so deleting a topic is one range delete, and a
re-created topic (a new id) can never see the old one's data.
"""

from __future__ import annotations

import struct

TOPIC = b"T"
COUNTER = b"M"
DATA = b"D"
BATCH = b"B"
INDEX = b"I"
PRODUCER = b"P"
ONGOING_TXN = b"O"
ABORTED_TXN = b"A"
SEGMENT = b"G"
LOG_META = b"L"

STATE = b"S"
CONFIG_STATE = b"C"  # state keys (relative to S, as storage.state() takes them)
QUOTA_STATE = b"U"  # (O, G, F, X and Q are taken by groups, features and transactions)
ACL_STATE = b"A"
REPLICA_STATE = b"E"  # a cluster's per-partition replicas, leader, epoch, ISR (gateway/replicas.py)
SCRAM_STATE = b"W"  # SCRAM credentials: W + mechanism + NUL + user name (gateway/security/credentials.py)

NEXT_PRODUCER_ID = b"next_producer_id"

_PARTITION = struct.Struct(">I")
_U64 = U64 = struct.Struct(">Q")  # (U64: for a caller building keys from partition_prefix)
INT64 = struct.Struct(">q")
# Index entry value: last_offset_delta int32, max_timestamp int64, size int32 (bytes of the whole batch).
INDEX_ENTRY = struct.Struct(">iqi")
# Aborted transaction value: producer_id int64, first_offset int64 (its last offset is the key's suffix).
ABORTED_TXN_ENTRY = struct.Struct(">qq")
# Segment value: next offset, size in bytes, batch count, max timestamp, rolling timestamp, created ms (int64s).
SEGMENT_ENTRY = struct.Struct(">qqqqqq")
# Log meta value: log start offset, first dirty offset (where the cleaner resumes), int64s.
LOG_META_ENTRY = struct.Struct(">qq")

_PARTITION_PREFIX_LEN = 1 + 16 + 4


def topic_key(name: str) -> bytes:
    return TOPIC + name.encode("utf-8")


def topic_name(key: bytes) -> str:
    return key[1:].decode("utf-8")


def counter_key(name: bytes) -> bytes:
    return COUNTER + name


def topic_range(topic_id: bytes) -> tuple[bytes, bytes]:
    """[start, end) covering every key a topic's partitions own (kinds are ASCII letters, below 0xff)."""
    start = DATA + topic_id
    return start, start + b"\xff" * 5


def partition_prefix(topic_id: bytes, partition: int) -> bytes:
    return DATA + topic_id + _PARTITION.pack(partition)


def kind_range(topic_id: bytes, partition: int, kind: bytes) -> tuple[bytes, bytes]:
    """[start, end) of one kind of key (BATCH, INDEX, PRODUCER, ONGOING_TXN, ABORTED_TXN) in one partition."""
    prefix = partition_prefix(topic_id, partition)
    return prefix + kind, prefix + bytes([kind[0] + 1])


def batch_key(topic_id: bytes, partition: int, base_offset: int) -> bytes:
    return partition_prefix(topic_id, partition) + BATCH + _U64.pack(base_offset)


def index_key(topic_id: bytes, partition: int, base_offset: int) -> bytes:
    return partition_prefix(topic_id, partition) + INDEX + _U64.pack(base_offset)


def segment_key(topic_id: bytes, partition: int, base_offset: int) -> bytes:
    return partition_prefix(topic_id, partition) + SEGMENT + _U64.pack(base_offset)


def log_meta_key(topic_id: bytes, partition: int) -> bytes:
    return partition_prefix(topic_id, partition) + LOG_META


def offset_range(topic_id: bytes, partition: int, kind: bytes, start: int, end: int) -> tuple[bytes, bytes]:
    """[start, end) of one kind of offset-keyed key (BATCH, INDEX, SEGMENT by base offset, ABORTED_TXN by last)."""
    prefix = partition_prefix(topic_id, partition) + kind
    return prefix + _U64.pack(start), prefix + _U64.pack(end)


def producer_key(topic_id: bytes, partition: int, producer_id: int) -> bytes:
    return partition_prefix(topic_id, partition) + PRODUCER + _U64.pack(producer_id)


def ongoing_txn_key(topic_id: bytes, partition: int, producer_id: int) -> bytes:
    return partition_prefix(topic_id, partition) + ONGOING_TXN + _U64.pack(producer_id)


def aborted_txn_key(topic_id: bytes, partition: int, last_offset: int) -> bytes:
    return partition_prefix(topic_id, partition) + ABORTED_TXN + _U64.pack(last_offset)


def suffix_u64(key: bytes) -> int:
    """The trailing u64 (base offset, producer id or last offset) of a partition's BATCH, INDEX, PRODUCER,
    ONGOING_TXN, ABORTED_TXN or SEGMENT key."""
    return _U64.unpack_from(key, _PARTITION_PREFIX_LEN + 1)[0]


SHARE_PARTITION = b"H"
DLQ_REPLAYED = b"R"
_U16 = struct.Struct(">H")


def share_partition_key(group_id: str, topic_id: bytes, partition: int) -> bytes:
    """The state key (below S) of one share group's state for one partition."""
    return share_group_prefix(group_id) + topic_id + _PARTITION.pack(partition)


def share_group_prefix(group_id: str) -> bytes:
    group = group_id.encode("utf-8")
    return SHARE_PARTITION + _U16.pack(len(group)) + group


def parse_share_partition_key(key: bytes) -> tuple[str, bytes, int]:
    (length,) = _U16.unpack_from(key, 1)
    group_end = 3 + length
    return (key[3:group_end].decode("utf-8"), key[group_end:group_end + 16],
            _PARTITION.unpack_from(key, group_end + 16)[0])


def dlq_replayed_key(topic_id: bytes, partition: int) -> bytes:
    return DLQ_REPLAYED + topic_id + _PARTITION.pack(partition)


def state_key(key: bytes) -> bytes:
    return STATE + key


def state_range(prefix: bytes) -> tuple[bytes, bytes]:
    """[start, end) of the state keys starting with prefix."""
    start = STATE + prefix
    return start, _prefix_end(start)


def _prefix_end(prefix: bytes) -> bytes:
    """The smallest key greater than every key that starts with prefix."""
    stripped = prefix.rstrip(b"\xff")
    return stripped[:-1] + bytes([stripped[-1] + 1])


def config_state_key(resource_type: int, name: str) -> bytes:
    """The state key (relative to S) of one config resource's dynamic configs."""
    return CONFIG_STATE + bytes([resource_type]) + name.encode("utf-8")


def parse_config_state_key(key: bytes) -> tuple[int, str]:
    return key[1], key[2:].decode("utf-8")

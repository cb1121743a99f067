"""Fetch (key 1): v4-18.

v4 adds isolation_level, last_stable_offset and aborted_transactions (read_committed); v5 adds
log_start_offset; v7 adds fetch sessions (KIP-227: session_id/session_epoch, forgotten topics);
v9 adds current_leader_epoch (KIP-320); v10 allows zstd; v11 adds rack_id and
preferred_read_replica (KIP-392); v12 is the first flexible version (diverging_epoch,
current_leader, snapshot_id); v13 identifies topics by topic_id (KIP-516); v15 replaces replica_id
with the replica_state tagged field (KIP-903); v16 adds node_endpoints (KIP-951); v17 adds
replica_directory_id (KIP-853); v18 adds the high_watermark tagged field (KIP-1166).
"""

from wire.schema import Api, Field, Message

FETCH = Api(
    1,
    "Fetch",
    request=Message("FetchRequest", 1, valid="4-18", flexible="12+", fields=[
        Field("cluster_id", "string", "12+", nullable="12+", tag=0, default=None),
        Field("replica_id", "int32", "0-14", default=-1),
        Field("replica_state", "ReplicaState", "15+", tag=1, fields=[
            Field("replica_id", "int32", "15+", default=-1),
            Field("replica_epoch", "int64", "15+", default=-1),
        ]),
        Field("max_wait_ms", "int32"),
        Field("min_bytes", "int32"),
        Field("max_bytes", "int32", "3+", default=0x7FFFFFFF),
        Field("isolation_level", "int8", "4+"),
        Field("session_id", "int32", "7+"),
        Field("session_epoch", "int32", "7+", default=-1),
        Field("topics", "[]FetchTopic", fields=[
            Field("topic", "string", "0-12"),
            Field("topic_id", "uuid", "13+"),
            Field("partitions", "[]FetchPartition", fields=[
                Field("partition", "int32"),
                Field("current_leader_epoch", "int32", "9+", default=-1),
                Field("fetch_offset", "int64"),
                Field("last_fetched_epoch", "int32", "12+", default=-1),
                Field("log_start_offset", "int64", "5+", default=-1),
                Field("partition_max_bytes", "int32"),
                Field("replica_directory_id", "uuid", "17+", tag=0),
                Field("high_watermark", "int64", "18+", tag=1, default=0x7FFFFFFFFFFFFFFF),
            ]),
        ]),
        Field("forgotten_topics_data", "[]ForgottenTopic", "7+", fields=[
            Field("topic", "string", "7-12"),
            Field("topic_id", "uuid", "13+"),
            Field("partitions", "[]int32", "7+"),
        ]),
        Field("rack_id", "string", "11+"),
    ]),
    response=Message("FetchResponse", 1, valid="4-18", flexible="12+", fields=[
        Field("throttle_time_ms", "int32", "1+"),
        Field("error_code", "int16", "7+"),
        Field("session_id", "int32", "7+"),
        Field("responses", "[]FetchableTopicResponse", fields=[
            Field("topic", "string", "0-12"),
            Field("topic_id", "uuid", "13+"),
            Field("partitions", "[]PartitionData", fields=[
                Field("partition_index", "int32"),
                Field("error_code", "int16"),
                Field("high_watermark", "int64"),
                Field("last_stable_offset", "int64", "4+", default=-1),
                Field("log_start_offset", "int64", "5+", default=-1),
                Field("diverging_epoch", "EpochEndOffset", "12+", tag=0, fields=[
                    Field("epoch", "int32", "12+", default=-1),
                    Field("end_offset", "int64", "12+", default=-1),
                ]),
                Field("current_leader", "LeaderIdAndEpoch", "12+", tag=1, fields=[
                    Field("leader_id", "int32", "12+", default=-1),
                    Field("leader_epoch", "int32", "12+", default=-1),
                ]),
                Field("snapshot_id", "SnapshotId", "12+", tag=2, fields=[
                    Field("end_offset", "int64", default=-1),
                    Field("epoch", "int32", default=-1),
                ]),
                Field("aborted_transactions", "[]AbortedTransaction", "4+", nullable="4+", fields=[
                    Field("producer_id", "int64", "4+"),
                    Field("first_offset", "int64", "4+"),
                ]),
                Field("preferred_read_replica", "int32", "11+", default=-1),
                Field("records", "records", nullable="0+"),
            ]),
        ]),
        Field("node_endpoints", "[]NodeEndpoint", "16+", tag=0, fields=[
            Field("node_id", "int32", "16+"),
            Field("host", "string", "16+"),
            Field("port", "int32", "16+"),
            Field("rack", "string", "16+", nullable="16+", default=None),
        ]),
    ]),
)

"""ListOffsets (key 2): v1-11.

v1 returns one offset with its timestamp; v2 adds isolation_level (read_committed answers below the
last stable offset); v4 adds current_leader_epoch and leader_epoch (KIP-320); v5 may return
OFFSET_NOT_AVAILABLE; v6 is the first flexible version. Special timestamps: -1 latest, -2 earliest,
-3 max timestamp (v7+, KIP-734), -4 local log start (v8+, KIP-405), -5 last tiered offset (v9+,
KIP-1005), -6 earliest pending upload (v11+, KIP-1023); v10 adds timeout_ms (KIP-1075).
"""

from wire.schema import Api, Field, Message

LIST_OFFSETS = Api(
    2,
    "ListOffsets",
    request=Message("ListOffsetsRequest", 2, valid="1-11", flexible="6+", fields=[
        Field("replica_id", "int32"),
        Field("isolation_level", "int8", "2+"),
        Field("topics", "[]ListOffsetsTopic", fields=[
            Field("name", "string"),
            Field("partitions", "[]ListOffsetsPartition", fields=[
                Field("partition_index", "int32"),
                Field("current_leader_epoch", "int32", "4+", default=-1),
                Field("timestamp", "int64"),
            ]),
        ]),
        Field("timeout_ms", "int32", "10+"),
    ]),
    response=Message("ListOffsetsResponse", 2, valid="1-11", flexible="6+", fields=[
        Field("throttle_time_ms", "int32", "2+"),
        Field("topics", "[]ListOffsetsTopicResponse", fields=[
            Field("name", "string"),
            Field("partitions", "[]ListOffsetsPartitionResponse", fields=[
                Field("partition_index", "int32"),
                Field("error_code", "int16"),
                Field("timestamp", "int64", "1+", default=-1),
                Field("offset", "int64", "1+", default=-1),
                Field("leader_epoch", "int32", "4+", default=-1),
            ]),
        ]),
    ]),
)

"""OffsetForLeaderEpoch (key 23): v2-4.

Consumers use it to detect log truncation after a leader change (KIP-320). v2 adds
current_leader_epoch for fencing; v3 adds replica_id (default -2, a "debug" consumer allowed to see
offsets beyond the high watermark; consumers send -1); v4 is the first flexible version.
"""

from wire.schema import Api, Field, Message

OFFSET_FOR_LEADER_EPOCH = Api(
    23,
    "OffsetForLeaderEpoch",
    request=Message("OffsetForLeaderEpochRequest", 23, valid="2-4", flexible="4+", fields=[
        Field("replica_id", "int32", "3+", default=-2),
        Field("topics", "[]OffsetForLeaderTopic", fields=[
            Field("topic", "string"),
            Field("partitions", "[]OffsetForLeaderPartition", fields=[
                Field("partition", "int32"),
                Field("current_leader_epoch", "int32", "2+", default=-1),
                Field("leader_epoch", "int32"),
            ]),
        ]),
    ]),
    response=Message("OffsetForLeaderEpochResponse", 23, valid="2-4", flexible="4+", fields=[
        Field("throttle_time_ms", "int32", "2+"),
        Field("topics", "[]OffsetForLeaderTopicResult", fields=[
            Field("topic", "string"),
            Field("partitions", "[]EpochEndOffset", fields=[
                Field("error_code", "int16"),
                Field("partition", "int32"),
                Field("leader_epoch", "int32", "1+", default=-1),
                Field("end_offset", "int64", default=-1),
            ]),
        ]),
    ]),
)

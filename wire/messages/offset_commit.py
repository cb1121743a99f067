"""OffsetCommit (key 8): v2-10.

Kafka 4.0 removed v0-1, so neither spec defines them. v2-4 carry retention_time_ms, dropped in v5
(retention is broker configuration); v3 adds throttle time; v6 adds committed_leader_epoch; v7 adds
group_instance_id; v8 is the first flexible version; v9 is the first usable with the consumer group
protocol (KIP-848: generation_id_or_member_epoch holds the member epoch); v10 names topics by topic_id.
"""

from wire.schema import Api, Field, Message

OFFSET_COMMIT = Api(
    8,
    "OffsetCommit",
    request=Message("OffsetCommitRequest", 8, valid="2-10", flexible="8+", fields=[
        Field("group_id", "string"),
        Field("generation_id_or_member_epoch", "int32", "1+", default=-1),
        Field("member_id", "string", "1+"),
        Field("group_instance_id", "string", "7+", nullable="7+", default=None),
        Field("retention_time_ms", "int64", "2-4", default=-1),
        Field("topics", "[]OffsetCommitRequestTopic", fields=[
            Field("name", "string", "0-9"),
            Field("topic_id", "uuid", "10+"),
            Field("partitions", "[]OffsetCommitRequestPartition", fields=[
                Field("partition_index", "int32"),
                Field("committed_offset", "int64"),
                Field("committed_leader_epoch", "int32", "6+", default=-1),
                Field("committed_metadata", "string", nullable="0+"),
            ]),
        ]),
    ]),
    response=Message("OffsetCommitResponse", 8, valid="2-10", flexible="8+", fields=[
        Field("throttle_time_ms", "int32", "3+"),
        Field("topics", "[]OffsetCommitResponseTopic", fields=[
            Field("name", "string", "0-9"),
            Field("topic_id", "uuid", "10+"),
            Field("partitions", "[]OffsetCommitResponsePartition", fields=[
                Field("partition_index", "int32"),
                Field("error_code", "int16"),
            ]),
        ]),
    ]),
)

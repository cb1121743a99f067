"""OffsetFetch (key 9): v1-10.

Kafka 4.0 removed v0 (offsets in ZooKeeper), so neither spec defines it. v2 allows null topics (all
topics) and adds the top-level error_code; v3 adds throttle time; v5 returns committed_leader_epoch;
v6 is the first flexible version; v7 adds require_stable; v8 fetches for many groups at once
(groups); v9 adds member_id and member_epoch (KIP-848); v10 names topics by topic_id.
"""

from wire.schema import Api, Field, Message

OFFSET_FETCH = Api(
    9,
    "OffsetFetch",
    request=Message("OffsetFetchRequest", 9, valid="1-10", flexible="6+", fields=[
        Field("group_id", "string", "0-7"),
        Field("topics", "[]OffsetFetchRequestTopic", "0-7", nullable="2-7", fields=[
            Field("name", "string", "0-7"),
            Field("partition_indexes", "[]int32", "0-7"),
        ]),
        Field("groups", "[]OffsetFetchRequestGroup", "8+", fields=[
            Field("group_id", "string", "8+"),
            Field("member_id", "string", "9+", nullable="9+", default=None),
            Field("member_epoch", "int32", "9+", default=-1),
            Field("topics", "[]OffsetFetchRequestTopics", "8+", nullable="8+", fields=[
                Field("name", "string", "8-9"),
                Field("topic_id", "uuid", "10+"),
                Field("partition_indexes", "[]int32", "8+"),
            ]),
        ]),
        Field("require_stable", "bool", "7+", default=False),
    ]),
    response=Message("OffsetFetchResponse", 9, valid="1-10", flexible="6+", fields=[
        Field("throttle_time_ms", "int32", "3+"),
        Field("topics", "[]OffsetFetchResponseTopic", "0-7", fields=[
            Field("name", "string", "0-7"),
            Field("partitions", "[]OffsetFetchResponsePartition", "0-7", fields=[
                Field("partition_index", "int32", "0-7"),
                Field("committed_offset", "int64", "0-7"),
                Field("committed_leader_epoch", "int32", "5-7", default=-1),
                Field("metadata", "string", "0-7", nullable="0-7"),
                Field("error_code", "int16", "0-7"),
            ]),
        ]),
        Field("error_code", "int16", "2-7"),
        Field("groups", "[]OffsetFetchResponseGroup", "8+", fields=[
            Field("group_id", "string", "8+"),
            Field("topics", "[]OffsetFetchResponseTopics", "8+", fields=[
                Field("name", "string", "8-9"),
                Field("topic_id", "uuid", "10+"),
                Field("partitions", "[]OffsetFetchResponsePartitions", "8+", fields=[
                    Field("partition_index", "int32", "8+"),
                    Field("committed_offset", "int64", "8+"),
                    Field("committed_leader_epoch", "int32", "8+", default=-1),
                    Field("metadata", "string", "8+", nullable="8+"),
                    Field("error_code", "int16", "8+"),
                ]),
            ]),
            Field("error_code", "int16", "8+"),
        ]),
    ]),
)

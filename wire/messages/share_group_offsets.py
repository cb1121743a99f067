"""The share-group offset admin APIs (KIP-932), flexible in every version:
DescribeShareGroupOffsets (key 90): v0-1 (v1 adds Lag), AlterShareGroupOffsets (key 91): v0,
DeleteShareGroupOffsets (key 92): v0. A share group's "offset" per partition is its start offset (SPSO).
"""

from wire.schema import Api, Field, Message

DESCRIBE_SHARE_GROUP_OFFSETS = Api(
    90,
    "DescribeShareGroupOffsets",
    request=Message("DescribeShareGroupOffsetsRequest", 90, valid="0-1", flexible="0+", fields=[
        Field("groups", "[]DescribeShareGroupOffsetsRequestGroup", fields=[
            Field("group_id", "string"),
            Field("topics", "[]DescribeShareGroupOffsetsRequestTopic", nullable="0+", fields=[
                Field("topic_name", "string"),
                Field("partitions", "[]int32"),
            ]),
        ]),
    ]),
    response=Message("DescribeShareGroupOffsetsResponse", 90, valid="0-1", flexible="0+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("groups", "[]DescribeShareGroupOffsetsResponseGroup", fields=[
            Field("group_id", "string"),
            Field("topics", "[]DescribeShareGroupOffsetsResponseTopic", fields=[
                Field("topic_name", "string"),
                Field("topic_id", "uuid"),
                Field("partitions", "[]DescribeShareGroupOffsetsResponsePartition", fields=[
                    Field("partition_index", "int32"),
                    Field("start_offset", "int64"),
                    Field("leader_epoch", "int32"),
                    Field("lag", "int64", "1+", default=-1),
                    Field("error_code", "int16"),
                    Field("error_message", "string", nullable="0+", default=None),
                ]),
            ]),
            Field("error_code", "int16"),
            Field("error_message", "string", nullable="0+", default=None),
        ]),
    ]),
)

ALTER_SHARE_GROUP_OFFSETS = Api(
    91,
    "AlterShareGroupOffsets",
    request=Message("AlterShareGroupOffsetsRequest", 91, valid="0", flexible="0+", fields=[
        Field("group_id", "string"),
        Field("topics", "[]AlterShareGroupOffsetsRequestTopic", fields=[
            Field("topic_name", "string"),
            Field("partitions", "[]AlterShareGroupOffsetsRequestPartition", fields=[
                Field("partition_index", "int32"),
                Field("start_offset", "int64"),
            ]),
        ]),
    ]),
    response=Message("AlterShareGroupOffsetsResponse", 91, valid="0", flexible="0+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("error_code", "int16"),
        Field("error_message", "string", nullable="0+", default=None),
        Field("responses", "[]AlterShareGroupOffsetsResponseTopic", fields=[
            Field("topic_name", "string"),
            Field("topic_id", "uuid"),
            Field("partitions", "[]AlterShareGroupOffsetsResponsePartition", fields=[
                Field("partition_index", "int32"),
                Field("error_code", "int16"),
                Field("error_message", "string", nullable="0+", default=None),
            ]),
        ]),
    ]),
)

DELETE_SHARE_GROUP_OFFSETS = Api(
    92,
    "DeleteShareGroupOffsets",
    request=Message("DeleteShareGroupOffsetsRequest", 92, valid="0", flexible="0+", fields=[
        Field("group_id", "string"),
        Field("topics", "[]DeleteShareGroupOffsetsRequestTopic", fields=[
            Field("topic_name", "string"),
        ]),
    ]),
    response=Message("DeleteShareGroupOffsetsResponse", 92, valid="0", flexible="0+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("error_code", "int16"),
        Field("error_message", "string", nullable="0+", default=None),
        Field("responses", "[]DeleteShareGroupOffsetsResponseTopic", fields=[
            Field("topic_name", "string"),
            Field("topic_id", "uuid"),
            Field("error_code", "int16"),
            Field("error_message", "string", nullable="0+", default=None),
        ]),
    ]),
)

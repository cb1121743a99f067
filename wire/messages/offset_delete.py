"""OffsetDelete (key 47): v0. Deletes committed offsets of partitions a group no longer subscribes to."""

from wire.schema import Api, Field, Message

OFFSET_DELETE = Api(
    47,
    "OffsetDelete",
    request=Message("OffsetDeleteRequest", 47, valid="0", flexible="none", fields=[
        Field("group_id", "string"),
        Field("topics", "[]OffsetDeleteRequestTopic", fields=[
            Field("name", "string"),
            Field("partitions", "[]OffsetDeleteRequestPartition", fields=[
                Field("partition_index", "int32"),
            ]),
        ]),
    ]),
    response=Message("OffsetDeleteResponse", 47, valid="0", flexible="none", fields=[
        Field("error_code", "int16"),
        Field("throttle_time_ms", "int32"),
        Field("topics", "[]OffsetDeleteResponseTopic", fields=[
            Field("name", "string"),
            Field("partitions", "[]OffsetDeleteResponsePartition", fields=[
                Field("partition_index", "int32"),
                Field("error_code", "int16"),
            ]),
        ]),
    ]),
)

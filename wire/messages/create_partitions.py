"""CreatePartitions (key 37): v0-3, flexible from v2. v1 and v3 are the same as v0 and v2 (quota behaviour)."""

from wire.schema import Api, Field, Message

CREATE_PARTITIONS = Api(
    37,
    "CreatePartitions",
    request=Message("CreatePartitionsRequest", 37, valid="0-3", flexible="2+", fields=[
        Field("topics", "[]CreatePartitionsTopic", fields=[
            Field("name", "string"),
            Field("count", "int32"),
            Field("assignments", "[]CreatePartitionsAssignment", nullable="0+", fields=[
                Field("broker_ids", "[]int32"),
            ]),
        ]),
        Field("timeout_ms", "int32"),
        Field("validate_only", "bool"),
    ]),
    response=Message("CreatePartitionsResponse", 37, valid="0-3", flexible="2+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("results", "[]CreatePartitionsTopicResult", fields=[
            Field("name", "string"),
            Field("error_code", "int16"),
            Field("error_message", "string", nullable="0+", default=None),
        ]),
    ]),
)

"""DescribeLogDirs (key 35): v1-5, flexible from v2.

v3 adds a top-level error_code; v4 total_bytes and usable_bytes per log dir; v5 is_cordoned (KIP-1066).
"""

from wire.schema import Api, Field, Message

DESCRIBE_LOG_DIRS = Api(
    35,
    "DescribeLogDirs",
    request=Message("DescribeLogDirsRequest", 35, valid="1-5", flexible="2+", fields=[
        Field("topics", "[]DescribableLogDirTopic", nullable="0+", fields=[
            Field("topic", "string"),
            Field("partitions", "[]int32"),
        ]),
    ]),
    response=Message("DescribeLogDirsResponse", 35, valid="1-5", flexible="2+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("error_code", "int16", "3+"),
        Field("results", "[]DescribeLogDirsResult", fields=[
            Field("error_code", "int16"),
            Field("log_dir", "string"),
            Field("topics", "[]DescribeLogDirsTopic", fields=[
                Field("name", "string"),
                Field("partitions", "[]DescribeLogDirsPartition", fields=[
                    Field("partition_index", "int32"),
                    Field("partition_size", "int64"),
                    Field("offset_lag", "int64"),
                    Field("is_future_key", "bool"),
                ]),
            ]),
            Field("total_bytes", "int64", "4+", default=-1),
            Field("usable_bytes", "int64", "4+", default=-1),
            Field("is_cordoned", "bool", "5+"),
        ]),
    ]),
)

"""DeleteRecords (key 21): v0-2.

v1 is the same as v0 (throttled before the response, KIP-219); v2 is the first flexible version.
"""

from wire.schema import Api, Field, Message

DELETE_RECORDS = Api(
    21,
    "DeleteRecords",
    request=Message("DeleteRecordsRequest", 21, valid="0-2", flexible="2+", fields=[
        Field("topics", "[]DeleteRecordsTopic", fields=[
            Field("name", "string"),
            Field("partitions", "[]DeleteRecordsPartition", fields=[
                Field("partition_index", "int32"),
                Field("offset", "int64"),
            ]),
        ]),
        Field("timeout_ms", "int32"),
    ]),
    response=Message("DeleteRecordsResponse", 21, valid="0-2", flexible="2+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("topics", "[]DeleteRecordsTopicResult", fields=[
            Field("name", "string"),
            Field("partitions", "[]DeleteRecordsPartitionResult", fields=[
                Field("partition_index", "int32"),
                Field("low_watermark", "int64"),
                Field("error_code", "int16"),
            ]),
        ]),
    ]),
)

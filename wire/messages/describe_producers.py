"""DescribeProducers (key 61): v0 (KIP-664). The active producers of each partition asked for."""

from wire.schema import Api, Field, Message

DESCRIBE_PRODUCERS = Api(
    61,
    "DescribeProducers",
    request=Message("DescribeProducersRequest", 61, valid="0", flexible="0+", fields=[
        Field("topics", "[]TopicRequest", fields=[
            Field("name", "string"),
            Field("partition_indexes", "[]int32"),
        ]),
    ]),
    response=Message("DescribeProducersResponse", 61, valid="0", flexible="0+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("topics", "[]TopicResponse", fields=[
            Field("name", "string"),
            Field("partitions", "[]PartitionResponse", fields=[
                Field("partition_index", "int32"),
                Field("error_code", "int16"),
                Field("error_message", "string", nullable="0+", default=None),
                Field("active_producers", "[]ProducerState", fields=[
                    Field("producer_id", "int64"),
                    Field("producer_epoch", "int32"),
                    Field("last_sequence", "int32", default=-1),
                    Field("last_timestamp", "int64", default=-1),
                    Field("coordinator_epoch", "int32"),
                    Field("current_txn_start_offset", "int64", default=-1),
                ]),
            ]),
        ]),
    ]),
)

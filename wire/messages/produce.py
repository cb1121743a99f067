"""Produce (key 0): v3-13.

Kafka 4 removed v0-2 (v3 is the baseline) but still advertises v0 as the minimum in ApiVersions
because of a librdkafka bug (KAFKA-18659); requests at v0-2 are rejected. v3 adds the transactional
id and record batches (magic 2); v7 allows zstd; v8 adds record_errors/error_message; v9 is the
first flexible version; v10 adds the current_leader and node_endpoints tagged fields (KIP-951);
v11 may return TRANSACTION_ABORTABLE; v12 implies AddPartitionsToTxn (transactions v2, KIP-890);
v13 identifies topics by topic_id instead of name (KIP-516).
"""

from wire.schema import Api, Field, Message

PRODUCE = Api(
    0,
    "Produce",
    request=Message("ProduceRequest", 0, valid="3-13", flexible="9+", legacy="0-2", fields=[
        Field("transactional_id", "string", "3+", nullable="3+", default=None),
        Field("acks", "int16"),
        Field("timeout_ms", "int32"),
        Field("topic_data", "[]TopicProduceData", fields=[
            Field("name", "string", "0-12"),
            Field("topic_id", "uuid", "13+"),
            Field("partition_data", "[]PartitionProduceData", fields=[
                Field("index", "int32"),
                Field("records", "records", nullable="0+"),
            ]),
        ]),
    ]),
    response=Message("ProduceResponse", 0, valid="3-13", flexible="9+", legacy="0-2", fields=[
        Field("responses", "[]TopicProduceResponse", fields=[
            Field("name", "string", "0-12"),
            Field("topic_id", "uuid", "13+"),
            Field("partition_responses", "[]PartitionProduceResponse", fields=[
                Field("index", "int32"),
                Field("error_code", "int16"),
                Field("base_offset", "int64"),
                Field("log_append_time_ms", "int64", "2+", default=-1),
                Field("log_start_offset", "int64", "5+", default=-1),
                Field("record_errors", "[]BatchIndexAndErrorMessage", "8+", fields=[
                    Field("batch_index", "int32", "8+"),
                    Field("batch_index_error_message", "string", "8+", nullable="8+", default=None),
                ]),
                Field("error_message", "string", "8+", nullable="8+", default=None),
                Field("current_leader", "LeaderIdAndEpoch", "10+", tag=0, fields=[
                    Field("leader_id", "int32", "10+", default=-1),
                    Field("leader_epoch", "int32", "10+", default=-1),
                ]),
            ]),
        ]),
        Field("throttle_time_ms", "int32", "1+"),
        Field("node_endpoints", "[]NodeEndpoint", "10+", tag=0, fields=[
            Field("node_id", "int32", "10+"),
            Field("host", "string", "10+"),
            Field("port", "int32", "10+"),
            Field("rack", "string", "10+", nullable="10+", default=None),
        ]),
    ]),
)

"""AddPartitionsToTxn (key 24): v0-5.

Clients send v0-3 (the v3_and_below_* fields, one transaction); brokers send v4+ to batch several
transactions with verify_only (KIP-890), answered with a top-level error_code. v2 may answer
PRODUCER_FENCED; v3 is the first flexible version; v5 may answer TRANSACTION_ABORTABLE.
"""

from wire.schema import Api, Field, Message

_ADD_PARTITIONS_TO_TXN_TOPIC = [
    Field("name", "string"),
    Field("partitions", "[]int32"),
]

_ADD_PARTITIONS_TO_TXN_PARTITION_RESULT = [
    Field("partition_index", "int32"),
    Field("partition_error_code", "int16"),
]

_ADD_PARTITIONS_TO_TXN_TOPIC_RESULT = [
    Field("name", "string"),
    Field("results_by_partition", "[]AddPartitionsToTxnPartitionResult",
          fields=_ADD_PARTITIONS_TO_TXN_PARTITION_RESULT),
]

ADD_PARTITIONS_TO_TXN = Api(
    24,
    "AddPartitionsToTxn",
    request=Message("AddPartitionsToTxnRequest", 24, valid="0-5", flexible="3+", fields=[
        Field("transactions", "[]AddPartitionsToTxnTransaction", "4+", fields=[
            Field("transactional_id", "string", "4+"),
            Field("producer_id", "int64", "4+"),
            Field("producer_epoch", "int16", "4+"),
            Field("verify_only", "bool", "4+", default=False),
            Field("topics", "[]AddPartitionsToTxnTopic", "4+", fields=_ADD_PARTITIONS_TO_TXN_TOPIC),
        ]),
        Field("v3_and_below_transactional_id", "string", "0-3"),
        Field("v3_and_below_producer_id", "int64", "0-3"),
        Field("v3_and_below_producer_epoch", "int16", "0-3"),
        Field("v3_and_below_topics", "[]AddPartitionsToTxnTopic", "0-3", fields=_ADD_PARTITIONS_TO_TXN_TOPIC),
    ]),
    response=Message("AddPartitionsToTxnResponse", 24, valid="0-5", flexible="3+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("error_code", "int16", "4+"),
        Field("results_by_transaction", "[]AddPartitionsToTxnResult", "4+", fields=[
            Field("transactional_id", "string", "4+"),
            Field("topic_results", "[]AddPartitionsToTxnTopicResult", "4+",
                  fields=_ADD_PARTITIONS_TO_TXN_TOPIC_RESULT),
        ]),
        Field("results_by_topic_v3_and_below", "[]AddPartitionsToTxnTopicResult", "0-3",
              fields=_ADD_PARTITIONS_TO_TXN_TOPIC_RESULT),
    ]),
)

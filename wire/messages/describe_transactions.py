"""DescribeTransactions (key 65): v0 (KIP-664). The coordinator's state of each transactional id asked for."""

from wire.schema import Api, Field, Message

DESCRIBE_TRANSACTIONS = Api(
    65,
    "DescribeTransactions",
    request=Message("DescribeTransactionsRequest", 65, valid="0", flexible="0+", fields=[
        Field("transactional_ids", "[]string"),
    ]),
    response=Message("DescribeTransactionsResponse", 65, valid="0", flexible="0+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("transaction_states", "[]TransactionState", fields=[
            Field("error_code", "int16"),
            Field("transactional_id", "string"),
            Field("transaction_state", "string"),
            Field("transaction_timeout_ms", "int32"),
            Field("transaction_start_time_ms", "int64"),
            Field("producer_id", "int64"),
            Field("producer_epoch", "int16"),
            Field("topics", "[]TopicData", fields=[
                Field("topic", "string"),
                Field("partitions", "[]int32"),
            ]),
        ]),
    ]),
)

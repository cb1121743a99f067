"""ListTransactions (key 66): v0-2 (KIP-664). v1 adds duration_filter (KIP-994); v2 adds
transactional_id_pattern (KIP-1152) and may answer INVALID_REGULAR_EXPRESSION.
"""

from wire.schema import Api, Field, Message

LIST_TRANSACTIONS = Api(
    66,
    "ListTransactions",
    request=Message("ListTransactionsRequest", 66, valid="0-2", flexible="0+", fields=[
        Field("state_filters", "[]string"),
        Field("producer_id_filters", "[]int64"),
        Field("duration_filter", "int64", "1+", default=-1),
        Field("transactional_id_pattern", "string", "2+", nullable="2+", default=None),
    ]),
    response=Message("ListTransactionsResponse", 66, valid="0-2", flexible="0+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("error_code", "int16"),
        Field("unknown_state_filters", "[]string"),
        Field("transaction_states", "[]TransactionState", fields=[
            Field("transactional_id", "string"),
            Field("producer_id", "int64"),
            Field("transaction_state", "string"),
        ]),
    ]),
)

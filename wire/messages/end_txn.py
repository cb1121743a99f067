"""EndTxn (key 26): v0-5.

v2 may answer PRODUCER_FENCED; v3 is the first flexible version; v4 may answer TRANSACTION_ABORTABLE;
v5 bumps the epoch on every transaction and returns producer_id and producer_epoch (KIP-890 part 2).
"""

from wire.schema import Api, Field, Message

END_TXN = Api(
    26,
    "EndTxn",
    request=Message("EndTxnRequest", 26, valid="0-5", flexible="3+", fields=[
        Field("transactional_id", "string"),
        Field("producer_id", "int64"),
        Field("producer_epoch", "int16"),
        Field("committed", "bool"),
    ]),
    response=Message("EndTxnResponse", 26, valid="0-5", flexible="3+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("error_code", "int16"),
        Field("producer_id", "int64", "5+", default=-1),
        Field("producer_epoch", "int16", "5+", default=-1),
    ]),
)

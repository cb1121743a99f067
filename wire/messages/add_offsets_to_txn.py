"""AddOffsetsToTxn (key 25): v0-4.

v2 may answer PRODUCER_FENCED; v3 is the first flexible version; v4 may answer TRANSACTION_ABORTABLE
(KIP-890).
"""

from wire.schema import Api, Field, Message

ADD_OFFSETS_TO_TXN = Api(
    25,
    "AddOffsetsToTxn",
    request=Message("AddOffsetsToTxnRequest", 25, valid="0-4", flexible="3+", fields=[
        Field("transactional_id", "string"),
        Field("producer_id", "int64"),
        Field("producer_epoch", "int16"),
        Field("group_id", "string"),
    ]),
    response=Message("AddOffsetsToTxnResponse", 25, valid="0-4", flexible="3+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("error_code", "int16"),
    ]),
)

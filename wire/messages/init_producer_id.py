"""InitProducerId (key 22): v0-6.

A null transactional_id asks for an idempotent (non-transactional) producer id. v1 is the same as
v0; v2 is the first flexible version; v3 adds producer_id/producer_epoch so a producer can bump its
epoch after INVALID_PRODUCER_EPOCH (KIP-360); v4 may return PRODUCER_FENCED; v5 may return
TRANSACTION_ABORTABLE (KIP-890); v6 adds two-phase commit (enable2_pc, keep_prepared_txn and the
ongoing transaction's producer id and epoch, KIP-939).
"""

from wire.schema import Api, Field, Message

INIT_PRODUCER_ID = Api(
    22,
    "InitProducerId",
    request=Message("InitProducerIdRequest", 22, valid="0-6", flexible="2+", fields=[
        Field("transactional_id", "string", nullable="0+"),
        Field("transaction_timeout_ms", "int32"),
        Field("producer_id", "int64", "3+", default=-1),
        Field("producer_epoch", "int16", "3+", default=-1),
        Field("enable2_pc", "bool", "6+", default=False),
        Field("keep_prepared_txn", "bool", "6+", default=False),
    ]),
    response=Message("InitProducerIdResponse", 22, valid="0-6", flexible="2+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("error_code", "int16"),
        Field("producer_id", "int64", default=-1),
        Field("producer_epoch", "int16"),
        Field("ongoing_txn_producer_id", "int64", "6+", default=-1),
        Field("ongoing_txn_producer_epoch", "int16", "6+", default=-1),
    ]),
)

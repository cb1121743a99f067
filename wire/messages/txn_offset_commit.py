"""TxnOffsetCommit (key 28): v0-6.

v2 adds committed_leader_epoch; v3 is the first flexible version and adds the member's identity
(generation_id_or_member_epoch, member_id, group_instance_id; kafka-python's spec names the first
generation_id); v4 may answer TRANSACTION_ABORTABLE; v5 also does AddOffsetsToTxn's work under
transactions v2 (KIP-890 part 2); v6 names topics by topic_id (KIP-1319). kafka-python's spec stops at v5.
"""

from wire.schema import Api, Field, Message

TXN_OFFSET_COMMIT = Api(
    28,
    "TxnOffsetCommit",
    request=Message("TxnOffsetCommitRequest", 28, valid="0-6", flexible="3+", fields=[
        Field("transactional_id", "string"),
        Field("group_id", "string"),
        Field("producer_id", "int64"),
        Field("producer_epoch", "int16"),
        Field("generation_id_or_member_epoch", "int32", "3+", default=-1),
        Field("member_id", "string", "3+"),
        Field("group_instance_id", "string", "3+", nullable="3+", default=None),
        Field("topics", "[]TxnOffsetCommitRequestTopic", fields=[
            Field("name", "string", "0-5"),
            Field("topic_id", "uuid", "6+"),
            Field("partitions", "[]TxnOffsetCommitRequestPartition", fields=[
                Field("partition_index", "int32"),
                Field("committed_offset", "int64"),
                Field("committed_leader_epoch", "int32", "2+", default=-1),
                Field("committed_metadata", "string", nullable="0+"),
            ]),
        ]),
    ]),
    response=Message("TxnOffsetCommitResponse", 28, valid="0-6", flexible="3+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("topics", "[]TxnOffsetCommitResponseTopic", fields=[
            Field("name", "string", "0-5"),
            Field("topic_id", "uuid", "6+"),
            Field("partitions", "[]TxnOffsetCommitResponsePartition", fields=[
                Field("partition_index", "int32"),
                Field("error_code", "int16"),
            ]),
        ]),
    ]),
)

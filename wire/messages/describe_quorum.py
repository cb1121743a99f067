"""DescribeQuorum (key 55): v0-2, flexible from v0.

v1 adds last_fetch_timestamp and last_caught_up_timestamp per replica; v2 (KIP-853) adds error
messages, replica directory ids and the voters' endpoints (nodes).
"""

from wire.schema import Api, Field, Message

_REPLICA_STATE = [
    Field("replica_id", "int32"),
    Field("replica_directory_id", "uuid", "2+"),
    Field("log_end_offset", "int64"),
    Field("last_fetch_timestamp", "int64", "1+", default=-1),
    Field("last_caught_up_timestamp", "int64", "1+", default=-1),
]

DESCRIBE_QUORUM = Api(
    55,
    "DescribeQuorum",
    request=Message("DescribeQuorumRequest", 55, valid="0-2", flexible="0+", fields=[
        Field("topics", "[]TopicData", fields=[
            Field("topic_name", "string"),
            Field("partitions", "[]PartitionData", fields=[
                Field("partition_index", "int32"),
            ]),
        ]),
    ]),
    response=Message("DescribeQuorumResponse", 55, valid="0-2", flexible="0+", fields=[
        Field("error_code", "int16"),
        Field("error_message", "string", "2+", nullable="2+"),
        Field("topics", "[]TopicData", fields=[
            Field("topic_name", "string"),
            Field("partitions", "[]PartitionData", fields=[
                Field("partition_index", "int32"),
                Field("error_code", "int16"),
                Field("error_message", "string", "2+", nullable="2+"),
                Field("leader_id", "int32"),
                Field("leader_epoch", "int32"),
                Field("high_watermark", "int64"),
                Field("current_voters", "[]ReplicaState", fields=_REPLICA_STATE),
                Field("observers", "[]ReplicaState", fields=_REPLICA_STATE),
            ]),
        ]),
        Field("nodes", "[]Node", "2+", fields=[
            Field("node_id", "int32", "2+"),
            Field("listeners", "[]Listener", "2+", fields=[
                Field("name", "string", "2+"),
                Field("host", "string", "2+"),
                Field("port", "uint16", "2+"),
            ]),
        ]),
    ]),
)

"""DescribeTopicPartitions (key 75): v0, flexible. Topic and partition metadata, paged with a cursor (KIP-966)."""

from wire.schema import Api, Field, Message

_CURSOR = [
    Field("topic_name", "string"),
    Field("partition_index", "int32"),
]

DESCRIBE_TOPIC_PARTITIONS = Api(
    75,
    "DescribeTopicPartitions",
    request=Message("DescribeTopicPartitionsRequest", 75, valid="0", flexible="0+", fields=[
        Field("topics", "[]TopicRequest", fields=[
            Field("name", "string"),
        ]),
        Field("response_partition_limit", "int32", default=2000),
        Field("cursor", "Cursor", nullable="0+", default=None, fields=_CURSOR),
    ]),
    response=Message("DescribeTopicPartitionsResponse", 75, valid="0", flexible="0+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("topics", "[]DescribeTopicPartitionsResponseTopic", fields=[
            Field("error_code", "int16"),
            Field("name", "string", nullable="0+"),
            Field("topic_id", "uuid"),
            Field("is_internal", "bool"),
            Field("partitions", "[]DescribeTopicPartitionsResponsePartition", fields=[
                Field("error_code", "int16"),
                Field("partition_index", "int32"),
                Field("leader_id", "int32"),
                Field("leader_epoch", "int32", default=-1),
                Field("replica_nodes", "[]int32"),
                Field("isr_nodes", "[]int32"),
                Field("eligible_leader_replicas", "[]int32", nullable="0+", default=None),
                Field("last_known_elr", "[]int32", nullable="0+", default=None),
                Field("offline_replicas", "[]int32"),
            ]),
            Field("topic_authorized_operations", "int32", default=-(2**31)),
        ]),
        Field("next_cursor", "Cursor", nullable="0+", default=None, fields=_CURSOR),
    ]),
)

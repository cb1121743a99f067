"""CreateTopics (key 19): v2-7.

num_partitions and replication_factor are -1 to take the broker defaults (v4+, KIP-464); v1 adds
validate_only and per-topic error messages; v5 is the first flexible version and returns each
topic's partitions, replication factor and configs (KIP-525); v6 may return
THROTTLING_QUOTA_EXCEEDED (KIP-599); v7 returns the new topic's topic_id.
"""

from wire.schema import Api, Field, Message

CREATE_TOPICS = Api(
    19,
    "CreateTopics",
    request=Message("CreateTopicsRequest", 19, valid="2-7", flexible="5+", fields=[
        Field("topics", "[]CreatableTopic", fields=[
            Field("name", "string"),
            Field("num_partitions", "int32"),
            Field("replication_factor", "int16"),
            Field("assignments", "[]CreatableReplicaAssignment", fields=[
                Field("partition_index", "int32"),
                Field("broker_ids", "[]int32"),
            ]),
            Field("configs", "[]CreatableTopicConfig", fields=[
                Field("name", "string"),
                Field("value", "string", nullable="0+"),
            ]),
        ]),
        Field("timeout_ms", "int32", default=60000),
        Field("validate_only", "bool", "1+", default=False),
    ]),
    response=Message("CreateTopicsResponse", 19, valid="2-7", flexible="5+", fields=[
        Field("throttle_time_ms", "int32", "2+"),
        Field("topics", "[]CreatableTopicResult", fields=[
            Field("name", "string"),
            Field("topic_id", "uuid", "7+"),
            Field("error_code", "int16"),
            Field("error_message", "string", "1+", nullable="0+"),
            Field("topic_config_error_code", "int16", "5+", tag=0),
            Field("num_partitions", "int32", "5+", default=-1),
            Field("replication_factor", "int16", "5+", default=-1),
            Field("configs", "[]CreatableTopicConfigs", "5+", nullable="5+", fields=[
                Field("name", "string", "5+"),
                Field("value", "string", "5+", nullable="5+"),
                Field("read_only", "bool", "5+"),
                Field("config_source", "int8", "5+", default=-1),
                Field("is_sensitive", "bool", "5+"),
            ]),
        ]),
    ]),
)

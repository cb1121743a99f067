"""AlterReplicaLogDirs (key 34): v1-2, flexible from v2 (v1 is v0, which Kafka 4 removed)."""

from wire.schema import Api, Field, Message

ALTER_REPLICA_LOG_DIRS = Api(
    34,
    "AlterReplicaLogDirs",
    request=Message("AlterReplicaLogDirsRequest", 34, valid="1-2", flexible="2+", fields=[
        Field("dirs", "[]AlterReplicaLogDir", fields=[
            Field("path", "string"),
            Field("topics", "[]AlterReplicaLogDirTopic", fields=[
                Field("name", "string"),
                Field("partitions", "[]int32"),
            ]),
        ]),
    ]),
    response=Message("AlterReplicaLogDirsResponse", 34, valid="1-2", flexible="2+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("results", "[]AlterReplicaLogDirTopicResult", fields=[
            Field("topic_name", "string"),
            Field("partitions", "[]AlterReplicaLogDirPartitionResult", fields=[
                Field("partition_index", "int32"),
                Field("error_code", "int16"),
            ]),
        ]),
    ]),
)

"""ElectLeaders (key 43): v0-2, flexible from v2. v1 adds election_type (0 preferred, 1 unclean) and a
top-level error_code."""

from wire.schema import Api, Field, Message

ELECT_LEADERS = Api(
    43,
    "ElectLeaders",
    request=Message("ElectLeadersRequest", 43, valid="0-2", flexible="2+", fields=[
        Field("election_type", "int8", "1+"),
        Field("topic_partitions", "[]TopicPartitions", nullable="0+", fields=[
            Field("topic", "string"),
            Field("partitions", "[]int32"),
        ]),
        Field("timeout_ms", "int32", default=60000),
    ]),
    response=Message("ElectLeadersResponse", 43, valid="0-2", flexible="2+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("error_code", "int16", "1+"),
        Field("replica_election_results", "[]ReplicaElectionResult", fields=[
            Field("topic", "string"),
            Field("partition_result", "[]PartitionResult", fields=[
                Field("partition_id", "int32"),
                Field("error_code", "int16"),
                Field("error_message", "string", nullable="0+"),
            ]),
        ]),
    ]),
)

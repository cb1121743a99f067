"""AlterPartitionReassignments (key 45): v0-1 and ListPartitionReassignments (key 46): v0, flexible from v0.

AlterPartitionReassignments v1 adds allow_replication_factor_change (KIP-860).
"""

from wire.schema import Api, Field, Message

ALTER_PARTITION_REASSIGNMENTS = Api(
    45,
    "AlterPartitionReassignments",
    request=Message("AlterPartitionReassignmentsRequest", 45, valid="0-1", flexible="0+", fields=[
        Field("timeout_ms", "int32", default=60000),
        Field("allow_replication_factor_change", "bool", "1+", default=True),
        Field("topics", "[]ReassignableTopic", fields=[
            Field("name", "string"),
            Field("partitions", "[]ReassignablePartition", fields=[
                Field("partition_index", "int32"),
                Field("replicas", "[]int32", nullable="0+", default=None),
            ]),
        ]),
    ]),
    response=Message("AlterPartitionReassignmentsResponse", 45, valid="0-1", flexible="0+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("allow_replication_factor_change", "bool", "1+", default=True),
        Field("error_code", "int16"),
        Field("error_message", "string", nullable="0+"),
        Field("responses", "[]ReassignableTopicResponse", fields=[
            Field("name", "string"),
            Field("partitions", "[]ReassignablePartitionResponse", fields=[
                Field("partition_index", "int32"),
                Field("error_code", "int16"),
                Field("error_message", "string", nullable="0+"),
            ]),
        ]),
    ]),
)

LIST_PARTITION_REASSIGNMENTS = Api(
    46,
    "ListPartitionReassignments",
    request=Message("ListPartitionReassignmentsRequest", 46, valid="0", flexible="0+", fields=[
        Field("timeout_ms", "int32", default=60000),
        Field("topics", "[]ListPartitionReassignmentsTopics", nullable="0+", default=None, fields=[
            Field("name", "string"),
            Field("partition_indexes", "[]int32"),
        ]),
    ]),
    response=Message("ListPartitionReassignmentsResponse", 46, valid="0", flexible="0+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("error_code", "int16"),
        Field("error_message", "string", nullable="0+"),
        Field("topics", "[]OngoingTopicReassignment", fields=[
            Field("name", "string"),
            Field("partitions", "[]OngoingPartitionReassignment", fields=[
                Field("partition_index", "int32"),
                Field("replicas", "[]int32"),
                Field("adding_replicas", "[]int32"),
                Field("removing_replicas", "[]int32"),
            ]),
        ]),
    ]),
)

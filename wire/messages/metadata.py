"""Metadata (key 3): v0-13.

Topics: in v0 an empty list means all topics; from v1 a null list means all topics and an empty
list none. v1 adds rack, controller_id and is_internal; v2 cluster_id; v3 throttle_time_ms; v4
allow_auto_topic_creation; v5 offline_replicas; v7 leader_epoch; v8 authorized operations; v9 is
the first flexible version; v10 adds topic_id (clients must still send names at v10-11); v11 drops
include_cluster_authorized_operations (moved to DescribeCluster, KIP-700); v12 lets a request
name topics by topic_id with a null name; v13 adds a top-level error_code.
"""

from wire.schema import Api, Field, Message

METADATA = Api(
    3,
    "Metadata",
    request=Message("MetadataRequest", 3, valid="0-13", flexible="9+", fields=[
        Field("topics", "[]MetadataRequestTopic", nullable="1+", fields=[
            Field("topic_id", "uuid", "10+"),
            Field("name", "string", nullable="10+"),
        ]),
        Field("allow_auto_topic_creation", "bool", "4+", default=True),
        Field("include_cluster_authorized_operations", "bool", "8-10"),
        Field("include_topic_authorized_operations", "bool", "8+"),
    ]),
    response=Message("MetadataResponse", 3, valid="0-13", flexible="9+", fields=[
        Field("throttle_time_ms", "int32", "3+"),
        Field("brokers", "[]MetadataResponseBroker", fields=[
            Field("node_id", "int32"),
            Field("host", "string"),
            Field("port", "int32"),
            Field("rack", "string", "1+", nullable="1+", default=None),
        ]),
        Field("cluster_id", "string", "2+", nullable="2+", default=None),
        Field("controller_id", "int32", "1+", default=-1),
        Field("topics", "[]MetadataResponseTopic", fields=[
            Field("error_code", "int16"),
            Field("name", "string", nullable="12+"),
            Field("topic_id", "uuid", "10+"),
            Field("is_internal", "bool", "1+", default=False),
            Field("partitions", "[]MetadataResponsePartition", fields=[
                Field("error_code", "int16"),
                Field("partition_index", "int32"),
                Field("leader_id", "int32"),
                Field("leader_epoch", "int32", "7+", default=-1),
                Field("replica_nodes", "[]int32"),
                Field("isr_nodes", "[]int32"),
                Field("offline_replicas", "[]int32", "5+"),
            ]),
            Field("topic_authorized_operations", "int32", "8+", default=-(2**31)),
        ]),
        Field("cluster_authorized_operations", "int32", "8-10", default=-(2**31)),
        Field("error_code", "int16", "13+"),
    ]),
)

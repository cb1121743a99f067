"""DescribeCluster (key 60): v0-2, flexible from v0.

kafka-python's admin client prefers it to Metadata for the controller and broker list. v1 adds
endpoint_type (1 brokers, 2 controllers; MISMATCHED_ENDPOINT_TYPE and UNSUPPORTED_ENDPOINT_TYPE,
KIP-919); v2 adds include_fenced_brokers and is_fenced (KIP-1073).
"""

from wire.schema import Api, Field, Message

DESCRIBE_CLUSTER = Api(
    60,
    "DescribeCluster",
    request=Message("DescribeClusterRequest", 60, valid="0-2", flexible="0+", fields=[
        Field("include_cluster_authorized_operations", "bool"),
        Field("endpoint_type", "int8", "1+", default=1),
        Field("include_fenced_brokers", "bool", "2+"),
    ]),
    response=Message("DescribeClusterResponse", 60, valid="0-2", flexible="0+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("error_code", "int16"),
        Field("error_message", "string", nullable="0+", default=None),
        Field("endpoint_type", "int8", "1+", default=1),
        Field("cluster_id", "string"),
        Field("controller_id", "int32", default=-1),
        Field("brokers", "[]DescribeClusterBroker", fields=[
            Field("broker_id", "int32"),
            Field("host", "string"),
            Field("port", "int32"),
            Field("rack", "string", nullable="0+", default=None),
            Field("is_fenced", "bool", "2+"),
        ]),
        Field("cluster_authorized_operations", "int32", default=-(2**31)),
    ]),
)

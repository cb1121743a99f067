"""ShareGroupHeartbeat (key 76): v1, and ShareGroupDescribe (key 77): v1; flexible in every version (KIP-932).

v0 was Kafka 4.0's early-access version; Kafka 4.1 removed it, so v1 is the only valid version. Null
fields in a heartbeat mean "unchanged since the last heartbeat"; the member id is the client's own.
"""

from wire.schema import Api, Field, Message

SHARE_GROUP_HEARTBEAT = Api(
    76,
    "ShareGroupHeartbeat",
    request=Message("ShareGroupHeartbeatRequest", 76, valid="1", flexible="0+", fields=[
        Field("group_id", "string"),
        Field("member_id", "string"),
        Field("member_epoch", "int32"),
        Field("rack_id", "string", nullable="0+", default=None),
        Field("subscribed_topic_names", "[]string", nullable="0+", default=None),
    ]),
    response=Message("ShareGroupHeartbeatResponse", 76, valid="1", flexible="0+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("error_code", "int16"),
        Field("error_message", "string", nullable="0+", default=None),
        Field("member_id", "string", nullable="0+", default=None),
        Field("member_epoch", "int32"),
        Field("heartbeat_interval_ms", "int32"),
        Field("assignment", "Assignment", nullable="0+", default=None, fields=[
            Field("topic_partitions", "[]TopicPartitions", fields=[
                Field("topic_id", "uuid"),
                Field("partitions", "[]int32"),
            ]),
        ]),
    ]),
)

SHARE_GROUP_DESCRIBE = Api(
    77,
    "ShareGroupDescribe",
    request=Message("ShareGroupDescribeRequest", 77, valid="1", flexible="0+", fields=[
        Field("group_ids", "[]string"),
        Field("include_authorized_operations", "bool"),
    ]),
    response=Message("ShareGroupDescribeResponse", 77, valid="1", flexible="0+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("groups", "[]DescribedGroup", fields=[
            Field("error_code", "int16"),
            Field("error_message", "string", nullable="0+", default=None),
            Field("group_id", "string"),
            Field("group_state", "string"),
            Field("group_epoch", "int32"),
            Field("assignment_epoch", "int32"),
            Field("assignor_name", "string"),
            Field("members", "[]Member", fields=[
                Field("member_id", "string"),
                Field("rack_id", "string", nullable="0+", default=None),
                Field("member_epoch", "int32"),
                Field("client_id", "string"),
                Field("client_host", "string"),
                Field("subscribed_topic_names", "[]string"),
                Field("assignment", "Assignment", fields=[
                    Field("topic_partitions", "[]TopicPartitions", fields=[
                        Field("topic_id", "uuid"),
                        Field("topic_name", "string"),
                        Field("partitions", "[]int32"),
                    ]),
                ]),
            ]),
            Field("authorized_operations", "int32", default=-2147483648),
        ]),
    ]),
)

"""ConsumerGroupDescribe (key 69): v0-1, flexible in every version (KIP-848).

v1 adds members' member_type (KIP-1099); the request is unchanged.
"""

from wire.schema import Api, Field, Message

_TOPIC_PARTITIONS = [
    Field("topic_id", "uuid"),
    Field("topic_name", "string"),
    Field("partitions", "[]int32"),
]

_ASSIGNMENT = [
    Field("topic_partitions", "[]TopicPartitions", fields=_TOPIC_PARTITIONS),
]

CONSUMER_GROUP_DESCRIBE = Api(
    69,
    "ConsumerGroupDescribe",
    request=Message("ConsumerGroupDescribeRequest", 69, valid="0-1", flexible="0+", fields=[
        Field("group_ids", "[]string"),
        Field("include_authorized_operations", "bool"),
    ]),
    response=Message("ConsumerGroupDescribeResponse", 69, valid="0-1", flexible="0+", fields=[
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
                Field("instance_id", "string", nullable="0+", default=None),
                Field("rack_id", "string", nullable="0+", default=None),
                Field("member_epoch", "int32"),
                Field("client_id", "string"),
                Field("client_host", "string"),
                Field("subscribed_topic_names", "[]string"),
                Field("subscribed_topic_regex", "string", nullable="0+", default=None),
                Field("assignment", "Assignment", fields=_ASSIGNMENT),
                Field("target_assignment", "Assignment", fields=_ASSIGNMENT),
                Field("member_type", "int8", "1+", default=-1),
            ]),
            Field("authorized_operations", "int32", default=-2147483648),
        ]),
    ]),
)

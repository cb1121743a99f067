"""ConsumerGroupHeartbeat (key 68): v0-1, flexible in every version (KIP-848).

Null fields in a request mean "unchanged since the last heartbeat". v1 adds subscribed_topic_regex and
has the consumer generate its own member_id (KIP-1082).
"""

from wire.schema import Api, Field, Message

_TOPIC_PARTITIONS = [
    Field("topic_id", "uuid"),
    Field("partitions", "[]int32"),
]

CONSUMER_GROUP_HEARTBEAT = Api(
    68,
    "ConsumerGroupHeartbeat",
    request=Message("ConsumerGroupHeartbeatRequest", 68, valid="0-1", flexible="0+", fields=[
        Field("group_id", "string"),
        Field("member_id", "string"),
        Field("member_epoch", "int32"),
        Field("instance_id", "string", nullable="0+", default=None),
        Field("rack_id", "string", nullable="0+", default=None),
        Field("rebalance_timeout_ms", "int32", default=-1),
        Field("subscribed_topic_names", "[]string", nullable="0+", default=None),
        Field("subscribed_topic_regex", "string", "1+", nullable="1+", default=None),
        Field("server_assignor", "string", nullable="0+", default=None),
        Field("topic_partitions", "[]TopicPartitions", nullable="0+", default=None, fields=[
            Field("topic_id", "uuid"),
            Field("partitions", "[]int32"),
        ]),
    ]),
    response=Message("ConsumerGroupHeartbeatResponse", 68, valid="0-1", flexible="0+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("error_code", "int16"),
        Field("error_message", "string", nullable="0+", default=None),
        Field("member_id", "string", nullable="0+", default=None),
        Field("member_epoch", "int32"),
        Field("heartbeat_interval_ms", "int32"),
        Field("assignment", "Assignment", nullable="0+", default=None, fields=[
            Field("topic_partitions", "[]TopicPartitions", fields=_TOPIC_PARTITIONS),
        ]),
    ]),
)

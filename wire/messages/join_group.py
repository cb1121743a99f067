"""JoinGroup (key 11): v0-9.

v1 adds rebalance_timeout_ms (before it, the session timeout serves); v2 adds throttle time; from v4
a new member with an empty member_id is answered MEMBER_ID_REQUIRED with its id and joins again;
v5 adds group_instance_id (static membership); v6 is the first flexible version; v7 returns
protocol_type (KIP-559); v8 adds reason (KIP-800); v9 adds skip_assignment.
"""

from wire.schema import Api, Field, Message

JOIN_GROUP = Api(
    11,
    "JoinGroup",
    request=Message("JoinGroupRequest", 11, valid="0-9", flexible="6+", fields=[
        Field("group_id", "string"),
        Field("session_timeout_ms", "int32"),
        Field("rebalance_timeout_ms", "int32", "1+", default=-1),
        Field("member_id", "string"),
        Field("group_instance_id", "string", "5+", nullable="5+", default=None),
        Field("protocol_type", "string"),
        Field("protocols", "[]JoinGroupRequestProtocol", fields=[
            Field("name", "string"),
            Field("metadata", "bytes"),
        ]),
        Field("reason", "string", "8+", nullable="8+", default=None),
    ]),
    response=Message("JoinGroupResponse", 11, valid="0-9", flexible="6+", fields=[
        Field("throttle_time_ms", "int32", "2+"),
        Field("error_code", "int16"),
        Field("generation_id", "int32", default=-1),
        Field("protocol_type", "string", "7+", nullable="7+", default=None),
        Field("protocol_name", "string", nullable="7+"),
        Field("leader", "string"),
        Field("skip_assignment", "bool", "9+", default=False),
        Field("member_id", "string"),
        Field("members", "[]JoinGroupResponseMember", fields=[
            Field("member_id", "string"),
            Field("group_instance_id", "string", "5+", nullable="5+", default=None),
            Field("metadata", "bytes"),
        ]),
    ]),
)

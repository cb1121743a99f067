"""LeaveGroup (key 13): v0-5.

v1 adds throttle time; v3 leaves in batches (members, each by member_id and group_instance_id, with a
per-member error_code) instead of one member_id; v4 is the first flexible version; v5 adds reason
(KIP-800).
"""

from wire.schema import Api, Field, Message

LEAVE_GROUP = Api(
    13,
    "LeaveGroup",
    request=Message("LeaveGroupRequest", 13, valid="0-5", flexible="4+", fields=[
        Field("group_id", "string"),
        Field("member_id", "string", "0-2"),
        Field("members", "[]MemberIdentity", "3+", fields=[
            Field("member_id", "string", "3+"),
            Field("group_instance_id", "string", "3+", nullable="3+", default=None),
            Field("reason", "string", "5+", nullable="5+", default=None),
        ]),
    ]),
    response=Message("LeaveGroupResponse", 13, valid="0-5", flexible="4+", fields=[
        Field("throttle_time_ms", "int32", "1+"),
        Field("error_code", "int16"),
        Field("members", "[]MemberResponse", "3+", fields=[
            Field("member_id", "string", "3+"),
            Field("group_instance_id", "string", "3+", nullable="3+"),
            Field("error_code", "int16", "3+"),
        ]),
    ]),
)

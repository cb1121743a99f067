"""DescribeGroups (key 15): v0-6.

v1 adds throttle time; v3 adds include_authorized_operations and authorized_operations; v4 returns
members' group_instance_id; v5 is the first flexible version; v6 answers an unknown group with
GROUP_ID_NOT_FOUND and an error_message (KIP-1043).
"""

from wire.schema import Api, Field, Message

DESCRIBE_GROUPS = Api(
    15,
    "DescribeGroups",
    request=Message("DescribeGroupsRequest", 15, valid="0-6", flexible="5+", fields=[
        Field("groups", "[]string"),
        Field("include_authorized_operations", "bool", "3+"),
    ]),
    response=Message("DescribeGroupsResponse", 15, valid="0-6", flexible="5+", fields=[
        Field("throttle_time_ms", "int32", "1+"),
        Field("groups", "[]DescribedGroup", fields=[
            Field("error_code", "int16"),
            Field("error_message", "string", "6+", nullable="6+", default=None),
            Field("group_id", "string"),
            Field("group_state", "string"),
            Field("protocol_type", "string"),
            Field("protocol_data", "string"),
            Field("members", "[]DescribedGroupMember", fields=[
                Field("member_id", "string"),
                Field("group_instance_id", "string", "4+", nullable="4+", default=None),
                Field("client_id", "string"),
                Field("client_host", "string"),
                Field("member_metadata", "bytes"),
                Field("member_assignment", "bytes"),
            ]),
            Field("authorized_operations", "int32", "3+", default=-2147483648),
        ]),
    ]),
)

"""ListGroups (key 16): v0-5.

v1 adds throttle time; v3 is the first flexible version; v4 adds states_filter and group_state
(KIP-518); v5 adds types_filter and group_type (KIP-848).
"""

from wire.schema import Api, Field, Message

LIST_GROUPS = Api(
    16,
    "ListGroups",
    request=Message("ListGroupsRequest", 16, valid="0-5", flexible="3+", fields=[
        Field("states_filter", "[]string", "4+"),
        Field("types_filter", "[]string", "5+"),
    ]),
    response=Message("ListGroupsResponse", 16, valid="0-5", flexible="3+", fields=[
        Field("throttle_time_ms", "int32", "1+"),
        Field("error_code", "int16"),
        Field("groups", "[]ListedGroup", fields=[
            Field("group_id", "string"),
            Field("protocol_type", "string"),
            Field("group_state", "string", "4+"),
            Field("group_type", "string", "5+"),
        ]),
    ]),
)

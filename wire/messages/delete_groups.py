"""DeleteGroups (key 42): v0-3.

v2 is the first flexible version; v3 adds a per-group error_message to the response (the request is
unchanged). kafka-python's spec stops at v2.
"""

from wire.schema import Api, Field, Message

DELETE_GROUPS = Api(
    42,
    "DeleteGroups",
    request=Message("DeleteGroupsRequest", 42, valid="0-3", flexible="2+", fields=[
        Field("groups_names", "[]string"),
    ]),
    response=Message("DeleteGroupsResponse", 42, valid="0-3", flexible="2+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("results", "[]DeletableGroupResult", fields=[
            Field("group_id", "string"),
            Field("error_code", "int16"),
            Field("error_message", "string", "3+", nullable="3+", default=None),
        ]),
    ]),
)

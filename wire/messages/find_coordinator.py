"""FindCoordinator (key 10): v0-6.

v1 adds key_type (0 group, 1 transaction) and the response's throttle time and error message; v3 is
the first flexible version; v4 batches look-ups (coordinator_keys in, coordinators out, KIP-699);
v5 may answer TRANSACTION_ABORTABLE (KIP-890); v6 adds key_type 2, share groups, whose key reads
"groupId:topicId:partition" (KIP-932).
"""

from wire.schema import Api, Field, Message

FIND_COORDINATOR = Api(
    10,
    "FindCoordinator",
    request=Message("FindCoordinatorRequest", 10, valid="0-6", flexible="3+", fields=[
        Field("key", "string", "0-3"),
        Field("key_type", "int8", "1+"),
        Field("coordinator_keys", "[]string", "4+"),
    ]),
    response=Message("FindCoordinatorResponse", 10, valid="0-6", flexible="3+", fields=[
        Field("throttle_time_ms", "int32", "1+"),
        Field("error_code", "int16", "0-3"),
        Field("error_message", "string", "1-3", nullable="1-3"),
        Field("node_id", "int32", "0-3"),
        Field("host", "string", "0-3"),
        Field("port", "int32", "0-3"),
        Field("coordinators", "[]Coordinator", "4+", fields=[
            Field("key", "string", "4+"),
            Field("node_id", "int32", "4+"),
            Field("host", "string", "4+"),
            Field("port", "int32", "4+"),
            Field("error_code", "int16", "4+"),
            Field("error_message", "string", "4+", nullable="4+"),
        ]),
    ]),
)

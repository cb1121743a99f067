"""SyncGroup (key 14): v0-5.

v1 adds throttle time; v3 adds group_instance_id (static membership); v4 is the first flexible version;
v5 carries protocol_type and protocol_name both ways, and the broker rejects a mismatch (KIP-559).
"""

from wire.schema import Api, Field, Message

SYNC_GROUP = Api(
    14,
    "SyncGroup",
    request=Message("SyncGroupRequest", 14, valid="0-5", flexible="4+", fields=[
        Field("group_id", "string"),
        Field("generation_id", "int32"),
        Field("member_id", "string"),
        Field("group_instance_id", "string", "3+", nullable="3+", default=None),
        Field("protocol_type", "string", "5+", nullable="5+", default=None),
        Field("protocol_name", "string", "5+", nullable="5+", default=None),
        Field("assignments", "[]SyncGroupRequestAssignment", fields=[
            Field("member_id", "string"),
            Field("assignment", "bytes"),
        ]),
    ]),
    response=Message("SyncGroupResponse", 14, valid="0-5", flexible="4+", fields=[
        Field("throttle_time_ms", "int32", "1+"),
        Field("error_code", "int16"),
        Field("protocol_type", "string", "5+", nullable="5+", default=None),
        Field("protocol_name", "string", "5+", nullable="5+", default=None),
        Field("assignment", "bytes"),
    ]),
)

"""Heartbeat (key 12): v0-4.

v1 adds throttle time; v3 adds group_instance_id (static membership); v4 is the first flexible version.
"""

from wire.schema import Api, Field, Message

HEARTBEAT = Api(
    12,
    "Heartbeat",
    request=Message("HeartbeatRequest", 12, valid="0-4", flexible="4+", fields=[
        Field("group_id", "string"),
        Field("generation_id", "int32"),
        Field("member_id", "string"),
        Field("group_instance_id", "string", "3+", nullable="3+", default=None),
    ]),
    response=Message("HeartbeatResponse", 12, valid="0-4", flexible="4+", fields=[
        Field("throttle_time_ms", "int32", "1+"),
        Field("error_code", "int16"),
    ]),
)

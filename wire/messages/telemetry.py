"""GetTelemetrySubscriptions (key 71): v0 and PushTelemetry (key 72): v0 (KIP-714), flexible from v0.

A client with a zero client_instance_id gets one assigned; metrics are OpenTelemetry protobuf bytes,
compressed with compression_type (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd).
"""

from wire.schema import Api, Field, Message

GET_TELEMETRY_SUBSCRIPTIONS = Api(
    71,
    "GetTelemetrySubscriptions",
    request=Message("GetTelemetrySubscriptionsRequest", 71, valid="0", flexible="0+", fields=[
        Field("client_instance_id", "uuid"),
    ]),
    response=Message("GetTelemetrySubscriptionsResponse", 71, valid="0", flexible="0+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("error_code", "int16"),
        Field("client_instance_id", "uuid"),
        Field("subscription_id", "int32"),
        Field("accepted_compression_types", "[]int8"),
        Field("push_interval_ms", "int32"),
        Field("telemetry_max_bytes", "int32"),
        Field("delta_temporality", "bool"),
        Field("requested_metrics", "[]string"),
    ]),
)

PUSH_TELEMETRY = Api(
    72,
    "PushTelemetry",
    request=Message("PushTelemetryRequest", 72, valid="0", flexible="0+", fields=[
        Field("client_instance_id", "uuid"),
        Field("subscription_id", "int32"),
        Field("terminating", "bool"),
        Field("compression_type", "int8"),
        Field("metrics", "bytes"),
    ]),
    response=Message("PushTelemetryResponse", 72, valid="0", flexible="0+", fields=[
        Field("throttle_time_ms", "int32"),
        Field("error_code", "int16"),
    ]),
)

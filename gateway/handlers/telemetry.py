"""GetTelemetrySubscriptions (key 71): v0 and PushTelemetry (key 72): v0 (KIP-714).

A client asks which metrics to push (the CLIENT_METRICS subscriptions matching it) and pushes them;
gateway/telemetry.py keeps each client's latest push. Errors as Kafka's ClientMetricsManager answers:
THROTTLING_QUOTA_EXCEEDED before the push interval, UNKNOWN_SUBSCRIPTION_ID, UNSUPPORTED_COMPRESSION_TYPE,
TELEMETRY_TOO_LARGE (above telemetry.max.bytes), INVALID_REQUEST for a zero instance id or after a
terminating push.
"""

from gateway.clock import now_ms
from gateway.registry import handles
from wire.errors import ErrorCode, KafkaError


@handles(71, 0, 0)
async def handle_get_telemetry_subscriptions(ctx, request):
    broker = ctx.broker
    answer = broker.telemetry.get_subscriptions(request.client_instance_id, ctx.client_id, ctx.peer, now_ms(),
                                                broker.configs.broker("telemetry.max.bytes"), ctx.connection_id)
    _note_instance(ctx, answer["client_instance_id"])
    return answer


def _note_instance(ctx, instance_id: bytes) -> None:
    """The connection's entry in gateway/clients.py shows its KIP-714 instance (stand-in brokers have none)."""
    registry = getattr(ctx.broker, "clients", None)
    if registry is not None:
        registry.note_telemetry(ctx.connection_id, instance_id)


@handles(72, 0, 0)
async def handle_push_telemetry(ctx, request):
    broker = ctx.broker
    first = broker.telemetry.latest(request.client_instance_id) is None
    _note_instance(ctx, request.client_instance_id)
    try:
        code = broker.telemetry.push(request, ctx.client_id, ctx.peer, now_ms(),
                                     broker.configs.broker("telemetry.max.bytes"))
    except KafkaError as exc:
        ctx.log.info("telemetry_refused", error=exc.code.name, reason=exc.message)
        code = exc.code
    if code == ErrorCode.NONE and first and request.metrics:
        ctx.log.info("telemetry_first_push", client_instance_id=request.client_instance_id.hex(),
                     bytes=len(request.metrics), compression_type=request.compression_type)
    return {"throttle_time_ms": 0, "error_code": code}

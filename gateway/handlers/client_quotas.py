"""DescribeClientQuotas (key 48): v0-1 and AlterClientQuotas (key 49): v0-1.

Quotas are stored and described with Kafka's entity rules (gateway/configs/quotas.py) and survive
restarts; gateway.quota_enforcement enforces them. Each AlterClientQuotas entry is answered on its own.
"""

from gateway.limits import fit_message
from gateway.registry import handles
from wire.errors import ErrorCode, KafkaError


def _entity(entity) -> list[dict]:
    return [{"entity_type": t, "entity_name": n} for t, n in entity]


@handles(48, 0, 1)
async def handle_describe_client_quotas(ctx, request):
    try:
        found = ctx.broker.quotas.describe(request.components, request.strict)
    except KafkaError as exc:
        return {"throttle_time_ms": 0, "error_code": exc.code, "error_message": fit_message(exc.message),
                "entries": None}
    return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "error_message": None, "entries": [
        {"entity": _entity(entity), "values": [{"key": k, "value": v} for k, v in sorted(values.items())]}
        for entity, values in found]}


@handles(49, 0, 1)
async def handle_alter_client_quotas(ctx, request):
    entries = []
    for entry in request.entries:
        code, message = ErrorCode.NONE, None
        try:
            ctx.broker.quotas.alter(entry.entity, entry.ops, validate_only=request.validate_only)
        except KafkaError as exc:
            code, message = exc.code, fit_message(exc.message)
        ctx.log.info("client_quotas_altered" if not code else "client_quotas_refused",
                     entity=[(e.entity_type, e.entity_name) for e in entry.entity], error=code.name if code else None,
                     reason=message, validate_only=request.validate_only)
        entries.append({"error_code": code, "error_message": message, "entity": [
            {"entity_type": e.entity_type, "entity_name": e.entity_name} for e in entry.entity]})
    return {"throttle_time_ms": 0, "entries": entries}

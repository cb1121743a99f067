"""AlterConfigs (key 33): v0-2 and IncrementalAlterConfigs (key 44): v0-1.

Resources: TOPIC, BROKER (a node id, or "" for the cluster default), GROUP, CLIENT_METRICS, and for
IncrementalAlterConfigs BROKER_LOGGER. Each resource is answered on its own (gateway/configs/alter.py);
a resource named twice in one request is refused both times; validate_only checks without changing.
"""

from gateway.configs.alter import duplicate_resources, incremental_alter, legacy_alter
from gateway.limits import fit_message
from gateway.registry import handles
from gateway.security.acl_codes import Operation
from gateway.security.acls_checks import config_refusal
from wire.errors import ErrorCode, KafkaError


ALTER_CONFIGS = Operation.ALTER_CONFIGS


def _answer(ctx, request, alter) -> dict:
    twice = duplicate_resources(request.resources)
    responses = []
    for resource in request.resources:
        code, message = ErrorCode.NONE, None
        if (resource.resource_type, resource.resource_name) in twice:
            code, message = ErrorCode.INVALID_REQUEST, "Each resource must appear at most once."
        elif (denied := config_refusal(ctx, resource.resource_type, resource.resource_name, ALTER_CONFIGS)):
            code = denied
        else:
            try:
                alter(ctx.broker, resource, request.validate_only)
            except KafkaError as exc:
                code, message = exc.code, exc.message
        ctx.log.info("configs_altered" if code == ErrorCode.NONE else "configs_refused",
                     resource_type=resource.resource_type, resource=resource.resource_name,
                     configs=[c.name for c in resource.configs], validate_only=request.validate_only,
                     error=code.name if code else None, reason=message)
        responses.append({"error_code": code, "error_message": fit_message(message), "resource_type": resource.resource_type,
                          "resource_name": resource.resource_name})
    return {"throttle_time_ms": 0, "responses": responses}


@handles(33, 0, 2)
async def handle_alter_configs(ctx, request):
    return _answer(ctx, request, legacy_alter)


@handles(44, 0, 1)
async def handle_incremental_alter_configs(ctx, request):
    return _answer(ctx, request, incremental_alter)

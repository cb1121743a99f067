"""ListConfigResources (key 74): v0-1.

v0 (ListClientMetricsResources) lists CLIENT_METRICS subscriptions; v1 (KIP-1142) lists the resources of
the types asked for (empty: TOPIC, BROKER, BROKER_LOGGER, CLIENT_METRICS and GROUP); a type it does not
list is refused with UNSUPPORTED_VERSION, as Kafka refuses it.
"""

from gateway.configs import ResourceType
from gateway.registry import handles
from wire.errors import ErrorCode

V1_TYPES = (ResourceType.TOPIC, ResourceType.BROKER, ResourceType.BROKER_LOGGER, ResourceType.CLIENT_METRICS,
            ResourceType.GROUP)


def _names(broker, kind: int) -> list[str]:
    if kind == ResourceType.TOPIC:
        return sorted(broker.logs.topics)
    if kind in (ResourceType.BROKER, ResourceType.BROKER_LOGGER):
        return [str(broker.node_id)]
    if kind == ResourceType.GROUP:
        return sorted(set(broker.groups.groups) | set(broker.configs.resources(ResourceType.GROUP)))
    return broker.configs.resources(ResourceType.CLIENT_METRICS)


@handles(74, 0, 1)
async def handle_list_config_resources(ctx, request):
    supported = V1_TYPES if ctx.api_version >= 1 else (ResourceType.CLIENT_METRICS,)
    wanted = list(request.get("resource_types") or []) or list(supported)
    if any(kind not in supported for kind in wanted):
        return {"throttle_time_ms": 0, "error_code": ErrorCode.UNSUPPORTED_VERSION, "config_resources": []}
    resources = [{"resource_name": name, "resource_type": kind}
                 for kind in sorted(set(wanted)) for name in _names(ctx.broker, kind)]
    return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "config_resources": resources}

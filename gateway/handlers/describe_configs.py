"""DescribeConfigs (key 32): v0-4 for topic (2) and broker (4) resources; other types get INVALID_REQUEST."""

from gateway.registry import handles
from partitions.topic_configs import DEFAULT_CONFIG, STATIC_BROKER_CONFIG
from wire.errors import ErrorCode

TOPIC, BROKER = 2, 4
TYPE_UNKNOWN, TYPE_BOOLEAN, TYPE_STRING, TYPE_INT, TYPE_SHORT, TYPE_LONG = 0, 1, 2, 3, 4, 5


def broker_configs(broker) -> list[tuple[str, str, int]]:
    """(name, value, config type) of the broker settings a client may ask about."""
    c = broker.config
    return [
        ("broker.id", str(broker.node_id), TYPE_INT),
        ("node.id", str(broker.node_id), TYPE_INT),
        ("log.dirs", "" if c.memory else c.data_dir, TYPE_STRING),
        ("num.partitions", str(c.default_partitions), TYPE_INT),
        ("auto.create.topics.enable", str(c.auto_create_topics).lower(), TYPE_BOOLEAN),
        ("default.replication.factor", "1", TYPE_SHORT),
        ("socket.request.max.bytes", str(c.max_request_size), TYPE_INT),
        ("message.max.bytes", "1048588", TYPE_INT),
        ("group.initial.rebalance.delay.ms", str(c.group_initial_rebalance_delay_ms), TYPE_INT),
        ("group.min.session.timeout.ms", str(c.group_min_session_timeout_ms), TYPE_INT),
        ("group.max.session.timeout.ms", str(c.group_max_session_timeout_ms), TYPE_INT),
        ("offsets.retention.minutes", str(c.offsets_retention_minutes), TYPE_INT),
        ("advertised.listeners", f"PLAINTEXT://{broker.host}:{broker.port}", TYPE_STRING),
    ]


def _entry(name, value, read_only, source, config_type) -> dict:
    return {"name": name, "value": value, "read_only": read_only, "is_default": source == DEFAULT_CONFIG,
            "config_source": source, "is_sensitive": False, "synonyms": [], "config_type": config_type,
            "documentation": None}


def _describe(ctx, resource) -> dict:
    broker = ctx.broker
    result = {"error_code": ErrorCode.NONE, "error_message": None, "resource_type": resource.resource_type,
              "resource_name": resource.resource_name, "configs": []}
    if resource.resource_type == TOPIC:
        topic = broker.logs.get(resource.resource_name)
        if topic is None:
            result["error_code"] = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            return result
        entries = [_entry(c.name, c.value, c.read_only, c.source, c.config_type)
                   for c in broker.logs.describe_configs(topic.name)]
    elif resource.resource_type == BROKER:
        if resource.resource_name not in ("", str(broker.node_id)):
            result["error_code"] = ErrorCode.INVALID_REQUEST
            result["error_message"] = f"Unexpected broker id, expected {broker.node_id} or empty string"
            return result
        entries = [_entry(n, v, True, STATIC_BROKER_CONFIG, t) for n, v, t in broker_configs(broker)]
    else:
        result["error_code"] = ErrorCode.INVALID_REQUEST
        result["error_message"] = f"Unsupported resource type {resource.resource_type}"
        return result
    keys = resource.configuration_keys
    result["configs"] = entries if keys is None else [e for e in entries if e["name"] in keys]
    return result


@handles(32, 0, 4)
async def handle_describe_configs(ctx, request):
    return {"throttle_time_ms": 0, "results": [_describe(ctx, r) for r in request.resources]}

"""DescribeConfigs (key 32): v0-4 for TOPIC, BROKER (a node id, or "" for the cluster default),
BROKER_LOGGER, GROUP and CLIENT_METRICS resources (gateway/configs/describe.py builds each answer).

v0 answers is_default instead of config_source and has no synonyms; v1 adds include_synonyms; v3 adds
include_documentation and config_type. Null or empty configuration_keys asks for every config.
"""

from gateway.configs.describe import describe_resource
from gateway.registry import handles
from gateway.security.acl_codes import Operation
from gateway.security.acls_checks import config_refusal


@handles(32, 0, 4)
async def handle_describe_configs(ctx, request):
    synonyms = ctx.api_version >= 1 and request.get("include_synonyms", False)
    documentation = ctx.api_version >= 3 and request.get("include_documentation", False)
    return {"throttle_time_ms": 0, "results": [
        describe_resource(ctx.broker, r, include_synonyms=synonyms, include_documentation=documentation)
        if not (denied := config_refusal(ctx, r.resource_type, r.resource_name, Operation.DESCRIBE_CONFIGS)) else
        {"error_code": denied, "error_message": None, "resource_type": r.resource_type,
         "resource_name": r.resource_name, "configs": []}
        for r in request.resources]}

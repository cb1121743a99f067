"""Group admin views: ListGroups (key 16): v0-5, DescribeGroups (15): v0-6, DeleteGroups (42): v0-3.

DescribeGroups v6 answers an unknown group with GROUP_ID_NOT_FOUND and a message (KIP-1043); v3+
report authorized_operations when asked (KIP-430: no authorizer, so every group operation).
DeleteGroups v3 adds a per-group error_message: Kafka's message for the error code.
"""

from gateway.clock import now_ms
from gateway.registry import handles
from gateway.security.acl_codes import Operation, ResourceType
from gateway.security.acls_checks import in_request_order, visible_groups
from wire.errors import ErrorCode

# Kafka's Errors messages for the codes DeleteGroups answers
_DELETE_MESSAGES = {
    ErrorCode.GROUP_ID_NOT_FOUND: "The group id does not exist.",
    ErrorCode.NON_EMPTY_GROUP: "The group is not empty.",
    ErrorCode.INVALID_GROUP_ID: "The configured groupId is invalid.",
}


@handles(16, 0, 5)
async def handle_list_groups(ctx, request):
    response = ctx.broker.groups.list_groups(request.get("states_filter") or (), request.get("types_filter") or ())
    if ctx.broker.authorizer is not None and not ctx.authorize_cluster(Operation.DESCRIBE, log=False):
        response["groups"] = visible_groups(ctx, response["groups"])
    return {"throttle_time_ms": 0, **response}


@handles(15, 0, 6)
async def handle_describe_groups(ctx, request):
    denied = ctx.denied(Operation.DESCRIBE, ResourceType.GROUP, request.groups)
    response = ctx.broker.groups.describe_groups([g for g in request.groups if g not in denied], ctx.api_version)
    requested = request.get("include_authorized_operations", False)
    for group in response["groups"]:
        if group.get("error_code", ErrorCode.NONE) == ErrorCode.NONE:
            group["authorized_operations"] = ctx.authorized_operations(ResourceType.GROUP, group["group_id"], requested)
    if denied:
        response["groups"] = in_request_order(request.groups, response["groups"], denied, "groups")
    return {"throttle_time_ms": 0, **response}


@handles(42, 0, 3)
async def handle_delete_groups(ctx, request):
    denied = ctx.denied(Operation.DELETE, ResourceType.GROUP, request.groups_names)
    response = ctx.broker.groups.delete_groups([g for g in request.groups_names if g not in denied], now_ms())
    if denied:
        response["results"] = in_request_order(request.groups_names, response["results"], denied, "results")
    for result in response["results"]:
        if result["error_code"] != ErrorCode.NONE and result.get("error_message") is None:
            result["error_message"] = _DELETE_MESSAGES.get(result["error_code"])
    ctx.log.info("groups_deleted", groups=[(r["group_id"], int(r["error_code"])) for r in response["results"]])
    return {"throttle_time_ms": 0, **response}

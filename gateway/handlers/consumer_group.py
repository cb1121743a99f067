"""The KIP-848 consumer group protocol: ConsumerGroupHeartbeat (key 68): v0-1, ConsumerGroupDescribe (69): v0-1.

The broker computes assignments itself (uniform and range assignors); see gateway.groups.kip848.
"""

from gateway.clock import now_ms
from gateway.handlers.group_membership import client_host
from gateway.registry import handles
from gateway.security.acl_codes import Operation, ResourceType
from gateway.security.acls_checks import in_request_order
from wire.errors import ErrorCode


@handles(68, 0, 1)
async def handle_consumer_group_heartbeat(ctx, request):
    response = ctx.broker.consumer_groups.heartbeat(
        request, now_ms(), api_version=ctx.api_version, client_id=ctx.client_id or "",
        client_host=client_host(ctx))
    if response["error_code"] != ErrorCode.NONE or request.member_epoch <= 0:
        ctx.log.info("consumer_group_heartbeat", group_id=request.group_id, member_id=response.get("member_id"),
                     member_epoch=response.get("member_epoch"), error=ErrorCode(response["error_code"]).name)
    return response


@handles(69, 0, 1)
async def handle_consumer_group_describe(ctx, request):
    denied = ctx.denied(Operation.DESCRIBE, ResourceType.GROUP, request.group_ids)
    groups = ctx.broker.consumer_groups.describe([g for g in request.group_ids if g not in denied])
    for group in groups:
        if not group.get("error_code") and ctx.broker.authorizer is not None:
            group["authorized_operations"] = ctx.authorized_operations(
                ResourceType.GROUP, group["group_id"], request.include_authorized_operations)
    if denied:
        groups = in_request_order(request.group_ids, groups, denied, "groups")
    return {"throttle_time_ms": 0, "groups": groups}

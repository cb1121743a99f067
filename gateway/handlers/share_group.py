"""Share groups (KIP-932): ShareGroupHeartbeat (key 76): v1, ShareGroupDescribe (key 77): v1.

v0 was Kafka 4.0's early access and is gone. With share.version finalized at 0 both answer
UNSUPPORTED_VERSION, as Kafka does when share groups are disabled. The member id is the client's; the simple assignor runs
on the broker (see gateway.share.coordinator).
"""

from gateway.clock import now_ms
from gateway.handlers.group_membership import client_host
from gateway.registry import handles
from gateway.security.acl_codes import Operation, ResourceType
from gateway.security.acls_checks import in_request_order
from gateway.share.config import DISABLED_MESSAGE, share_groups_enabled
from gateway.share.coordinator import heartbeat_error
from wire.errors import ErrorCode


@handles(76, 1, 1)
async def handle_share_group_heartbeat(ctx, request):
    if not share_groups_enabled(ctx.broker.features):
        return heartbeat_error(ErrorCode.UNSUPPORTED_VERSION, DISABLED_MESSAGE)
    response = ctx.broker.share_groups.heartbeat(request, now_ms(), client_id=ctx.client_id or "",
                                                 client_host=client_host(ctx))
    if response["error_code"] != ErrorCode.NONE or request.member_epoch <= 0:
        ctx.log.info("share_group_heartbeat", group_id=request.group_id, member_id=request.member_id,
                     member_epoch=response.get("member_epoch"), error=ErrorCode(response["error_code"]).name)
    return response


@handles(77, 1, 1)
async def handle_share_group_describe(ctx, request):
    denied = ctx.denied(Operation.DESCRIBE, ResourceType.GROUP, request.group_ids)
    groups = ctx.broker.share_groups.describe([g for g in request.group_ids if g not in denied])
    if denied:
        groups = in_request_order(request.group_ids, groups, denied, "groups")
    if not share_groups_enabled(ctx.broker.features):
        for group in groups:
            group.update(error_code=ErrorCode.UNSUPPORTED_VERSION, error_message=DISABLED_MESSAGE, members=[])
    for group in groups:  # KIP-430: no authorizer, so every group operation when asked
        group["authorized_operations"] = ctx.authorized_operations(ResourceType.GROUP, group["group_id"],
                                                                   request.include_authorized_operations)
    return {"throttle_time_ms": 0, "groups": groups}

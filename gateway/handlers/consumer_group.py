"""The KIP-848 consumer group protocol: ConsumerGroupHeartbeat (key 68): v0-1, ConsumerGroupDescribe (69): v0-1.

The broker computes assignments itself (uniform and range assignors); see gateway.groups.kip848.
"""

from gateway.clock import now_ms
from gateway.handlers.group_membership import client_host
from gateway.registry import handles
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
    return {"throttle_time_ms": 0, "groups": ctx.broker.consumer_groups.describe(request.group_ids)}

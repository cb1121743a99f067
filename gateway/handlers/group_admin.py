"""Group admin views: ListGroups (key 16): v0-5, DescribeGroups (15): v0-5, DeleteGroups (42): v0-2."""

from gateway.clock import now_ms
from gateway.registry import handles


@handles(16, 0, 5)
async def handle_list_groups(ctx, request):
    response = ctx.broker.groups.list_groups(request.get("states_filter") or (), request.get("types_filter") or ())
    return {"throttle_time_ms": 0, **response}


@handles(15, 0, 5)
async def handle_describe_groups(ctx, request):
    response = ctx.broker.groups.describe_groups(request.groups, ctx.api_version)
    return {"throttle_time_ms": 0, **response}


@handles(42, 0, 2)
async def handle_delete_groups(ctx, request):
    response = ctx.broker.groups.delete_groups(request.groups_names, now_ms())
    ctx.log.info("groups_deleted", groups=[(r["group_id"], int(r["error_code"])) for r in response["results"]])
    return {"throttle_time_ms": 0, **response}

"""Classic group membership: JoinGroup (key 11): v0-9, SyncGroup (14): v0-5, Heartbeat (12): v0-4,
LeaveGroup (13): v0-5 (batched members from v3).

JoinGroup and a follower's SyncGroup wait for the rest of the group: the coordinator answers through
a callback, which resolves the future this handler awaits.
"""

import asyncio

from gateway.clock import now_ms
from gateway.registry import handles
from wire.errors import ErrorCode

NULLABLE_PROTOCOL_NAME = 7  # JoinGroup v7+: protocol_type/protocol_name may be null


def client_host(ctx) -> str:
    """How Kafka shows a member's host: Java's InetAddress.toString(), "/" + the address."""
    return "/" + ctx.peer.rsplit(":", 1)[0]


def _waiter():
    future = asyncio.get_running_loop().create_future()

    def respond(response: dict) -> None:
        if not future.done():
            future.set_result(response)

    return future, respond


@handles(11, 0, 9)
async def handle_join_group(ctx, request):
    future, respond = _waiter()
    ctx.broker.groups.join_group(
        group_id=request.group_id, member_id=request.member_id,
        group_instance_id=request.get("group_instance_id"), session_timeout_ms=request.session_timeout_ms,
        rebalance_timeout_ms=request.get("rebalance_timeout_ms", -1), protocol_type=request.protocol_type,
        protocols=[(p.name, p.metadata) for p in request.protocols], client_id=ctx.client_id,
        client_host=client_host(ctx), api_version=ctx.api_version, now_ms=now_ms(),
        respond=respond, reason=request.get("reason"),
    )
    response = await future
    if ctx.api_version < NULLABLE_PROTOCOL_NAME:
        response = {**response, "protocol_name": response.get("protocol_name") or ""}
    ctx.log.info("join_group", group_id=request.group_id, member_id=response.get("member_id"),
                 error=ErrorCode(response["error_code"]).name, generation_id=response.get("generation_id"))
    return {"throttle_time_ms": 0, **response}


@handles(14, 0, 5)
async def handle_sync_group(ctx, request):
    future, respond = _waiter()
    ctx.broker.groups.sync_group(
        group_id=request.group_id, generation_id=request.generation_id, member_id=request.member_id,
        group_instance_id=request.get("group_instance_id"), protocol_type=request.get("protocol_type"),
        protocol_name=request.get("protocol_name"),
        assignments=[(a.member_id, a.assignment) for a in request.assignments], now_ms=now_ms(), respond=respond,
    )
    response = await future
    ctx.log.info("sync_group", group_id=request.group_id, member_id=request.member_id,
                 error=ErrorCode(response["error_code"]).name)
    return {"throttle_time_ms": 0, **response}


@handles(12, 0, 4)
async def handle_heartbeat(ctx, request):
    response = ctx.broker.groups.heartbeat(
        group_id=request.group_id, generation_id=request.generation_id, member_id=request.member_id,
        group_instance_id=request.get("group_instance_id"), now_ms=now_ms())
    return {"throttle_time_ms": 0, **response}


@handles(13, 0, 5)
async def handle_leave_group(ctx, request):
    if ctx.api_version >= 3:
        members = [(m.member_id, m.group_instance_id) for m in request.members]
    else:
        members = [(request.member_id, None)]
    response = ctx.broker.groups.leave_group(group_id=request.group_id, members=members,
                                             api_version=ctx.api_version, now_ms=now_ms())
    ctx.log.info("leave_group", group_id=request.group_id, members=[m for m, _ in members],
                 error=ErrorCode(response["error_code"]).name)
    return {"throttle_time_ms": 0, **response}

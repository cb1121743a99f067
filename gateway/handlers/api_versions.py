"""ApiVersions (key 18): v0-4, answered from the handler registry."""

from gateway.registry import handles, supported_versions
from wire.errors import ErrorCode


@handles(18, 0, 4)
async def handle_api_versions(ctx, request):
    return {"error_code": ErrorCode.NONE, "api_keys": supported_versions(), "throttle_time_ms": 0}

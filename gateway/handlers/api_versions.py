"""ApiVersions (key 18): v0-4, answered from the handler registry and (v3+) the feature table."""

from gateway.registry import handles, supported_versions
from wire.errors import ErrorCode


@handles(18, 0, 4)
async def handle_api_versions(ctx, request):
    features = ctx.broker.features
    return {"error_code": ErrorCode.NONE, "api_keys": supported_versions(), "throttle_time_ms": 0,
            "supported_features": features.supported(ctx.api_version),
            "finalized_features_epoch": features.epoch,
            "finalized_features": features.finalized()}

"""UpdateFeatures (key 57): v0-2. Changes finalized feature levels (gateway.features), all or nothing.

v0's allow_downgrade means a safe downgrade; v1+ say upgrade_type and may validate_only. A bad update
fails the whole request with INVALID_UPDATE_VERSION and Kafka's message; per-feature results are
answered up to v1 only (v2 has none).
"""

from gateway.features import SAFE_DOWNGRADE, UPGRADE, FeatureError
from gateway.registry import handles
from wire.errors import ErrorCode

FAILED_PREFIX = "The update failed for all features since the following feature had an error: "


@handles(57, 0, 2)
async def handle_update_features(ctx, request):
    updates = []
    for u in request.feature_updates:
        if ctx.api_version == 0:
            upgrade_type = SAFE_DOWNGRADE if u.allow_downgrade else UPGRADE
        else:
            upgrade_type = u.upgrade_type
        updates.append((u.feature, u.max_version_level, upgrade_type))
    validate_only = request.get("validate_only", False)
    try:
        ctx.broker.features.update(updates, validate_only=validate_only)
    except FeatureError as exc:
        ctx.log.info("update_features_refused", reason=exc.message)
        return {"throttle_time_ms": 0, "error_code": exc.code, "error_message": FAILED_PREFIX + exc.message,
                "results": []}
    ctx.log.info("features_updated", updates=updates, validate_only=validate_only)
    return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "error_message": None,
            "results": [{"feature": name, "error_code": ErrorCode.NONE, "error_message": None}
                        for name, _, _ in updates]}

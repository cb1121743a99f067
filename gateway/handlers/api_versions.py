"""ApiVersions (key 18): v0-5, answered from the handler registry and (v3+) the feature table.

v5 (KIP-1242): a client that names the cluster or node it means to reach and finds another gets
REBOOTSTRAP_REQUIRED (a --memory broker is a new cluster after every restart), with no API list.
"""

from gateway.registry import handles, supported_versions
from wire.errors import ErrorCode

NO_NODE = -1


@handles(18, 0, 5)
async def handle_api_versions(ctx, request):
    broker = ctx.broker
    cluster_id, node_id = request.get("cluster_id"), request.get("node_id", NO_NODE)
    own_id = ctx.node.node_id if ctx.node is not None else broker.node_id  # a cluster's node: its own id
    if (cluster_id is not None and cluster_id != broker.cluster_id) or (node_id != NO_NODE and node_id != own_id):
        ctx.log.info("api_versions_wrong_broker", cluster_id=cluster_id, node_id=node_id)
        return {"error_code": ErrorCode.REBOOTSTRAP_REQUIRED, "api_keys": [], "throttle_time_ms": 0}
    if ctx.api_version >= 3:  # KIP-714 subscriptions may match on the client's software name and version
        broker.telemetry.note_software(ctx.connection_id, request.client_software_name,
                                       request.client_software_version)
    features = broker.features
    return {"error_code": ErrorCode.NONE, "api_keys": supported_versions(), "throttle_time_ms": 0,
            "supported_features": features.supported(ctx.api_version),
            "finalized_features_epoch": features.epoch,
            "finalized_features": features.finalized()}

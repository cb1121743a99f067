"""ApiVersions (key 18): v0-5, answered from the handler registry and (v3+) the feature table.

v5 (KIP-1242): a client that names the cluster or node it means to reach and finds another gets
REBOOTSTRAP_REQUIRED (a --memory broker is a new cluster after every restart), with no API list.
The successful answer is the same for every client at a version: its body is encoded once per version
and kept while the API table's size and the finalized features (their epoch moves with every change)
stay the same (a client asks on every connection; encoding the ~80 API ranges cost more than the
rest of the request). Under client quotas the answer is a dict again: a throttled one carries its
throttle time.
"""

from gateway.handlers import TABLE
from gateway.registry import handles, supported_versions
from wire.codec import Encoded, encode
from wire.errors import ErrorCode
from wire.messages import APIS

NO_NODE = -1
_ENCODED: dict[int, tuple[tuple, Encoded]] = {}  # api version -> (what the body was built from, its bytes)


def _body(features, api_version: int) -> dict:
    return {"error_code": ErrorCode.NONE, "api_keys": supported_versions(), "throttle_time_ms": 0,
            "supported_features": features.supported(api_version),
            "finalized_features_epoch": features.epoch,
            "finalized_features": features.finalized()}


def encoded_body(features, api_version: int) -> Encoded:
    """The successful answer's body at `api_version`, encoded (kept; see the module docstring)."""
    built_from = (len(TABLE), id(features), features.epoch)  # (the API list is TABLE's: gateway.registry)
    hit = _ENCODED.get(api_version)
    if hit is None or hit[0] != built_from:
        hit = _ENCODED[api_version] = (built_from, Encoded(encode(APIS[18].response, api_version,
                                                                  _body(features, api_version))))
    return hit[1]


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
    if broker.quota_manager.active:
        return _body(broker.features, ctx.api_version)
    return encoded_body(broker.features, ctx.api_version)

"""DescribeCluster (key 60): v0-2. Every live broker (on the listener the client came through) and the
controller, one of them (gateway/cluster.py); cluster_authorized_operations (KIP-430) when asked: with
no authorizer, every cluster operation."""

from gateway.authorized_operations import CLUSTER_TYPE
from gateway.listeners import advertised
from gateway.registry import handles
from wire.errors import ErrorCode

ENDPOINT_BROKERS = 1


@handles(60, 0, 2)
async def handle_describe_cluster(ctx, request):
    broker = ctx.broker
    if request.get("endpoint_type", ENDPOINT_BROKERS) != ENDPOINT_BROKERS:
        return {"error_code": ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, "error_message": "Only brokers are described",
                "endpoint_type": request.endpoint_type, "cluster_id": broker.cluster_id, "controller_id": -1,
                "brokers": []}
    if broker.multi:
        brokers = [{"broker_id": b["node_id"], "host": b["host"], "port": b["port"], "rack": None, "is_fenced": False}
                   for b in broker.broker_entries(ctx.listener_name)]
        controller_id = broker.controller_id
    else:
        host, port = advertised(ctx)  # the address of the listener the client came through
        brokers = [{"broker_id": broker.node_id, "host": host, "port": port, "rack": None, "is_fenced": False}]
        controller_id = broker.node_id
    return {
        "throttle_time_ms": 0, "error_code": ErrorCode.NONE, "error_message": None,
        "endpoint_type": ENDPOINT_BROKERS, "cluster_id": broker.cluster_id, "controller_id": controller_id,
        "brokers": brokers,
        "cluster_authorized_operations": ctx.authorized_operations(
            CLUSTER_TYPE, "kafka-cluster", request.include_cluster_authorized_operations),
    }

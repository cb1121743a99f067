"""FindCoordinator (key 10): v0-6; batched keys from v4.

A single broker coordinates every group and transaction. In a cluster (gateway/cluster.py) the
coordinator is the leader of the key's partition of __consumer_offsets / __transaction_state
(Kafka's hash: gateway/placement.py), at its address on the client's listener; while that partition
is offline, COORDINATOR_NOT_AVAILABLE.
"""

from gateway.internal_topics import GROUP_METADATA_TOPIC, TRANSACTION_STATE_TOPIC, ensure_internal_topic
from gateway.listeners import advertised
from gateway.registry import handles
from gateway.security.acl_codes import Operation, ResourceType
from wire.errors import ErrorCode

GROUP, TRANSACTION = 0, 1
COORDINATED = {GROUP: ResourceType.GROUP, TRANSACTION: ResourceType.TRANSACTIONAL_ID}  # DESCRIBE on the key
DENIED = {GROUP: ErrorCode.GROUP_AUTHORIZATION_FAILED, TRANSACTION: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED}
INTERNAL_TOPIC = {GROUP: GROUP_METADATA_TOPIC, TRANSACTION: TRANSACTION_STATE_TOPIC}
KINDS = {GROUP: "group", TRANSACTION: "transaction"}  # gateway.cluster's coordinator kinds
# Kafka answers Errors.message(), never null: "NONE" on success, the error's default message otherwise
ERROR_MESSAGES = {
    ErrorCode.NONE: "NONE",
    ErrorCode.INVALID_GROUP_ID: "The configured groupId is invalid.",
    ErrorCode.COORDINATOR_NOT_AVAILABLE: "The coordinator is not available.",
    ErrorCode.INVALID_REQUEST: "This most likely occurs because of a request being malformed by the client library "
                               "or the message was sent to an incompatible broker. See the broker logs for more details.",
}


@handles(10, 0, 6)
async def handle_find_coordinator(ctx, request):
    broker = ctx.broker
    keys = request.coordinator_keys if ctx.api_version >= 4 else [request.key]
    key_type = request.get("key_type", GROUP)
    coordinators = []
    for key in keys:
        error = ErrorCode.NONE if key_type in (GROUP, TRANSACTION) else ErrorCode.INVALID_REQUEST
        if key_type == GROUP and not key:
            error = ErrorCode.INVALID_GROUP_ID
        if error == ErrorCode.NONE and not ctx.authorize(Operation.DESCRIBE, COORDINATED[key_type], key):
            error = DENIED[key_type]
        found = error == ErrorCode.NONE
        node_id, (host, port) = broker.node_id, advertised(ctx)
        if found:  # as Kafka does, the coordinator's internal topic exists from the first lookup on
            ensure_internal_topic(broker, INTERNAL_TOPIC[key_type])
            if broker.multi:
                node = broker.coordinator(KINDS[key_type], key)
                if node is None:
                    error, found = ErrorCode.COORDINATOR_NOT_AVAILABLE, False
                else:
                    node_id, (host, port) = node.node_id, node.address(ctx.listener_name)
        coordinators.append({"key": key, "node_id": node_id if found else -1,
                             "host": host if found else "", "port": port if found else -1,
                             "error_code": error, "error_message": ERROR_MESSAGES.get(error, error.name)})
    if ctx.api_version >= 4:
        return {"throttle_time_ms": 0, "coordinators": coordinators}
    return {"throttle_time_ms": 0, **coordinators[0]}

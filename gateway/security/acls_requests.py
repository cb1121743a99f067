"""Whole-request authorization: the checks KafkaApis makes before it looks at a request's contents,
whose refusal is the API's error response (AbstractRequest.getErrorResponse). One function per API key;
`guard` wraps a handler with its check at registration (gateway.registry.handles), so in-process
handler calls and the pipeline see the same thing. With no authorizer configured the wrapper costs one
attribute check. Checks that refuse some resources of a request and serve the rest (topics in
Produce, groups in DescribeGroups ...) are one-liners in the handlers instead.

The table follows Kafka's "Operations and resources on protocols" (docs/security, Authorization):
"""

from __future__ import annotations

from functools import wraps

from gateway.security.acl_codes import Operation as Op, ResourceType as R
from wire.errors import ErrorCode

GROUP_DENIED = ErrorCode.GROUP_AUTHORIZATION_FAILED
CLUSTER_DENIED = ErrorCode.CLUSTER_AUTHORIZATION_FAILED
TXN_DENIED = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
TOPIC_DENIED = ErrorCode.TOPIC_AUTHORIZATION_FAILED


def _error(code) -> dict:
    return {"throttle_time_ms": 0, "error_code": code}


def _group_read(ctx, request):
    if not ctx.authorize(Op.READ, R.GROUP, request.group_id):
        return _error(GROUP_DENIED)
    return None


def _group_read_subscribed(ctx, request):
    """ConsumerGroupHeartbeat / ShareGroupHeartbeat: READ on the group, DESCRIBE on every subscribed topic."""
    if not ctx.authorize(Op.READ, R.GROUP, request.group_id):
        return _error(GROUP_DENIED)
    names = request.get("subscribed_topic_names") or ()
    denied = ctx.denied(Op.DESCRIBE, R.TOPIC, names)
    if denied:
        return {**_error(TOPIC_DENIED), "error_message": "The member is not authorized to access topics: "
                f"[{', '.join(sorted(denied))}]."}
    return None


def _cluster(operation, response=None):
    """CLUSTER `operation`; refused with `response(request)`, or a top-level CLUSTER_AUTHORIZATION_FAILED."""
    def check(ctx, request):
        if not ctx.authorize_cluster(operation):
            return _error(CLUSTER_DENIED) if response is None else response(request)
        return None
    return check


def _group_delete(ctx, request):
    if not ctx.authorize(Op.DELETE, R.GROUP, request.group_id):
        return {**_error(GROUP_DENIED), "error_message": None, "responses": []}
    return None


def _init_producer_id(ctx, request):
    txn_id = request.transactional_id
    if txn_id is not None:
        if not ctx.authorize(Op.WRITE, R.TRANSACTIONAL_ID, txn_id):
            return {**_error(TXN_DENIED), "producer_id": -1, "producer_epoch": -1}
    elif not ctx.authorize_cluster(Op.IDEMPOTENT_WRITE, log=False) and \
            not ctx.authorize_by_resource_type(Op.WRITE, R.TOPIC):  # KIP-679: any topic WRITE will do
        return {**_error(CLUSTER_DENIED), "producer_id": -1, "producer_epoch": -1}
    return None


def _txn_write(ctx, request):
    if not ctx.authorize(Op.WRITE, R.TRANSACTIONAL_ID, request.transactional_id):
        return _error(TXN_DENIED)
    return None


def _add_partitions_to_txn(ctx, request):
    """v0-3 (the client versions): TRANSACTIONAL_ID WRITE, else every partition refused."""
    if not ctx.authorize(Op.WRITE, R.TRANSACTIONAL_ID, request.v3_and_below_transactional_id):
        return {"throttle_time_ms": 0, "results_by_topic_v3_and_below": [
            {"name": t.name, "results_by_partition": [{"partition_index": p, "partition_error_code": TXN_DENIED}
                                                      for p in t.partitions]} for t in request.v3_and_below_topics]}
    return None


def _add_offsets_to_txn(ctx, request):
    if not ctx.authorize(Op.WRITE, R.TRANSACTIONAL_ID, request.transactional_id):
        return _error(TXN_DENIED)
    if not ctx.authorize(Op.READ, R.GROUP, request.group_id):
        return _error(GROUP_DENIED)
    return None


def _elect_leaders(request):
    return {"throttle_time_ms": 0, "error_code": CLUSTER_DENIED, "replica_election_results": [
        {"topic": t.topic, "partition_result": [{"partition_id": p, "error_code": CLUSTER_DENIED, "error_message": None}
                                                for p in t.partitions]} for t in request.topic_partitions or ()]}


def _alter_reassignments(request):
    return {"throttle_time_ms": 0, "error_code": CLUSTER_DENIED, "error_message": None, "responses": [
        {"name": t.name, "partitions": [{"partition_index": p.partition_index, "error_code": CLUSTER_DENIED,
                                         "error_message": None} for p in t.partitions]} for t in request.topics]}


def _alter_replica_log_dirs(request):
    return {"throttle_time_ms": 0, "results": [
        {"topic_name": t.name, "partitions": [{"partition_index": p, "error_code": CLUSTER_DENIED}
                                              for p in t.partitions]} for d in request.dirs for t in d.topics]}


def _alter_client_quotas(request):
    return {"throttle_time_ms": 0, "entries": [
        {"error_code": CLUSTER_DENIED, "error_message": None,
         "entity": [{"entity_type": e.entity_type, "entity_name": e.entity_name} for e in entry.entity]}
        for entry in request.entries]}


def _describe_client_quotas(code):
    return {**_error(code), "error_message": None, "entries": None}


CHECKS = {
    11: _group_read,  # JoinGroup
    12: _group_read,  # Heartbeat
    13: _group_read,  # LeaveGroup
    14: _group_read,  # SyncGroup
    22: _init_producer_id,
    24: _add_partitions_to_txn,
    25: _add_offsets_to_txn,
    26: _txn_write,  # EndTxn
    34: _cluster(Op.ALTER, _alter_replica_log_dirs),  # AlterReplicaLogDirs
    35: _cluster(Op.DESCRIBE),  # DescribeLogDirs (v3+ carries the error; older versions get no results)
    43: _cluster(Op.ALTER, _elect_leaders),
    45: _cluster(Op.ALTER, _alter_reassignments),
    46: _cluster(Op.DESCRIBE),  # ListPartitionReassignments
    48: _cluster(Op.DESCRIBE_CONFIGS, lambda request: _describe_client_quotas(CLUSTER_DENIED)),
    49: _cluster(Op.ALTER_CONFIGS, _alter_client_quotas),
    55: _cluster(Op.DESCRIBE),  # DescribeQuorum
    57: _cluster(Op.ALTER),  # UpdateFeatures
    68: _group_read_subscribed,  # ConsumerGroupHeartbeat
    74: _cluster(Op.DESCRIBE_CONFIGS),  # ListConfigResources
    76: _group_read_subscribed,  # ShareGroupHeartbeat
    78: _group_read,  # ShareFetch (topics: READ, in the handler)
    79: _group_read,  # ShareAcknowledge
    91: _group_read,  # AlterShareGroupOffsets
    92: _group_delete,  # DeleteShareGroupOffsets
}


def guard(api_key: int, handler):
    """The handler, behind its API's whole-request check (the handler itself when it has none)."""
    check = CHECKS.get(api_key)
    if check is None:
        return handler

    @wraps(handler)
    async def guarded(ctx, request):
        if ctx.broker.authorizer is not None:
            refusal = check(ctx, request)
            if refusal is not None:
                return refusal
        return await handler(ctx, request)

    return guarded

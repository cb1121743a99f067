"""NOT_COORDINATOR in a cluster: the group and transaction APIs answered only by the key's coordinator.

Kafka's brokers each coordinate the groups and transactional ids whose __consumer_offsets /
__transaction_state partition they lead (gateway/cluster.py `coordinator`); any other broker answers
NOT_COORDINATOR and the client looks the coordinator up again (FindCoordinator). The coordinators'
state is shared here, so a coordinator move keeps every committed offset, member and transaction;
what the clients see is what Kafka shows them: NOT_COORDINATOR from the old one.

`install()` wraps the registered handlers of these APIs once per process; the wrapper costs one
attribute check (`broker.multi`) on a single broker. Per API: a request about one key is refused as
a whole (Kafka's getErrorResponse); a request naming several groups or ids is served for those
coordinated here and refused for the others, in the order asked; a listing lists only what this
broker coordinates (the admin client asks every broker and merges).
"""

from __future__ import annotations

from gateway import registry
from wire.errors import ErrorCode

GROUP, TRANSACTION = "group", "transaction"
NOT_COORDINATOR = ErrorCode.NOT_COORDINATOR
_installed = False


def _refuse_partitions(request) -> dict:
    """OffsetCommit / TxnOffsetCommit: every partition asked, NOT_COORDINATOR."""
    return {"throttle_time_ms": 0, "topics": [
        {"name": t.get("name"), "topic_id": t.get("topic_id"),
         "partitions": [{"partition_index": p.partition_index, "error_code": NOT_COORDINATOR} for p in t.partitions]}
        for t in request.topics]}


def _refuse_offset_fetch_v7(request) -> dict:
    topics = [{"name": t.name, "partitions": [
        {"partition_index": i, "committed_offset": -1, "metadata": "", "error_code": NOT_COORDINATOR}
        for i in t.partition_indexes]} for t in (request.topics or [])]
    return {"throttle_time_ms": 0, "topics": topics, "error_code": NOT_COORDINATOR}


def _refuse_add_partitions(request) -> dict:
    return {"throttle_time_ms": 0, "results_by_topic_v3_and_below": [
        {"name": t.name, "results_by_partition": [
            {"partition_index": p, "partition_error_code": NOT_COORDINATOR} for p in t.partitions]}
        for t in request.v3_and_below_topics]}


def _top(extra: dict | None = None):
    def refuse(request) -> dict:
        return {"throttle_time_ms": 0, "error_code": NOT_COORDINATOR, **(extra or {})}
    return refuse


# api key -> (kind, the request's key field, refusal builder, the versions it applies to (low, high))
SINGLE = {
    11: (GROUP, "group_id", _top({"generation_id": -1, "protocol_name": "", "leader": "", "member_id": "",
                                   "members": []}), (0, 99)),  # JoinGroup
    14: (GROUP, "group_id", _top({"assignment": b""}), (0, 99)),  # SyncGroup
    12: (GROUP, "group_id", _top(), (0, 99)),  # Heartbeat
    13: (GROUP, "group_id", _top({"members": []}), (0, 99)),  # LeaveGroup
    8: (GROUP, "group_id", _refuse_partitions, (0, 99)),  # OffsetCommit
    9: (GROUP, "group_id", _refuse_offset_fetch_v7, (0, 7)),  # OffsetFetch (one group)
    28: (GROUP, "group_id", _refuse_partitions, (0, 99)),  # TxnOffsetCommit: the group's coordinator
    68: (GROUP, "group_id", _top({"error_message": None, "member_id": None, "member_epoch": 0,
                                   "heartbeat_interval_ms": 0, "assignment": None}), (0, 99)),  # ConsumerGroupHeartbeat
    76: (GROUP, "group_id", _top({"error_message": None, "member_id": None, "member_epoch": 0,
                                   "heartbeat_interval_ms": 0, "assignment": None}), (0, 99)),  # ShareGroupHeartbeat
    91: (GROUP, "group_id", _top({"error_message": None, "responses": []}), (0, 99)),  # AlterShareGroupOffsets
    92: (GROUP, "group_id", _top({"error_message": None, "responses": []}), (0, 99)),  # DeleteShareGroupOffsets
    22: (TRANSACTION, "transactional_id", _top({"producer_id": -1, "producer_epoch": -1}), (0, 99)),  # InitProducerId
    24: (TRANSACTION, "v3_and_below_transactional_id", _refuse_add_partitions, (0, 3)),  # AddPartitionsToTxn
    25: (TRANSACTION, "transactional_id", _top(), (0, 99)),  # AddOffsetsToTxn
    26: (TRANSACTION, "transactional_id", _top(), (0, 99)),  # EndTxn
}

# api key -> (kind, request list field, response list field, response key field, refusal entry builder)
MANY = {
    15: (GROUP, "groups", "groups", "group_id",  # DescribeGroups
         lambda key: {"error_code": NOT_COORDINATOR, "group_id": key, "group_state": "", "protocol_type": "",
                      "protocol_data": "", "members": [], "authorized_operations": -2147483648}),
    42: (GROUP, "groups_names", "results", "group_id",  # DeleteGroups
         lambda key: {"group_id": key, "error_code": NOT_COORDINATOR}),
    69: (GROUP, "group_ids", "groups", "group_id",  # ConsumerGroupDescribe
         lambda key: {"error_code": NOT_COORDINATOR, "group_id": key, "group_state": "", "group_epoch": -1,
                      "assignment_epoch": -1, "assignor_name": "", "members": [],
                      "authorized_operations": -2147483648}),
    77: (GROUP, "group_ids", "groups", "group_id",  # ShareGroupDescribe
         lambda key: {"error_code": NOT_COORDINATOR, "error_message": None, "group_id": key, "group_state": "",
                      "group_epoch": -1, "assignment_epoch": -1, "assignor_name": "", "members": [],
                      "authorized_operations": -2147483648}),
    65: (TRANSACTION, "transactional_ids", "transaction_states", "transactional_id",  # DescribeTransactions
         lambda key: {"error_code": NOT_COORDINATOR, "transactional_id": key, "transaction_state": "",
                      "transaction_timeout_ms": 0, "transaction_start_time_ms": -1, "producer_id": -1,
                      "producer_epoch": -1, "topics": []}),
}

# api key -> (kind, response list field, entry key field)
LISTINGS = {16: (GROUP, "groups", "group_id"), 66: (TRANSACTION, "transaction_states", "transactional_id")}


def _wrap_single(handler, kind, field, refuse, versions):
    low, high = versions

    async def handle(ctx, request):
        broker = ctx.broker
        if broker.multi and low <= ctx.api_version <= high:
            key = request.get(field)
            if key is not None and not broker.is_coordinator(ctx.node, kind, key):
                ctx.log.info("not_coordinator", key=key, kind=kind, node_id=ctx.node.node_id)
                return refuse(request)
        return await handler(ctx, request)
    return handle


def _wrap_many(handler, kind, request_field, response_field, key_field, refuse):
    async def handle(ctx, request):
        broker = ctx.broker
        if not broker.multi or ctx.node is None:
            return await handler(ctx, request)
        keys = list(request.get(request_field) or [])
        mine = [k for k in keys if broker.is_coordinator(ctx.node, kind, k)]
        if len(mine) == len(keys):
            return await handler(ctx, request)
        setattr(request, request_field, mine)
        response = await handler(ctx, request) if mine else {"throttle_time_ms": 0, response_field: []}
        served = {entry[key_field]: entry for entry in response.get(response_field, [])}
        response[response_field] = [served.get(k) or refuse(k) for k in keys]
        return response
    return handle


def _wrap_group_list(handler, min_version: int, refuse):
    """OffsetFetch v8+ and DescribeShareGroupOffsets: several groups, each refused or served on its own."""
    async def handle(ctx, request):
        broker = ctx.broker
        if not broker.multi or ctx.node is None or ctx.api_version < min_version:
            return await handler(ctx, request)
        groups = list(request.groups)
        mine = [g for g in groups if broker.is_coordinator(ctx.node, GROUP, g.group_id)]
        if len(mine) == len(groups):
            return await handler(ctx, request)
        request.groups = mine
        response = await handler(ctx, request) if mine else {"throttle_time_ms": 0, "groups": []}
        served = {g["group_id"]: g for g in response["groups"]}
        response["groups"] = [served.get(g.group_id) or refuse(g.group_id) for g in groups]
        return response
    return handle


def _wrap_offset_fetch(handler):
    return _wrap_group_list(handler, 8, lambda group_id: {"group_id": group_id, "topics": [],
                                                          "error_code": NOT_COORDINATOR})


def _wrap_share_offsets(handler):
    return _wrap_group_list(handler, 0, lambda group_id: {"group_id": group_id, "topics": [],
                                                          "error_code": NOT_COORDINATOR, "error_message": None})


def _wrap_listing(handler, kind, response_field, key_field):
    async def handle(ctx, request):
        response = await handler(ctx, request)
        broker = ctx.broker
        if broker.multi and ctx.node is not None and response is not None:
            response[response_field] = [e for e in response.get(response_field, [])
                                        if broker.is_coordinator(ctx.node, kind, e[key_field])]
        return response
    return handle


def install() -> None:
    """Wrap the coordinators' handlers (once per process; a no-op for APIs not registered)."""
    global _installed
    if _installed:
        return
    _installed = True
    registry.load_all()  # every handler registered before it is wrapped
    handlers = registry.HANDLERS
    for key, (kind, field, refuse, versions) in SINGLE.items():
        if key in handlers:
            reg = handlers[key]
            handler = _wrap_single(reg.handler, kind, field, refuse, versions)
            if key == 9:
                handler = _wrap_offset_fetch(handler)
            handlers[key] = registry.Registration(reg.api, reg.served_min, reg.max_version, reg.advertised_min,
                                                  handler)
    if 90 in handlers:  # DescribeShareGroupOffsets
        reg = handlers[90]
        handlers[90] = registry.Registration(reg.api, reg.served_min, reg.max_version, reg.advertised_min,
                                             _wrap_share_offsets(reg.handler))
    for key, spec in MANY.items():
        if key in handlers:
            reg = handlers[key]
            handlers[key] = registry.Registration(reg.api, reg.served_min, reg.max_version, reg.advertised_min,
                                                  _wrap_many(reg.handler, *spec))
    for key, spec in LISTINGS.items():
        if key in handlers:
            reg = handlers[key]
            handlers[key] = registry.Registration(reg.api, reg.served_min, reg.max_version, reg.advertised_min,
                                                  _wrap_listing(reg.handler, *spec))

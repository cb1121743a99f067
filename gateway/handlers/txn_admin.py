"""The transaction tooling APIs of KIP-664 (kafka-transactions.sh, Admin.describeProducers...):

DescribeProducers (key 61): v0, each partition's active producers: epoch, last sequence and timestamp,
and the first offset of its open transaction there (coordinator epoch -1: not tracked per producer).
DescribeTransactions (key 65): v0, the coordinator's state of each id; TRANSACTIONAL_ID_NOT_FOUND for
an unknown one. ListTransactions (key 66): v0-2, filtered by state (unknown names are echoed in
unknown_state_filters), producer id, v1 duration (running longer than), v2 transactional id regex
(matched whole, RE2 as Kafka's RE2/J; INVALID_REGULAR_EXPRESSION when it does not compile).
"""

from gateway.clock import now_ms
from gateway.groups.kip848.regex import InvalidRegex, compile_regex
from gateway.registry import handles
from gateway.security.acl_codes import Operation, ResourceType
from gateway.security.acls_checks import describe_transaction
from wire.errors import ErrorCode


def _producers(log) -> list[dict]:
    txns = log.transactions
    return [{"producer_id": producer_id, "producer_epoch": entry.producer_epoch, "last_sequence": entry.last_seq,
             "last_timestamp": entry.batches[-1].timestamp if entry.batches else -1, "coordinator_epoch": -1,
             "current_txn_start_offset": txns.first_offset(producer_id)}
            for producer_id, entry in sorted(log.producers().items())]


@handles(61, 0, 0)
async def handle_describe_producers(ctx, request):
    logs = ctx.broker.logs
    topics = []
    for t in request.topics:
        topic = logs.get(t.name)
        partitions = []
        for index in t.partition_indexes:
            log = topic.partition(index) if topic is not None else None
            if not ctx.authorize(Operation.READ, ResourceType.TOPIC, t.name):
                partitions.append({"partition_index": index, "error_code": ErrorCode.TOPIC_AUTHORIZATION_FAILED,
                                   "error_message": None, "active_producers": []})
            elif log is None:
                partitions.append({"partition_index": index, "error_code": ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                                   "error_message": f"{t.name}-{index} does not exist", "active_producers": []})
            else:
                partitions.append({"partition_index": index, "error_code": ErrorCode.NONE, "error_message": None,
                                   "active_producers": _producers(log)})
        topics.append({"name": t.name, "partitions": partitions})
    return {"throttle_time_ms": 0, "topics": topics}


@handles(65, 0, 0)
async def handle_describe_transactions(ctx, request):
    txn = ctx.broker.txn
    return {"throttle_time_ms": 0, "transaction_states": [describe_transaction(ctx, txn, i)
                                                          for i in request.transactional_ids]}


@handles(66, 0, 2)
async def handle_list_transactions(ctx, request):
    pattern = request.get("transactional_id_pattern")
    matches = None
    if pattern:
        try:
            matches = compile_regex(pattern).fullmatch
        except InvalidRegex:
            return {"throttle_time_ms": 0, "error_code": ErrorCode.INVALID_REGULAR_EXPRESSION,
                    "unknown_state_filters": [], "transaction_states": []}
    listed, unknown = ctx.broker.txn.list_transactions(
        request.state_filters, request.producer_id_filters, request.get("duration_filter", -1), matches,
        now_ms=now_ms())
    if ctx.broker.authorizer is not None:  # only the ids the principal may DESCRIBE
        allowed = ctx.authorized(Operation.DESCRIBE, ResourceType.TRANSACTIONAL_ID,
                                 [t["transactional_id"] for t in listed])
        listed = [t for t in listed if t["transactional_id"] in allowed]
    return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "unknown_state_filters": unknown,
            "transaction_states": listed}

"""The transaction coordinator's client APIs (gateway.txn does the work):

AddPartitionsToTxn (key 24): v0-3, the client versions (one transaction, per-partition errors); v4-5
are broker-to-broker (KIP-890 verify-only batches) and not advertised. Partitions of unknown topics
get UNKNOWN_TOPIC_OR_PARTITION and the others OPERATION_NOT_ATTEMPTED, as Kafka answers.
AddOffsetsToTxn (key 25): v0-4. EndTxn (key 26): v0-4 (v5 is transactions v2, KIP-890 part 2: the
transaction.version feature is not finalized at 2, so clients do not send it).
PRODUCER_FENCED arrived in v2 of all three: older versions get INVALID_PRODUCER_EPOCH.
"""

from gateway.clock import now_ms
from gateway.registry import handles
from gateway.security.acl_codes import Operation, ResourceType
from gateway.security.acls_checks import topic_errors
from wire.errors import ErrorCode

PRODUCER_FENCED_VERSION = 2


def fenced_for(error: ErrorCode, version: int, since: int = PRODUCER_FENCED_VERSION) -> ErrorCode:
    """PRODUCER_FENCED for the versions that know it, INVALID_PRODUCER_EPOCH before."""
    return ErrorCode.INVALID_PRODUCER_EPOCH if error == ErrorCode.PRODUCER_FENCED and version < since else error


@handles(24, 0, 3)
async def handle_add_partitions_to_txn(ctx, request):
    logs = ctx.broker.logs
    topics = request.v3_and_below_topics
    unknown = {(t.name, p) for t in topics for p in t.partitions
               if (topic := logs.get(t.name)) is None or topic.partition(p) is None}
    refused = topic_errors(topics, ctx.denied(Operation.WRITE, ResourceType.TOPIC, {t.name for t in topics}),
                           index=lambda p: p)  # (TRANSACTIONAL_ID WRITE is checked first, by acls_requests)
    if unknown or refused:
        error_for = {**{key: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION for key in unknown}, **refused}
        default = ErrorCode.OPERATION_NOT_ATTEMPTED
    else:
        error = ctx.broker.txn.add_partitions(
            request.v3_and_below_transactional_id, request.v3_and_below_producer_id,
            request.v3_and_below_producer_epoch, [(t.name, p) for t in topics for p in t.partitions], now_ms=now_ms())
        error_for, default = {}, fenced_for(error, ctx.api_version)
        if error:
            ctx.log.info("add_partitions_to_txn_refused", transactional_id=request.v3_and_below_transactional_id,
                         error=default.name)
    return {"throttle_time_ms": 0, "results_by_topic_v3_and_below": [
        {"name": t.name, "results_by_partition": [
            {"partition_index": p, "partition_error_code": error_for.get((t.name, p), default)} for p in t.partitions]}
        for t in topics]}


@handles(25, 0, 4)
async def handle_add_offsets_to_txn(ctx, request):
    error = ctx.broker.txn.add_offsets(request.transactional_id, request.producer_id, request.producer_epoch,
                                       request.group_id, now_ms=now_ms())
    return {"throttle_time_ms": 0, "error_code": fenced_for(error, ctx.api_version)}


@handles(26, 0, 4)
async def handle_end_txn(ctx, request):
    error = ctx.broker.txn.end_txn(request.transactional_id, request.producer_id, request.producer_epoch,
                                   request.committed, now_ms=now_ms())
    ctx.log.debug("end_txn", transactional_id=request.transactional_id, producer_id=request.producer_id,
                 producer_epoch=request.producer_epoch, committed=request.committed, error=error.name)
    return {"throttle_time_ms": 0, "error_code": fenced_for(error, ctx.api_version)}

"""TxnOffsetCommit (key 28): v0-5. Offsets a transaction commits: staged by the transaction coordinator
(gateway.txn), written to the group on COMMIT, dropped on ABORT.

The producer is checked first (INVALID_PRODUCER_ID_MAPPING, fenced, INVALID_TXN_STATE when the group
was not added with AddOffsetsToTxn), then, from v3 (KIP-447), the member's identity against the group:
UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, FENCED_INSTANCE_ID; a request with no generation and no member
(older clients) is not checked, as Kafka does. Fencing answers PRODUCER_FENCED from v3 and
INVALID_PRODUCER_EPOCH before (pre-KIP-447 clients know only that). v6 (topic ids, KIP-1319) is not served.
"""

from gateway.handlers.txn_coordinator import fenced_for
from gateway.registry import handles
from gateway.security.acl_codes import Operation, ResourceType
from wire.errors import ErrorCode, KafkaError

KIP_447 = 3


def refusal(ctx, request) -> ErrorCode:
    if not ctx.authorize(Operation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactional_id):
        return ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    if not ctx.authorize(Operation.READ, ResourceType.GROUP, request.group_id):
        return ErrorCode.GROUP_AUTHORIZATION_FAILED
    return ErrorCode.NONE


def _membership_error(broker, group_id: str, generation: int, member_id: str, instance_id) -> ErrorCode:
    if generation < 0 and not member_id and instance_id is None:
        return ErrorCode.NONE
    if broker.consumer_groups.consumer_group(group_id) is not None:
        try:
            broker.consumer_groups.validate_offset_commit(group_id, member_id, generation, api_version=KIP_447,
                                                          is_transactional=True)
        except KafkaError as exc:
            return ErrorCode.ILLEGAL_GENERATION if exc.code == ErrorCode.STALE_MEMBER_EPOCH else exc.code
        return ErrorCode.NONE
    return broker.groups.validate_txn_offset_commit(group_id, generation, member_id, instance_id)


@handles(28, 0, 5)
async def handle_txn_offset_commit(ctx, request):
    broker = ctx.broker
    group_id = request.group_id
    error = refusal(ctx, request)  # TRANSACTIONAL_ID WRITE, then GROUP READ
    if not error:
        error = broker.txn.check_txn_offset_commit(request.transactional_id, request.producer_id,
                                                   request.producer_epoch, group_id)
        error = fenced_for(error, ctx.api_version, since=KIP_447)
    denied = ctx.denied(Operation.READ, ResourceType.TOPIC, {t.name for t in request.topics})
    if not error:
        error = _membership_error(broker, group_id, request.get("generation_id_or_member_epoch", -1),
                                  request.get("member_id", ""), request.get("group_instance_id"))
    errors: dict[tuple[str, int], ErrorCode] = {}
    staged = []
    max_metadata = broker.groups.config.offset_metadata_max_bytes
    for t in request.topics:
        topic = broker.logs.get(t.name)
        for p in t.partitions:
            if error:
                code = error
            elif t.name in denied:
                code = ErrorCode.TOPIC_AUTHORIZATION_FAILED
            elif topic is None or topic.partition(p.partition_index) is None:
                code = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            elif len((p.committed_metadata or "").encode("utf-8")) > max_metadata:
                code = ErrorCode.OFFSET_METADATA_TOO_LARGE
            else:
                code = ErrorCode.NONE
                staged.append((t.name, p.partition_index, (p.committed_offset, p.get("committed_leader_epoch", -1),
                                                           p.committed_metadata or "")))
            errors[t.name, p.partition_index] = code
    broker.txn.stage_offsets(group_id, request.producer_id, staged)
    if error:
        ctx.log.info("txn_offset_commit_refused", transactional_id=request.transactional_id, group_id=group_id,
                     error=error.name)
    return {"throttle_time_ms": 0, "topics": [
        {"name": t.name, "partitions": [{"partition_index": p.partition_index,
                                         "error_code": errors[t.name, p.partition_index]} for p in t.partitions]}
        for t in request.topics]}

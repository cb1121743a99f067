"""InitProducerId (key 22): v0-6. A null transactional id gets an idempotent producer id (or, v3+, an epoch
bump of the one it names: KIP-360); a transactional id goes to the transaction coordinator (gateway.txn).

v4 added PRODUCER_FENCED: older versions get INVALID_PRODUCER_EPOCH instead, as Kafka answers them.
v6 (KIP-939) two-phase commit (enable2_pc) is not offered: TRANSACTIONAL_ID_AUTHORIZATION_FAILED, as
Kafka answers a transactional id without 2PC rights; keep_prepared_txn is then meaningless.
"""

from gateway.clock import now_ms
from gateway.registry import handles
from wire.errors import ErrorCode

MAX_EPOCH = 32767
PRODUCER_FENCED_VERSION = 4


def _answer(error, producer_id=-1, epoch=-1, version=0) -> dict:
    if error == ErrorCode.PRODUCER_FENCED and version < PRODUCER_FENCED_VERSION:
        error = ErrorCode.INVALID_PRODUCER_EPOCH
    return {"throttle_time_ms": 0, "error_code": error, "producer_id": producer_id, "producer_epoch": epoch,
            "ongoing_txn_producer_id": -1, "ongoing_txn_producer_epoch": -1}


@handles(22, 0, 6)
async def handle_init_producer_id(ctx, request):
    broker = ctx.broker
    producer_id = request.get("producer_id", -1)
    epoch = request.get("producer_epoch", -1)
    transactional_id = request.transactional_id
    if transactional_id is not None:
        if request.get("enable2_pc", False):
            return _answer(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, version=ctx.api_version)
        result = broker.txn.init_producer_id(transactional_id, request.transaction_timeout_ms, producer_id, epoch,
                                             now_ms=now_ms())
        ctx.log.info("producer_id_assigned", producer_id=result.producer_id, producer_epoch=result.producer_epoch,
                     transactional_id=transactional_id, error=result.error_code.name)
        return _answer(result.error_code, result.producer_id, result.producer_epoch, ctx.api_version)
    if producer_id >= 0 and 0 <= epoch < MAX_EPOCH - 1:
        epoch += 1
    else:
        producer_id, epoch = broker.logs.next_producer_id(), 0
    ctx.log.info("producer_id_assigned", producer_id=producer_id, producer_epoch=epoch, transactional_id=None)
    return _answer(ErrorCode.NONE, producer_id, epoch)

"""InitProducerId (key 22): v0-5, for idempotent producers: a fresh producer id, or an epoch bump (KIP-360).

Transactional ids are the transactions issue's; until then a transactional producer is treated as
an idempotent one.
"""

from gateway.registry import handles
from wire.errors import ErrorCode

MAX_EPOCH = 32767


@handles(22, 0, 5)
async def handle_init_producer_id(ctx, request):
    logs = ctx.broker.logs
    producer_id = request.get("producer_id", -1)
    epoch = request.get("producer_epoch", -1)
    if producer_id >= 0 and 0 <= epoch < MAX_EPOCH - 1:
        epoch += 1
    else:
        producer_id, epoch = logs.next_producer_id(), 0
    ctx.log.info("producer_id_assigned", producer_id=producer_id, producer_epoch=epoch,
                 transactional_id=request.transactional_id)
    return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "producer_id": producer_id, "producer_epoch": epoch}

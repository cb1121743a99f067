"""Produce (key 0): v3-13, advertised from v0 (librdkafka needs it, KAFKA-18659); v0-2 get UNSUPPORTED_VERSION.

v12 is v11 here: its implicit AddPartitionsToTxn belongs to transactions v2, which clients use only
when transaction.version 2 is finalized (never, gateway/features.py). v13 names topics by id
(KIP-516): an unknown id is UNKNOWN_TOPIC_ID, and topics are not auto-created by id.

Record batches stay opaque: the partition log validates headers, CRCs and every record (one pass, no
per-record objects) and rewrites base offsets. v8+ carry error_message and, for a refused record, KIP-467
record_errors (batch_index = the record's position in the batch).
acks=0 gets no response at all; when a partition failed (refused, unauthorized ...) the connection is
closed instead, after the responses before it, as Kafka does (the client learns by the close). Nothing of a partition's rejected records is appended. A transactional
batch is appended only from its producer's current epoch (else INVALID_PRODUCER_EPOCH) into a partition
its ongoing transaction added (else INVALID_TXN_STATE, KIP-890 part 1's server-side defence).
acks=all to a partition whose ISR is smaller than min.insync.replicas gets NOT_ENOUGH_REPLICAS (one
broker: its only replica). In a cluster (gateway/cluster.py) a broker that does not lead a partition
answers NOT_LEADER_OR_FOLLOWER, from v10 with the current leader and its address (KIP-951).

One storage write a request: every partition's batches are validated and staged (offsets assigned,
nothing visible), then stored together (Storage.append_many, one RocksDB WriteBatch) and committed,
so the response, sent after, acknowledges only stored records (an acknowledged write survives kill -9).
A write that fails answers KAFKA_STORAGE_ERROR for every partition it held. The group is stored early
before anything that may wait (a big block decompressed on the worker), so no other append can come
between a partition's staging and its commit, and before a partition the request names twice.
"""

from gateway import malloc_tuning
from gateway.clock import now_ms
from gateway.autocreate import get_or_create
from gateway.internal_topics import is_internal
from gateway.leadership import current_leader, isr_size, isr_text, partition_error, wait_for_followers
from gateway.records_offload import INLINE_UNCOMPRESSED_BYTES, NEEDS_WORKER, inline_block, release_block, worker_block
from gateway.registry import CloseConnection, handles
from gateway.security.acl_codes import Operation, ResourceType
from partitions.log import AppendResult
from partitions.storage import StorageError
from wire.errors import ErrorCode, KafkaError
from wire.record_codec import CODEC_NONE
from wire.records import CorruptRecordError, split_batches

OLDEST_SERVED = 3
KIP_951_VERSION = 10  # current_leader and node_endpoints
TOPIC_IDS_VERSION = 13  # KIP-516: topic ids instead of names
ADMIN_CLIENT_ID = "__admin_client"  # the one client id Kafka lets append to internal topics
ZSTD, ZSTD_MIN_VERSION = 4, 7
_TXN_REFUSED = {
    ErrorCode.INVALID_TXN_STATE: "The producer attempted a transactional operation in an invalid state",
    ErrorCode.INVALID_PRODUCER_EPOCH: "Producer attempted to produce with an old epoch.",
}
ONE_BATCH = "Produce requests with version 3 are only allowed to contain exactly one record batch"


def _partition_result(index, code=ErrorCode.NONE, base_offset=-1, log_append_time_ms=-1, log_start_offset=-1,
                      message=None, record_errors=()) -> dict:
    return {"index": index, "error_code": code, "base_offset": base_offset,
            "log_append_time_ms": log_append_time_ms, "log_start_offset": log_start_offset,
            "record_errors": [{"batch_index": i, "batch_index_error_message": text} for i, text in record_errors]
            if record_errors else [], "error_message": message}


class _Staged:
    """A request's staged partition appends (their result dicts filled in once stored), one write."""

    __slots__ = ("ctx", "entries", "keys", "storage")

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.entries: list[tuple[dict, object, int, int]] = []  # (result, StagedAppend, bytes, records)
        self.keys: set[tuple[bytes, int]] = set()
        self.storage = None  # the engine of what is staged

    def add(self, result: dict, staged, size: int, count: int, key: tuple[bytes, int]) -> None:
        storage = staged.log.storage
        if storage is not self.storage:
            self.store()  # one write is one engine's
            self.storage = storage
        self.entries.append((result, staged, size, count))
        self.keys.add(key)

    def store(self) -> None:
        """One storage write of everything staged, then each partition commits (or all get the error)."""
        entries = self.entries
        if not entries:
            return
        self.entries, self.keys = [], set()
        try:
            entries[0][1].log.storage.append_many([entry[1].write for entry in entries])
        except StorageError as exc:
            for result, staged, _, _ in entries:
                error = staged.log.storage_error(exc)
                self.ctx.log.info("produce_rejected", topic=staged.log.topic.name, partition=staged.log.index,
                                  error=error.code.name, reason=error.message)
                result.update(error_code=error.code, error_message=error.message)
            return
        metrics = self.ctx.broker.metrics
        for result, staged, size, count in entries:
            appended = staged.commit()
            result["base_offset"] = appended.base_offset  # (items, not update(**): no kwargs dict a partition)
            result["log_append_time_ms"] = appended.log_append_time_ms
            result["log_start_offset"] = appended.log_start_offset
            if metrics is not None:  # gateway.metrics: bytes and messages in
                metrics.produced(staged.log.topic.name, size, count)


def _checked(ctx, topic, partition_data, version, acks, endpoints, now):
    """A partition's checks before its records are staged: its result dict if refused, else
    (index, log, records, split batches (or PartitionLog.accept's checked one), the one batch's header)."""
    index = partition_data["index"]  # (dict items: a Container's attributes are Python-level)
    log = topic.partition(index) if topic is not None else None
    if log is None:
        return _partition_result(index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
    if ctx.broker.multi:  # a cluster: only the leader appends
        code = partition_error(ctx, log)
        if code:
            result = _partition_result(index, code)
            if version >= KIP_951_VERSION:
                result["current_leader"] = current_leader(ctx, log, endpoints)
            return result
    if acks == -1 and topic.min_insync_replicas > isr_size(ctx, log):  # Kafka's Partition.appendRecordsToLeader
        return _partition_result(index, ErrorCode.NOT_ENOUGH_REPLICAS, message=(
            f"The size of the current ISR : {isr_size(ctx, log)} is insufficient to satisfy the min.isr "
            f"requirement of {topic.min_insync_replicas} for partition {log}, live replica(s) broker.id are : "
            f"[{isr_text(ctx, log)}]"))
    records = partition_data["records"]
    batches = log.accept(records, now)  # the common entry, every check in one C call
    if batches is None:  # compressed, or refused: the full checks name the fault
        try:
            batches = split_batches(records or b"")
        except CorruptRecordError as exc:
            return _partition_result(index, exc.code, message=str(exc))
        if len(batches) != 1:
            return _partition_result(index, ErrorCode.INVALID_RECORD, message=ONE_BATCH)
    header = batches[0][1]
    if header.compression == ZSTD and version < ZSTD_MIN_VERSION:
        return _partition_result(index, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
                                 message="Produce requests with zstd need version 7 or above")
    if header.is_transactional and not header.is_control and header.producer_id >= 0:  # current epoch, in its txn
        refused = ctx.broker.txn.check_produce(header.producer_id, header.producer_epoch, topic.name, index)
        if refused:
            ctx.log.info("produce_rejected", topic=topic.name, partition=index, error=refused.name,
                         producer_id=header.producer_id, producer_epoch=header.producer_epoch)
            return _partition_result(index, refused, message=_TXN_REFUSED[refused])
    return index, log, records, batches, header


def _stage(ctx, topic, index, log, records, batches, header, now, held, group: _Staged) -> dict:
    """Validate and stage the partition's batch into the request's one write (held: its decompressed
    records, or None: uncompressed, the log reads them in place)."""
    try:
        key = (topic.topic_id, index)
        if key in group.keys:  # named twice: the first append is stored first
            group.store()
        staged = log.stage_append(records, now, blocks=held, split=batches)
        if staged.__class__ is AppendResult:  # a duplicate of a stored batch: its original offsets
            return _partition_result(index, ErrorCode.NONE, staged.base_offset, staged.log_append_time_ms,
                                     staged.log_start_offset)
        result = {"index": index, "error_code": ErrorCode.NONE, "base_offset": -1, "log_append_time_ms": -1,
                  "log_start_offset": -1, "record_errors": [], "error_message": None}  # (_partition_result's)
        group.add(result, staged, len(records), header.record_count, key)
        return result
    except KafkaError as exc:
        ctx.log.info("produce_rejected", topic=topic.name, partition=index, error=exc.code.name, reason=exc.message)
        return _partition_result(index, exc.code, message=exc.message, record_errors=exc.record_errors)


async def _append_compressed(ctx, topic, checked, now, group: _Staged) -> dict:
    """_stage for a compressed batch: its records decompressed first (a big block on the worker)."""
    index, log, records, batches, header = checked
    block = inline_block(records, batches[0][0], header, topic.max_message_bytes)
    if block is NEEDS_WORKER:  # big: decompressed off the loop, so first store what waits
        group.store()
        block = await worker_block(records, batches[0][0], header)
    held = [block]
    try:
        return _stage(ctx, topic, index, log, records, batches, header, now, held, group)
    finally:
        big = block is not None and not isinstance(block, CorruptRecordError) and len(block) > INLINE_UNCOMPRESSED_BYTES
        del block  # held is then its only reference, so the worker unmaps it (80 MiB: 25-110 ms off the loop)
        if big:
            group.store()  # releasing a big block waits for the worker
            await release_block(held)
        held.clear()


@handles(0, OLDEST_SERVED, 13, advertised_min=0)
async def handle_produce(ctx, request):
    if not malloc_tuning.tried:  # big buffers reused, not faulted in each time (gateway/malloc_tuning.py)
        malloc_tuning.tune()
    version = ctx.api_version
    acks = request["acks"]  # (dict items: a Container's attributes are Python-level)
    transactional_id = dict.get(request, "transactional_id")  # (absent before v3, refused below)
    refused = None
    if version < OLDEST_SERVED:
        refused = ErrorCode.UNSUPPORTED_VERSION
    elif acks not in (0, 1, -1):
        refused = ErrorCode.INVALID_REQUIRED_ACKS
    if refused is None and transactional_id is not None and not ctx.authorize(
            Operation.WRITE, ResourceType.TRANSACTIONAL_ID, transactional_id):
        refused = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    now = now_ms()
    responses = []
    group = _Staged(ctx)
    endpoints = {}  # KIP-951: the leaders named in current_leader hints
    by_id = version >= TOPIC_IDS_VERSION
    for topic_data in request["topic_data"]:
        if by_id:  # v13: topics by id, never auto-created
            topic = ctx.broker.logs.get_by_id(topic_data["topic_id"])
            name = topic.name if topic is not None else None
        else:
            topic, name = None, topic_data["name"]
        if refused is not None:
            results = [_partition_result(p.index, refused) for p in topic_data.partition_data]
        elif by_id and topic is None:
            results = [_partition_result(p.index, ErrorCode.UNKNOWN_TOPIC_ID) for p in topic_data.partition_data]
        elif not ctx.authorize(Operation.WRITE, ResourceType.TOPIC, name):
            results = [_partition_result(p.index, ErrorCode.TOPIC_AUTHORIZATION_FAILED) for p in topic_data.partition_data]
        elif is_internal(name) and ctx.client_id != ADMIN_CLIENT_ID:  # Kafka: "Cannot append to internal topic"
            results = [_partition_result(p.index, ErrorCode.INVALID_TOPIC_EXCEPTION) for p in topic_data.partition_data]
        else:
            if topic is None:
                topic, _ = get_or_create(ctx, name)
            results = []  # (a loop, not an async comprehension: no coroutine a topic; none a partition
            for p in topic_data["partition_data"]:  # unless its batch is compressed)
                checked = _checked(ctx, topic, p, version, acks, endpoints, now)
                if checked.__class__ is dict:
                    results.append(checked)
                elif checked[4].compression == CODEC_NONE:  # nothing to decompress: the log reads it in place
                    results.append(_stage(ctx, topic, *checked, now, None, group))
                else:
                    results.append(await _append_compressed(ctx, topic, checked, now, group))
        responses.append({"name": name or "", "topic_id": dict.get(topic_data, "topic_id"),
                          "partition_responses": results})
    group.store()  # before the response: it acknowledges stored records only
    if acks == -1 and ctx.broker.multi:  # a cluster: a hung follower in the ISR holds acks=all up
        await wait_for_followers(ctx, responses, request.timeout_ms)
    if acks == 0:  # no response; a failure closes the connection so the client refreshes (Kafka)
        failed = {f"{t['name']}-{p['index']}": ErrorCode(p["error_code"]).name
                  for t in responses for p in t["partition_responses"] if p["error_code"]}
        if failed:
            raise CloseConnection("produce_acks0_failed_connection_closed", errors=failed)
        return None
    if endpoints:
        return {"responses": responses, "throttle_time_ms": 0, "node_endpoints": list(endpoints.values())}
    return {"responses": responses, "throttle_time_ms": 0}

"""Fetch (key 1): v4-18; by topic name up to v12, by topic id from v13; incremental fetch sessions
(KIP-227) from v7, kept by gateway/fetch_sessions.py.
v18 only adds a follower-side high_watermark tag (KIP-1166), which consumers never send.

Honours max_wait_ms/min_bytes (a waiting fetch wakes as soon as data arrives), max_bytes and
partition_max_bytes with the first batch always whole (KIP-74), isolation level (read_committed
reads below the last stable offset and gets every aborted transaction overlapping what it reads;
read_uncommitted reads to the high watermark with no aborted list), log start offset and OFFSET_OUT_OF_RANGE.
In a cluster (gateway/cluster.py) a broker serves the partitions it leads, and from v11 (KIP-392: the
request has client metadata) those it follows; otherwise NOT_LEADER_OR_FOLLOWER, and a
current_leader_epoch older than the leader's FENCED_LEADER_EPOCH, with the current leader (v12+) and
its address (v16+, KIP-951).
"""


from construct import Container

from gateway import malloc_tuning
from gateway.clock import now_ms
from gateway.fetch_sessions import FINAL_EPOCH, INVALID_SESSION_ID
from gateway.leadership import LEADER_HINT_ERRORS, current_leader, partition_error
from gateway.long_poll import wait_for_any
from gateway.offload import Pacer, collapse_partitions
from gateway.quota_enforcement.throttle import fetch_window_bytes
from gateway.registry import handles
from gateway.security.acl_codes import Operation, ResourceType
from wire.codec import Parts
from wire.errors import ErrorCode, KafkaError
from wire.schema import ZERO_UUID

READ_COMMITTED = 1
NONE = ErrorCode.NONE


# Request fields are read as dict items: a construct Container's attribute read raises and catches an
# AttributeError inside (~0.5 us each, ten times a dict item's), and a small Fetch read a dozen of them.
_get = dict.get
_SMALL = 1000  # partitions a request may have for _unique's check (one set of them, no loop yield)


def _topic_key(topic_request):
    return topic_request["topic_id"]


def _topic_name(topic_request):
    return topic_request["topic"]


def _resolve(logs, topic_request, version):
    if version >= 13:
        topic = logs.get_by_id(topic_request["topic_id"])
        return topic, ErrorCode.UNKNOWN_TOPIC_ID
    return logs.get(topic_request["topic"]), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION


def _unique(topics, key) -> list | None:
    """The request's topics as collapse_partitions gives them ([(topic request, [partitions])]) when no
    topic and no partition of a topic is named twice and there are at most _SMALL partitions (what every
    client sends), without its coroutine and dicts; else None (collapse_partitions decides)."""
    if len(topics) > _SMALL or len({key(topic) for topic in topics}) != len(topics):
        return None
    out, size = [], 0
    for topic in topics:
        partitions = topic["partitions"]
        size += len(partitions)
        if size > _SMALL or len({p["partition"] for p in partitions}) != len(partitions):
            return None
        out.append((topic, partitions))
    return out


def _partition_error(index, code, log=None) -> dict:
    return {
        "partition_index": index, "error_code": code,
        "high_watermark": log.high_watermark if log else -1,
        "last_stable_offset": log.last_stable_offset if log else -1,
        "log_start_offset": log.log_start_offset if log else -1,
        # never null records: librdkafka fails the whole response on a null message set (Kafka sends EMPTY)
        "aborted_transactions": None, "preferred_read_replica": -1, "records": b"",
    }


async def _read_all(logs, request, version, budget, wanted, authorize, ctx=None, endpoints=None, quiet=None):
    """One pass over the requested partitions: (response topics, bytes gathered, logs read).
    ctx: a cluster's (leadership is checked), else None; `endpoints` collects the KIP-951 leaders
    (and the key None when some partition was answered with an error). quiet: an incremental session's
    (field naming topics, a lookup of its CachedPartitions by key): a caught-up partition whose high watermark and
    log start offset the consumer was last told is left out here, as the session's answer would drop it."""
    committed = _get(request, "isolation_level", 0) == READ_COMMITTED
    responses = []
    gathered = 0
    touched = []
    pacer = Pacer()
    field, cached_of = quiet if quiet is not None else (None, None)
    for topic_request, requested in wanted:
        topic, missing = _resolve(logs, topic_request, version)
        ident = topic_request[field] if field is not None else None
        name = topic.name if topic is not None else _get(topic_request, "topic")
        if name is not None and not authorize(Operation.READ, ResourceType.TOPIC, name):
            topic, missing = None, ErrorCode.TOPIC_AUTHORIZATION_FAILED
        partitions = []
        get = dict.get  # (a Container's attributes and get() are Python-level: this is per partition)
        for p in requested:
            if pacer.due():
                await pacer.checkpoint()
            index = p["partition"]
            log = topic.partition(index) if topic is not None else None
            if log is None:
                partitions.append(_partition_error(index, missing if topic is None else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION))
                continue
            if ctx is not None:
                code = partition_error(ctx, log, get(p, "current_leader_epoch", -1), follower_ok=version >= 11)
                if code:
                    entry = _partition_error(index, code, log)
                    if code in LEADER_HINT_ERRORS and version >= 12:
                        entry["current_leader"] = current_leader(ctx, log, endpoints)
                    partitions.append(entry)
                    endpoints.setdefault(None, True)  # an error is an answer: Kafka's DelayedFetch completes at once
                    continue
            touched.append(log)
            if ctx is None and get(p, "current_leader_epoch", -1) > log.leader_epoch:
                partitions.append(_partition_error(index, ErrorCode.UNKNOWN_LEADER_EPOCH, log))
                continue
            upper = log.last_stable_offset if committed else log.high_watermark
            fetch_offset = p["fetch_offset"]
            if fetch_offset == upper and fetch_offset >= log.log_start_offset:  # caught up: nothing to read
                if cached_of is not None:
                    cached = cached_of((ident, index))
                    if (cached is not None and cached.high_watermark == log.high_watermark
                            and cached.local_log_start_offset == log.log_start_offset):
                        continue  # nothing new to tell (FetchContext.respond's must_respond would drop it)
                partitions.append({
                    "partition_index": index, "error_code": NONE, "high_watermark": log.high_watermark,
                    "last_stable_offset": log.last_stable_offset, "log_start_offset": log.log_start_offset,
                    "aborted_transactions": [] if committed else None, "preferred_read_replica": -1, "records": b"",
                })
                continue
            limit = min(p["partition_max_bytes"], budget - gathered)
            try:
                # only the response's very first batch may exceed the limits (KIP-74): past it a batch that
                # does not fit is not read; several batches stay parts the codec writes one after another
                records = log.read(fetch_offset, limit if gathered else max(limit, 1), upper=upper, joined=False,
                                   first_whole=not gathered)
            except KafkaError as exc:
                partitions.append(_partition_error(index, exc.code, log))
                continue
            gathered += len(records)
            partitions.append({
                "partition_index": index, "error_code": NONE,
                "high_watermark": log.high_watermark, "last_stable_offset": log.last_stable_offset,
                "log_start_offset": log.log_start_offset,
                "aborted_transactions": log.transactions.aborted_overlapping(
                    fetch_offset, records.last if records.__class__ is Parts else records)  # (its end offset)
                if committed else None,
                "preferred_read_replica": -1, "records": records,
            })
        responses.append({"topic": topic.name if topic else _get(topic_request, "topic"),
                          "topic_id": topic.topic_id if topic else _get(topic_request, "topic_id", ZERO_UUID),
                          "partitions": partitions})
    return responses, gathered, touched


@handles(1, 4, 18)
async def handle_fetch(ctx, request):
    if not malloc_tuning.tried:  # big buffers reused, not faulted in each time (gateway/malloc_tuning.py)
        malloc_tuning.tune()
    broker = ctx.broker
    logs = broker.logs
    version = ctx.api_version
    # the broker's fetch.max.bytes caps what one response may gather (the first batch stays whole)
    max_bytes = request["max_bytes"]
    budget = min(max_bytes, broker.config.fetch_max_bytes) if max_bytes > 0 else 1
    budget = min(budget, fetch_window_bytes(ctx))  # consumer_byte_rate: at most one quota window per response
    # each partition once (Kafka's fetchData map): 200,000 copies of one partition are one read
    key = _topic_key if version >= 13 else _topic_name
    topics = request["topics"]
    unique = _unique(topics, key)
    if unique is None:
        unique, duplicated = await collapse_partitions(topics, key, "partition")
        if duplicated:  # the session sees each partition once too
            request["topics"] = [Container(topic, partitions=partitions) for topic, partitions in unique]
    if _get(request, "session_epoch", FINAL_EPOCH) == FINAL_EPOCH and not _get(request, "session_id", 0):
        context = quiet = None  # sessionless (librdkafka's every Fetch): no session to read or answer through
        wanted = unique
    else:
        context = await broker.fetch_sessions.new_context(request, version, now_ms())  # KIP-227: what to read
        if context.error:
            return {"throttle_time_ms": 0, "error_code": context.error, "session_id": 0, "responses": []}
        if context.full:  # the request's partitions, each once (collapsed above)
            wanted = unique
        elif context.incremental:  # the session's, each once (keyed by partition) and grouped by topic
            wanted = [(topic, topic["partitions"]) for topic in context.topics]
        else:
            wanted, _ = await collapse_partitions(context.topics, key, "partition")
        quiet = context.quiet()
    cluster = ctx if broker.multi else None
    endpoints = {}
    responses, gathered, touched = await _read_all(logs, request, version, budget, wanted, ctx.authorize, cluster,
                                                   endpoints, quiet)
    answered = endpoints.pop(None, False)  # a leadership error: answer now
    max_wait_ms = request["max_wait_ms"]
    if gathered < request["min_bytes"] and max_wait_ms > 0 and touched and not answered:
        await wait_for_any((log.listeners for log in touched), max_wait_ms / 1000)
        responses, gathered, touched = await _read_all(logs, request, version, budget, wanted, ctx.authorize,
                                                       cluster, endpoints, quiet)
        endpoints.pop(None, None)
    if context is not None:
        responses = await context.respond(responses, wanted)  # sets session_id when a session was created
    if broker.metrics is not None:  # gateway.metrics: bytes out per topic
        broker.metrics.fetched_response(responses)
    response = {"throttle_time_ms": 0, "error_code": ErrorCode.NONE,
                "session_id": context.session_id if context is not None else INVALID_SESSION_ID, "responses": responses}
    if endpoints and version >= 16:
        response["node_endpoints"] = list(endpoints.values())
    return response

"""ShareFetch (key 78): v1-2 and ShareAcknowledge (key 79): v1-2 (KIP-932).

A share session per (group, member): epoch 0 opens it (no acknowledgements allowed: INVALID_REQUEST),
-1 closes it (ShareFetch then only acknowledges), any other epoch must be the next one
(INVALID_SHARE_SESSION_EPOCH) of a session that exists (SHARE_SESSION_NOT_FOUND). ShareAcknowledge
cannot open a session (epoch 0: INVALID_SHARE_SESSION_EPOCH). Opening one needs a member of the
share group (UNKNOWN_MEMBER_ID).

ShareFetch applies piggybacked acknowledgements first (errors per partition in
acknowledge_error_code), then acquires records across the session's partitions, up to max_records
and max_bytes, waiting up to max_wait_ms for at least min_bytes; AcquiredRecords ranges are cut at the first
log-batch boundary after each batch_size records (a soft size, as in Kafka). v2: share_acquire_mode 1
(record-limit) never returns more than max_records; is_renew_ack allows Renew (type 4)
acknowledgements (unless the group's share.renew.acknowledge.enable is false) and makes the request
acknowledge only. Everything a request changed is persisted
before the response is sent. share.version finalized at 0: UNSUPPORTED_VERSION.
"""

import time

from gateway.clock import now_ms
from gateway.leadership import LEADER_HINT_ERRORS, current_leader, partition_error
from gateway.long_poll import wait_for_any
from gateway.registry import handles
from gateway.security.acl_codes import Operation, ResourceType
from gateway.share.config import DISABLED_MESSAGE, share_groups_enabled
from gateway.share.partition import AcquireMode
from gateway.share.sessions import FINAL_EPOCH, INITIAL_EPOCH
from wire.errors import ErrorCode, KafkaError

DEFAULT_MAX_RECORDS = 500


def _partition_entry(ctx, index: int, log=None) -> dict:
    return {"partition_index": index, "error_code": ErrorCode.NONE, "error_message": None,
            "acknowledge_error_code": ErrorCode.NONE, "acknowledge_error_message": None,
            "current_leader": _current_leader(ctx, log), "records": b"", "acquired_records": []}


def _current_leader(ctx, log, endpoints: dict | None = None) -> dict:
    """The partition's leader and epoch (in a cluster the real leader, whose address goes into
    `endpoints` for node_endpoints); -1, -1 for a partition we do not have."""
    if log is None:
        return {"leader_id": -1, "leader_epoch": -1}
    return current_leader(ctx, log, endpoints if endpoints is not None else {})


def _resolve(ctx, topic_id: bytes, index: int):
    """(log, error): UNKNOWN_TOPIC_ID for a topic id we do not have, TOPIC_AUTHORIZATION_FAILED for a topic
    the principal may not READ, UNKNOWN_TOPIC_OR_PARTITION for a partition, NOT_LEADER_OR_FOLLOWER (with
    the log, for the leader hint) for a partition this broker of a cluster does not lead."""
    topic = ctx.broker.logs.get_by_id(topic_id)
    if topic is None:
        return None, ErrorCode.UNKNOWN_TOPIC_ID
    if not ctx.authorize(Operation.READ, ResourceType.TOPIC, topic.name):
        return None, ErrorCode.TOPIC_AUTHORIZATION_FAILED
    log = topic.partition(index)
    if log is None:
        return None, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    return log, partition_error(ctx, log)


def _leader_hint(ctx, entry: dict, log, error: ErrorCode, endpoints: dict) -> None:
    """A partition led elsewhere: the entry names the current leader, node_endpoints its address."""
    if log is not None and error in LEADER_HINT_ERRORS:
        entry["current_leader"] = _current_leader(ctx, log, endpoints)


def _top_error(code: ErrorCode, message: str | None) -> dict:
    return {"throttle_time_ms": 0, "error_code": code, "error_message": message, "responses": [],
            "node_endpoints": [], "acquisition_lock_timeout_ms": 0}


def _unknown_member(group_id: str, member_id: str) -> KafkaError:
    return KafkaError(ErrorCode.UNKNOWN_MEMBER_ID, f"Member {member_id} is not a member of share group {group_id}.")


def _session(broker, request, *, acknowledge_only: bool):
    """The share session the request opens or continues; raises the session errors."""
    group_id, member_id, epoch = request.group_id, request.member_id, request.share_session_epoch
    if not share_groups_enabled(broker.features):
        raise KafkaError(ErrorCode.UNSUPPORTED_VERSION, DISABLED_MESSAGE)
    if not group_id:
        raise KafkaError(ErrorCode.INVALID_GROUP_ID, "The group id must not be empty.")
    if not member_id:
        raise KafkaError(ErrorCode.INVALID_REQUEST, "The member id must not be empty.")
    sessions = broker.shares.sessions
    if epoch == INITIAL_EPOCH:
        if acknowledge_only:
            raise KafkaError(ErrorCode.INVALID_SHARE_SESSION_EPOCH, "A share acknowledge request cannot open "
                                                                    "a share session (epoch 0).")
        if any(p.acknowledgement_batches for t in request.topics for p in t.partitions):
            raise KafkaError(ErrorCode.INVALID_REQUEST, "Acknowledge data present in the initial share fetch request.")
        if not broker.share_groups.is_member(group_id, member_id):
            raise _unknown_member(group_id, member_id)
        return sessions.open(group_id, member_id, [(t.topic_id, p.partition_index) for t in request.topics
                                                    for p in t.partitions])
    if epoch < FINAL_EPOCH:
        raise KafkaError(ErrorCode.INVALID_SHARE_SESSION_EPOCH, f"Invalid share session epoch {epoch}.")
    return sessions.continue_session(group_id, member_id, epoch)


def _acknowledge_all(ctx, request, allow_renew: bool, now: int, entries: dict, endpoints: dict) -> None:
    """Apply every partition's acknowledgement batches; errors go in the partitions' entries."""
    broker = ctx.broker
    for topic in request.topics:
        for p in topic.partitions:
            if not p.acknowledgement_batches:
                continue
            entry = entries.setdefault((topic.topic_id, p.partition_index), _partition_entry(ctx, p.partition_index))
            log, error = _resolve(ctx, topic.topic_id, p.partition_index)
            if log is not None and not error:
                try:
                    broker.shares.acknowledge(request.group_id, request.member_id, log, p.acknowledgement_batches,
                                              now, allow_renew=allow_renew)
                except KafkaError as exc:
                    error, entry["acknowledge_error_message"] = exc.code, exc.message
            entry["acknowledge_error_code"] = error
            entry["current_leader"] = _current_leader(ctx, log)
            _leader_hint(ctx, entry, log, error, endpoints)


def _responses(entries: dict) -> list[dict]:
    topics: dict[bytes, list] = {}
    for (topic_id, _), entry in entries.items():
        topics.setdefault(topic_id, []).append(entry)
    return [{"topic_id": topic_id, "partitions": partitions} for topic_id, partitions in topics.items()]


@handles(78, 1, 2)
async def handle_share_fetch(ctx, request):
    broker = ctx.broker
    version = ctx.api_version
    try:
        session = _session(broker, request, acknowledge_only=False)
    except KafkaError as exc:
        return _top_error(exc.code, exc.message)
    group_id, member_id = request.group_id, request.member_id
    config = broker.share_configs.for_group(group_id)
    renew = version >= 2 and request.is_renew_ack and config.renew_acknowledge_enable
    entries: dict = {}
    endpoints: dict = {}  # node id -> NodeEndpoint of the leaders named in current_leader hints
    _acknowledge_all(ctx, request, renew, now_ms(), entries, endpoints)
    final = request.share_session_epoch == FINAL_EPOCH
    if not final and request.share_session_epoch != INITIAL_EPOCH:
        for topic in request.topics:
            for p in topic.partitions:
                session.partitions.setdefault((topic.topic_id, p.partition_index))
        for forgotten in request.forgotten_topics_data:
            for index in forgotten.partitions:
                session.partitions.pop((forgotten.topic_id, index), None)
    if not final and not renew:
        if not broker.share_groups.is_member(group_id, member_id):
            # Fenced or gone: its last acknowledgements were applied, but it fetches nothing more.
            broker.shares.flush()
            exc = _unknown_member(group_id, member_id)
            return _top_error(exc.code, exc.message)
        await _fetch(ctx, request, session, entries, endpoints)
    broker.shares.flush()
    return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "error_message": None,
            "acquisition_lock_timeout_ms": config.record_lock_duration_ms, "responses": _responses(entries),
            "node_endpoints": list(endpoints.values())}


async def _fetch(ctx, request, session, entries: dict, endpoints: dict) -> None:
    broker = ctx.broker
    shares = broker.shares
    mode = AcquireMode.RECORD_LIMIT if ctx.api_version >= 2 and request.share_acquire_mode == 1 \
        else AcquireMode.BATCH_OPTIMIZED
    max_records = request.max_records if request.max_records > 0 else DEFAULT_MAX_RECORDS
    budget = request.max_bytes if request.max_bytes > 0 else 1
    min_bytes = max(request.min_bytes, 1)
    deadline = time.monotonic() + max(request.max_wait_ms, 0) / 1000
    gathered = 0
    rotation = 0
    while True:
        partitions = list(session.partitions)
        if partitions:
            rotation %= len(partitions)
            partitions = partitions[rotation:] + partitions[:rotation]
            rotation += 1
        logs = []
        for topic_id, index in partitions:
            if max_records <= 0 or budget - gathered <= 0:
                break
            log, error = _resolve(ctx, topic_id, index)
            entry = entries.get((topic_id, index))
            if error:
                if entry is None:
                    entry = entries[topic_id, index] = _partition_entry(ctx, index)
                entry["error_code"] = error
                _leader_hint(ctx, entry, log, error, endpoints)
                continue
            logs.append(log)
            try:
                records, acquired = shares.acquire(request.group_id, request.member_id, log, max_records=max_records,
                                                   max_bytes=budget - gathered, now_ms=now_ms(), mode=mode,
                                                   batch_size=request.batch_size)
            except KafkaError as exc:
                entry = entries.setdefault((topic_id, index), _partition_entry(ctx, index, log))
                entry["error_code"], entry["error_message"] = exc.code, exc.message
                continue
            if not acquired:
                continue
            if entry is None:
                entry = entries[topic_id, index] = _partition_entry(ctx, index, log)
            entry["records"] += records
            entry["acquired_records"].extend(
                {"first_offset": a.first_offset, "last_offset": a.last_offset, "delivery_count": a.delivery_count}
                for a in acquired)
            gathered += len(records)
            max_records -= sum(a.last_offset - a.first_offset + 1 for a in acquired)
        remaining = deadline - time.monotonic()
        if gathered >= min_bytes or max_records <= 0 or remaining <= 0 or not logs:
            return
        shares.flush()  # what was acquired so far is persisted while this fetch waits for more
        await wait_for_any([*(log.listeners for log in logs), shares.listeners], remaining)


@handles(79, 1, 2)
async def handle_share_acknowledge(ctx, request):
    broker = ctx.broker
    config = broker.share_configs.for_group(request.group_id or "")
    try:
        _session(broker, request, acknowledge_only=True)
    except KafkaError as exc:
        return _top_error(exc.code, exc.message)
    entries: dict = {}
    endpoints: dict = {}
    renew = ctx.api_version >= 2 and request.is_renew_ack and config.renew_acknowledge_enable
    _acknowledge_all(ctx, request, renew, now_ms(), entries, endpoints)
    broker.shares.flush()
    for entry in entries.values():
        entry["error_code"], entry["error_message"] = entry["acknowledge_error_code"], entry["acknowledge_error_message"]
    return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "error_message": None,
            "acquisition_lock_timeout_ms": config.record_lock_duration_ms, "responses": _responses(entries),
            "node_endpoints": list(endpoints.values())}

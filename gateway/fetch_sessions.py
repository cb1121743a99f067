"""Incremental fetch sessions (KIP-227): Kafka's FetchSessionCache and FetchManager.newContext.

A consumer's full fetch with session epoch 0 creates a session holding its partitions (and their
fetch offsets); it then sends, with the session id and the next epoch, only the partitions whose
fetch offset or limits changed, plus the ones to forget, and the broker answers only partitions
with something new: records, an error, or a moved high watermark or log start offset.

- epoch -1 (FINAL): a sessionless full fetch; a session id given with it is closed.
- epoch 0 (INITIAL): a full fetch; a given session id is closed and a new session is created if
  the cache has room (or can evict), else the answer carries session id 0.
- epoch > 0: incremental; FETCH_SESSION_ID_NOT_FOUND for an unknown id, INVALID_FETCH_SESSION_EPOCH
  for an epoch other than the one expected; a session left with no partitions is closed.

The cache holds at most max.incremental.fetch.session.cache.slots sessions. When it is full a new
session may evict one unused for 120 s (Kafka's MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS), else
the session with the fewest partitions if the new one has more. Partitions that returned records
move to the end of the session's order, so a size-limited response serves every partition in turn.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from construct import Container

from gateway.offload import Pacer
from wire.errors import ErrorCode

INVALID_SESSION_ID = 0
INITIAL_EPOCH = 0
FINAL_EPOCH = -1
EVICTION_MS = 120_000
INT32_MAX = 2**31 - 1


def next_epoch(epoch: int) -> int:
    """Kafka's FetchMetadata.nextEpoch: 1, 2, ... INT32_MAX, then 1 again."""
    return 1 if epoch >= INT32_MAX or epoch < 0 else epoch + 1


class CachedPartition:
    """A partition of a session: what the consumer last asked for, and what it was last told."""

    __slots__ = ("current_leader_epoch", "fetch_offset", "high_watermark", "last_fetched_epoch",
                 "log_start_offset", "local_log_start_offset", "partition", "partition_max_bytes", "request",
                 "topic", "topic_id")

    def __init__(self, topic: str | None, topic_id: bytes | None, request) -> None:
        self.topic = topic
        self.topic_id = topic_id
        self.partition = dict.get(request, "partition")
        self.high_watermark = -1  # nothing told yet: the first answer always includes the partition
        self.local_log_start_offset = -1
        self.update(request)

    def update(self, request) -> None:
        get = dict.get  # a Container's own get is Python-level: this is per partition
        self.fetch_offset = get(request, "fetch_offset")
        self.partition_max_bytes = get(request, "partition_max_bytes")
        self.current_leader_epoch = get(request, "current_leader_epoch", -1)
        self.last_fetched_epoch = get(request, "last_fetched_epoch", -1)
        self.log_start_offset = get(request, "log_start_offset", -1)
        self.request = None  # built again by as_request

    def as_request(self) -> Container:
        """The partition as a request partition (built once per update: an incremental fetch of 1,000
        partitions reads them all each time; readers never change it)."""
        if self.request is None:
            self.request = Container(partition=self.partition, fetch_offset=self.fetch_offset,
                                     partition_max_bytes=self.partition_max_bytes,
                                     current_leader_epoch=self.current_leader_epoch,
                                     last_fetched_epoch=self.last_fetched_epoch, log_start_offset=self.log_start_offset)
        return self.request

    def must_respond(self, response: dict) -> bool:
        """Kafka's CachedPartition.maybeUpdateResponseData: include it, and remember what it was told."""
        respond = bool(response["records"])
        if response["high_watermark"] != self.high_watermark:
            respond = True
            self.high_watermark = response["high_watermark"]
        if response["log_start_offset"] != self.local_log_start_offset:
            respond = True
            self.local_log_start_offset = response["log_start_offset"]
        if response["error_code"] != ErrorCode.NONE:
            self.high_watermark = -1  # so the partition is sent again once the error is gone
            respond = True
        return respond


class FetchSession:
    __slots__ = ("epoch", "id", "last_used_ms", "partitions", "uses_topic_ids")

    def __init__(self, session_id: int, uses_topic_ids: bool, now_ms: int) -> None:
        self.id = session_id
        self.epoch = next_epoch(INITIAL_EPOCH)  # the epoch the next request must carry
        self.uses_topic_ids = uses_topic_ids
        self.last_used_ms = now_ms
        self.partitions: dict[tuple, CachedPartition] = {}  # in the order the session reads them


class FetchContext:
    """What one Fetch reads and how its answer is shaped. `topics` is what to read, in the shape of the
    request's topics; `respond` turns the read results into the response's topics (and, for a full
    fetch asking for one, creates the session: only then is session_id set)."""

    def __init__(self, topics: list, session_id: int = INVALID_SESSION_ID, *, error: ErrorCode = ErrorCode.NONE,
                 session: FetchSession | None = None, incremental: bool = False,
                 create: Callable | None = None, full: bool = False) -> None:
        self.topics = topics
        self.session_id = session_id
        self.error = error
        self.full = full  # topics are the request's own (a full fetch)
        self._session = session
        self._incremental = incremental
        self._create = create

    @property
    def incremental(self) -> bool:
        """topics are the session's partitions (each once, in the session's order)."""
        return self._incremental

    def quiet(self) -> tuple[str, Callable] | None:
        """For an incremental fetch: (the response topics' naming field, a lookup of the session's
        CachedPartitions by key), so the read can leave out a caught-up partition with nothing new to tell;
        else None."""
        session = self._session
        if not self._incremental or session is None:
            return None
        return "topic_id" if session.uses_topic_ids else "topic", session.partitions.get

    async def respond(self, responses: list[dict], wanted: list) -> list[dict]:
        """The response topics; `wanted` is what was read, each partition once ([(topic, [partitions])])."""
        if self._create is not None:
            self._session = await self._create(wanted)
            self.session_id = self._session.id if self._session is not None else INVALID_SESSION_ID
        session = self._session
        if session is None:
            return responses
        field = "topic_id" if session.uses_topic_ids else "topic"
        cached_of = session.partitions.get
        pacer = Pacer()
        if not self._incremental:
            for topic in responses:
                ident = topic[field]
                for p in topic["partitions"]:
                    if pacer.due():
                        await pacer.checkpoint()
                    cached = cached_of((ident, p["partition_index"]))
                    if cached is not None:
                        cached.must_respond(p)
            return responses
        out: list[dict] = []
        moved = []
        for topic in responses:
            ident = topic[field]
            kept = []
            for p in topic["partitions"]:
                if pacer.due():
                    await pacer.checkpoint()
                key = (ident, p["partition_index"])
                cached = cached_of(key)
                if cached is None or not cached.must_respond(p):
                    continue
                kept.append(p)
                if p["records"]:
                    moved.append(key)
            if kept:
                out.append({**topic, "partitions": kept})
        partitions = session.partitions
        for k in moved:  # partitions that got records go to the back of the line
            partitions[k] = partitions.pop(k)
        return out


class FetchSessionCache:
    """The broker's fetch sessions, at most `max_slots` of them."""

    def __init__(self, max_slots: int, eviction_ms: int = EVICTION_MS) -> None:
        self.max_slots = max_slots
        self.eviction_ms = eviction_ms
        self.sessions: dict[int, FetchSession] = {}
        self._random = random.Random()

    async def new_context(self, request, version: int, now_ms: int) -> FetchContext:
        get = dict.get  # (a Container's attribute reads raise and catch AttributeError inside: slow)
        session_id = get(request, "session_id", INVALID_SESSION_ID)
        epoch = get(request, "session_epoch", FINAL_EPOCH)
        uses_topic_ids = version >= 13
        if epoch in (INITIAL_EPOCH, FINAL_EPOCH):
            if session_id != INVALID_SESSION_ID:
                self.sessions.pop(session_id, None)  # a full fetch closes the session it names
            topics = list(request["topics"])
            if epoch == FINAL_EPOCH:
                return FetchContext(topics, full=True)

            async def create(wanted):
                return await self._create(wanted, uses_topic_ids, now_ms)
            return FetchContext(topics, create=create, full=True)
        session = self.sessions.get(session_id)
        if session is None:
            return FetchContext([], error=ErrorCode.FETCH_SESSION_ID_NOT_FOUND)
        if session.epoch != epoch:
            return FetchContext([], error=ErrorCode.INVALID_FETCH_SESSION_EPOCH)
        await self._update(session, request, uses_topic_ids)
        if not session.partitions:
            del self.sessions[session.id]
            return FetchContext([])
        session.last_used_ms = now_ms
        session.epoch = next_epoch(session.epoch)
        return FetchContext(_as_topics(session), session.id, session=session, incremental=True)

    async def _create(self, wanted: list, uses_topic_ids: bool, now_ms: int) -> FetchSession | None:
        """A session of the partitions a full fetch read (`wanted`: each once), if there is room."""
        size = sum(len(partitions) for _, partitions in wanted)
        if self.max_slots <= 0 or (len(self.sessions) >= self.max_slots and not self._evict(size, now_ms)):
            return None
        session = FetchSession(self._new_id(), uses_topic_ids, now_ms)
        pacer = Pacer()
        for topic, partitions in wanted:
            name, topic_id = topic.get("topic"), topic.get("topic_id")
            for p in partitions:
                if pacer.due():
                    await pacer.checkpoint()
                key = (topic_id if uses_topic_ids else name, dict.get(p, "partition"))
                session.partitions[key] = CachedPartition(name, topic_id, p)
        if len(self.sessions) >= self.max_slots and not self._evict(size, now_ms):
            return None  # another fetch took the room meanwhile
        self.sessions[session.id] = session
        return session

    def _evict(self, size: int, now_ms: int) -> bool:
        """Make room for a session of `size` partitions (Kafka's tryEvict, every session unprivileged)."""
        stalest = min(self.sessions.values(), key=lambda s: s.last_used_ms)
        if now_ms - stalest.last_used_ms > self.eviction_ms:
            del self.sessions[stalest.id]
            return True
        weakest = min(self.sessions.values(), key=lambda s: (len(s.partitions), s.id))
        if size > len(weakest.partitions):
            del self.sessions[weakest.id]
            return True
        return False

    def _new_id(self) -> int:
        while True:
            session_id = self._random.randint(1, INT32_MAX)
            if session_id not in self.sessions:
                return session_id

    @staticmethod
    async def _update(session: FetchSession, request, uses_topic_ids: bool) -> None:
        """Kafka's FetchSession.update: add or update the requested partitions, drop the forgotten ones."""
        pacer = Pacer()
        for topic in request["topics"]:
            name, topic_id = topic.get("topic"), topic.get("topic_id")
            for p in topic["partitions"]:
                if pacer.due():
                    await pacer.checkpoint()
                key = (topic_id if uses_topic_ids else name, dict.get(p, "partition"))
                cached = session.partitions.get(key)
                if cached is None:
                    session.partitions[key] = CachedPartition(name, topic_id, p)
                else:
                    cached.update(p)
        for forgotten in request.get("forgotten_topics_data", None) or []:
            ident = forgotten.get("topic_id") if uses_topic_ids else forgotten.get("topic")
            for partition in forgotten["partitions"]:
                await pacer.step()
                session.partitions.pop((ident, partition), None)


def _as_topics(session: FetchSession) -> list[Container]:
    """The session's partitions as request topics, consecutive partitions of one topic grouped."""
    topics: list[Container] = []
    current = None  # (topic, topic_id) of the last group, and its partitions
    partitions: list = []
    for cached in session.partitions.values():
        ident = (cached.topic, cached.topic_id)
        if ident != current:
            current, partitions = ident, []
            topics.append(Container(topic=cached.topic, topic_id=cached.topic_id, partitions=partitions))
        partitions.append(cached.request if cached.request is not None else cached.as_request())
    return topics

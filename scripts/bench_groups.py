"""Consumer group join and rebalance latency and OffsetCommit cost of Ottla (optionally beside Tansu)."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import struct
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import bench
from group_protocol import assigned_partitions, range_assignment, subscription
from rocks_wal import wal_batch_sizes, wal_files, wal_position
from wire.codec import decode, encode
from wire.errors import ErrorCode
from wire.headers import encode_request_header, response_header_size
from wire.messages import APIS

OFFSET_COMMIT, OFFSET_FETCH, JOIN_GROUP, HEARTBEAT, LEAVE_GROUP, SYNC_GROUP, API_VERSIONS, CREATE_TOPICS = (
    8, 9, 11, 12, 13, 14, 18, 19)
# The newest version of each API this bench speaks, lowered to what the broker's ApiVersions offers.
# (OffsetCommit v10 and OffsetFetch v8+ name topics by id or batch groups: nothing they add is measured.)
VERSION_CAPS = {OFFSET_COMMIT: 9, OFFSET_FETCH: 7, JOIN_GROUP: 9, HEARTBEAT: 4, LEAVE_GROUP: 5, SYNC_GROUP: 5,
                CREATE_TOPICS: 7}
API_VERSIONS_VERSION = 2
JOIN_REQUIRES_KNOWN_MEMBER_ID = 4  # JoinGroup v4+: a new member first gets MEMBER_ID_REQUIRED
LEAVE_GROUP_BATCH = 3  # LeaveGroup v3+: a members array
CONSUMER_PROTOCOL_TYPE, RANGE = "consumer", "range"
MEMBERS, PARTITIONS = 10, 100
REBALANCE_TIMEOUT_MS = 10_000
WAL_SAMPLE_COMMITS = 20


class GroupBenchError(Exception):
    """A broker answered something a working group coordinator would not."""


def error_name(code: int) -> str:
    try:
        return ErrorCode(code).name
    except ValueError:
        return f"error {code}"


# ---------------------------------------------------------------------------------------------
# The consumer protocol by hand: ConsumerProtocolSubscription and ConsumerProtocolAssignment v0


# ---------------------------------------------------------------------------------------------
# An asyncio client over the project's codecs


class Connection:
    """One broker connection; requests may overlap, answers are matched by correlation id."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, versions: dict[int, int],
                 client_id: str) -> None:
        self._reader, self._writer, self.versions, self.client_id = reader, writer, versions, client_id
        self._next_correlation_id = 1
        self._pending: dict[int, tuple[asyncio.Future, int, int]] = {}
        self._responses = asyncio.ensure_future(self._read_responses())

    @classmethod
    async def open(cls, address: tuple[str, int], versions: dict[int, int], client_id: str) -> Connection:
        return cls(*await asyncio.open_connection(*address), versions, client_id)

    async def request(self, api_key: int, body: dict, timeout_s: float = 30.0, version: int | None = None):
        version = self.versions[api_key] if version is None else version
        return await self.request_encoded(api_key, encode(APIS[api_key].request, version, body), timeout_s, version)

    async def request_encoded(self, api_key: int, body: bytes, timeout_s: float = 30.0, version: int | None = None):
        """`request` of a body already encoded at `version` (default: the negotiated one)."""
        version = self.versions[api_key] if version is None else version
        correlation_id, self._next_correlation_id = self._next_correlation_id, self._next_correlation_id + 1
        payload = encode_request_header(api_key, version, correlation_id, self.client_id) + body
        future = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = (future, api_key, version)
        self._writer.write(struct.pack(">i", len(payload)) + payload)
        async with asyncio.timeout(timeout_s):  # (3.11's wait_for can swallow a cancellation)
            return await future

    async def _read_responses(self) -> None:
        try:
            while True:
                (size,) = struct.unpack(">i", await self._reader.readexactly(4))
                frame = await self._reader.readexactly(size)
                future, api_key, version = self._pending.pop(struct.unpack_from(">i", frame)[0])
                if not future.done():  # a caller that timed out has gone
                    future.set_result(decode(APIS[api_key].response, version, frame,
                                             response_header_size(api_key, version)))
        except Exception as exc:  # closed, reset, or an answer this client cannot read
            for future, _, _ in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError(f"connection lost: {type(exc).__name__}: {exc}"))
            self._pending.clear()

    async def close(self) -> None:
        self._responses.cancel()
        self._writer.close()
        for future, _, _ in self._pending.values():
            future.cancel()


async def negotiate(address: tuple[str, int]) -> dict[int, int]:
    """The version of each API this bench uses: the newest both sides know, up to VERSION_CAPS."""
    conn = await Connection.open(address, {}, "ottla-bench-groups")
    try:
        answer = await conn.request(API_VERSIONS, {}, version=API_VERSIONS_VERSION)
    finally:
        await conn.close()
    if answer.error_code:
        raise GroupBenchError(f"ApiVersions answered {error_name(answer.error_code)}")
    offered = {k.api_key: (k.min_version, k.max_version) for k in answer.api_keys}
    versions = {}
    for api_key, cap in VERSION_CAPS.items():
        ours = APIS[api_key].request.valid_versions
        low, high = offered.get(api_key, (0, -1))
        versions[api_key] = min(cap, ours.high, high)
        if versions[api_key] < max(low, ours.low):
            raise GroupBenchError(f"the broker offers {APIS[api_key].name} v{low}-{high}, this bench needs "
                                  f"v{ours.low}-{cap}")
    return versions


# ---------------------------------------------------------------------------------------------
# A group member


@dataclass
class Member:
    conn: Connection
    group_id: str
    topic: str
    session_timeout_ms: int
    member_id: str = ""
    generation_id: int = -1
    generations: set[int] = field(default_factory=set)  # every generation it joined
    leader: str = ""
    assignment: dict[str, list[int]] = field(default_factory=dict)
    rebalance_in_progress: int = 0  # REBALANCE_IN_PROGRESS answers it was given
    first_join_sent_at: float | None = None
    noticed_at: float | None = None  # when a heartbeat answered REBALANCE_IN_PROGRESS
    synced_at: float | None = None  # when its last successful SyncGroup answer came
    synced: bool = False  # holds the assignment of the group's current generation, as far as it knows

    @property
    def is_leader(self) -> bool:
        return self.member_id == self.leader

    def join_request(self) -> dict:
        return {"group_id": self.group_id, "session_timeout_ms": self.session_timeout_ms,
                "rebalance_timeout_ms": REBALANCE_TIMEOUT_MS, "member_id": self.member_id,
                "protocol_type": CONSUMER_PROTOCOL_TYPE,
                "protocols": [{"name": RANGE, "metadata": subscription([self.topic])}]}

    async def join_and_sync(self) -> None:
        """JoinGroup (again) and SyncGroup until the broker hands this member an assignment."""
        self.synced = False
        while True:
            if self.first_join_sent_at is None:
                self.first_join_sent_at = time.perf_counter()
            join = await self.conn.request(JOIN_GROUP, self.join_request())
            if join.error_code == ErrorCode.MEMBER_ID_REQUIRED:
                self.member_id = join.member_id
                continue
            if join.error_code == ErrorCode.REBALANCE_IN_PROGRESS:
                self.rebalance_in_progress += 1
                continue
            if join.error_code:
                raise GroupBenchError(f"JoinGroup answered {error_name(join.error_code)}")
            self.member_id, self.generation_id, self.leader = join.member_id, join.generation_id, join.leader
            self.generations.add(self.generation_id)
            sync = await self.conn.request(SYNC_GROUP, {
                "group_id": self.group_id, "generation_id": self.generation_id, "member_id": self.member_id,
                "protocol_type": CONSUMER_PROTOCOL_TYPE, "protocol_name": join.protocol_name or RANGE,
                "assignments": range_assignment(join.members, {self.topic: PARTITIONS}) if self.is_leader else [],
            })
            if sync.error_code == ErrorCode.REBALANCE_IN_PROGRESS:
                self.rebalance_in_progress += 1
                continue
            if sync.error_code:
                raise GroupBenchError(f"SyncGroup answered {error_name(sync.error_code)}")
            self.assignment = assigned_partitions(sync.assignment)
            self.synced_at, self.synced = time.perf_counter(), True
            return

    async def heartbeat(self) -> int:
        answer = await self.conn.request(HEARTBEAT, {
            "group_id": self.group_id, "generation_id": self.generation_id, "member_id": self.member_id})
        return answer.error_code

    async def until_reassigned(self, interval_s: float) -> None:
        """Heartbeat every interval until told REBALANCE_IN_PROGRESS; then rejoin and sync."""
        while (error := await self.heartbeat()) == ErrorCode.NONE:
            await asyncio.sleep(interval_s)
        if error != ErrorCode.REBALANCE_IN_PROGRESS:
            raise GroupBenchError(f"Heartbeat answered {error_name(error)}")
        self.noticed_at = time.perf_counter()
        self.rebalance_in_progress += 1
        await self.join_and_sync()

    async def stay(self, interval_s: float, changed: asyncio.Event) -> None:
        """Join, then heartbeat; whenever a rebalance starts, join again. Runs until cancelled."""
        try:
            await self.join_and_sync()
            while True:
                changed.set()
                await self.until_reassigned(interval_s)
        finally:
            changed.set()  # a failure wakes the waiter too

    async def leave(self) -> int:
        body = {"group_id": self.group_id, "member_id": self.member_id}
        if self.conn.versions[LEAVE_GROUP] >= LEAVE_GROUP_BATCH:
            body["members"] = [{"member_id": self.member_id, "reason": "bench done"}]
        answer = await self.conn.request(LEAVE_GROUP, body)
        errors = [answer.error_code, *(m.error_code for m in answer.get("members") or [])]
        return next((e for e in errors if e), ErrorCode.NONE)


def check_assignment(members: list[Member], topic: str) -> None:
    """Every member holds the same generation, and together each partition exactly once, ranges even."""
    generations = {m.generation_id for m in members}
    if len(generations) != 1:
        raise GroupBenchError(f"members ended in different generations {sorted(generations)}")
    owned = sorted(p for m in members for p in m.assignment.get(topic, []))
    if owned != list(range(PARTITIONS)):
        raise GroupBenchError(f"the assignments cover {len(owned)} partitions ({len(set(owned))} distinct), "
                              f"not each of {PARTITIONS} once")
    sizes = {len(m.assignment.get(topic, [])) for m in members}
    if max(sizes) - min(sizes) > 1:
        raise GroupBenchError(f"uneven range assignment: {sorted(sizes)} partitions per member")


# ---------------------------------------------------------------------------------------------
# Scenarios


@dataclass
class GroupResult:
    name: str
    initial_rebalance_delay_ms: int | None
    heartbeat_interval_ms: int
    session_timeout_ms: int
    commit_in_flight: int
    samples: dict[str, list[float]] = field(default_factory=dict)  # e.g. "join_ms" -> one value per repeat
    failures: dict[str, str] = field(default_factory=dict)  # scenario -> why it has no figures

    @classmethod
    def of(cls, name: str, broker, args: argparse.Namespace) -> GroupResult:
        return cls(name, initial_rebalance_delay_of(broker), args.heartbeat_interval_ms, args.session_timeout_ms,
                   args.commit_in_flight)

    def add(self, sample: str, value: float) -> None:
        self.samples.setdefault(sample, []).append(value)


class Bench:
    """The scenarios against one broker: 10-member groups over one 100-partition topic."""

    def __init__(self, address: tuple[str, int], versions: dict[int, int], topic: str, args: argparse.Namespace):
        self.address, self.versions, self.topic, self.args = address, versions, topic, args
        self.interval_s = args.heartbeat_interval_ms / 1000
        self.run = uuid.uuid4().hex[:8]

    async def connections(self, n: int) -> list[Connection]:
        return list(await asyncio.gather(*(
            Connection.open(self.address, self.versions, f"bench-member-{i}") for i in range(n))))

    async def stable_group(self, conns: list[Connection], group_id: str) -> tuple[list[Member], float]:
        """One member per connection; once each has its member id, all JoinGroups go at once. Returns the
        members and ms from the last JoinGroup sent to the last SyncGroup answer of the generation every
        member ended in (joining again whenever told REBALANCE_IN_PROGRESS)."""
        members = [Member(c, group_id, self.topic, self.args.session_timeout_ms) for c in conns]
        if self.versions[JOIN_GROUP] >= JOIN_REQUIRES_KNOWN_MEMBER_ID:  # before the clock starts
            joins = await asyncio.gather(*(m.conn.request(JOIN_GROUP, m.join_request()) for m in members))
            for member, join in zip(members, joins):
                if join.error_code != ErrorCode.MEMBER_ID_REQUIRED:
                    raise GroupBenchError(f"a new member's JoinGroup answered {error_name(join.error_code)}")
                member.member_id = join.member_id
        changed = asyncio.Event()
        tasks = [asyncio.ensure_future(m.stay(self.interval_s, changed)) for m in members]
        try:
            async with asyncio.timeout(self.args.group_timeout):
                while not (all(m.synced for m in members) and len({m.generation_id for m in members}) == 1):
                    if failed := [t for t in tasks if t.done()]:
                        failed[0].result()
                    changed.clear()
                    await changed.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        check_assignment(members, self.topic)
        last_join = max(m.first_join_sent_at for m in members)
        return members, (max(m.synced_at for m in members) - last_join) * 1000

    async def join(self, result: GroupResult) -> None:
        conns = await self.connections(MEMBERS)
        try:
            for i in range(self.args.join_repeats):
                members, elapsed_ms = await self.stable_group(conns, f"bench-join-{self.run}-{i}")
                result.add("join_ms", elapsed_ms)
                result.add("join_rounds", len(set().union(*(m.generations for m in members))))
                result.add("join_rebalance_in_progress", sum(m.rebalance_in_progress for m in members))
                await asyncio.gather(*(m.leave() for m in members))
        finally:
            await asyncio.gather(*(c.close() for c in conns))

    async def member_gone(self, result: GroupResult, how: str, i: int) -> None:
        """A stable group loses one follower, silently ("death") or by LeaveGroup ("leave"); the others
        heartbeat until told to rebalance, then rejoin. After a LeaveGroup they start heartbeating once it
        is answered, so the figure is the broker's, not the phase of their heartbeat interval."""
        conns = await self.connections(MEMBERS)
        try:
            members, _ = await self.stable_group(conns, f"bench-{how}-{self.run}-{i}")
            gone = next(m for m in reversed(members) if not m.is_leader)
            survivors = [m for m in members if m is not gone]
            generation = gone.generation_id
            rejoined = None
            try:
                if how == "death":
                    rejoined = asyncio.gather(*(m.until_reassigned(self.interval_s) for m in survivors))
                gone_at = time.perf_counter()
                if error := await (gone.heartbeat() if how == "death" else gone.leave()):
                    raise GroupBenchError(f"the {'last Heartbeat' if how == 'death' else 'LeaveGroup'} of the "
                                          f"member that goes answered {error_name(error)}")
                rejoined = rejoined or asyncio.gather(*(m.until_reassigned(self.interval_s) for m in survivors))
                async with asyncio.timeout(self.args.session_timeout_ms / 1000 + self.args.group_timeout):
                    await rejoined
            except BaseException:
                if rejoined is not None:
                    rejoined.cancel()
                raise
            check_assignment(survivors, self.topic)
            if survivors[0].generation_id != generation + 1:
                raise GroupBenchError(f"generation {generation} became {survivors[0].generation_id}: "
                                      "more than one rebalance")
            assigned = max(m.synced_at for m in survivors)
            noticed = sorted(m.noticed_at for m in survivors)
            if how == "death":
                result.add("death_notice_ms", (noticed[0] - gone_at) * 1000)
                result.add("death_after_notice_ms", (assigned - noticed[0]) * 1000)
            result.add(f"{how}_assigned_ms", (assigned - gone_at) * 1000)
            result.add(f"{how}_after_last_notice_ms", (assigned - noticed[-1]) * 1000)
            await asyncio.gather(*(m.leave() for m in survivors))
        finally:
            await asyncio.gather(*(c.close() for c in conns))

    async def commits(self, result: GroupResult, broker, data_dir: Path | None) -> None:
        """OffsetCommit of all 100 partitions per request (a "simple" commit: no generation) for a few
        seconds, one request in flight (as a consumer commits), then `--commit-in-flight` pipelined on the
        one connection (the broker's own limit, not the round trip's); then OffsetFetch of the 100
        partitions one at a time, each answer checked against the last offset committed; then commits
        by the one member of a group (generation and member id checked, as auto-commit sends them)."""
        (conn,) = await self.connections(1)
        group_id = f"bench-commit-{self.run}"
        commit = CommitRequests(conn, group_id, self.topic)
        try:
            if data_dir is not None:
                before = {path: wal_position(path) for path in wal_files(data_dir)}
                for _ in range(WAL_SAMPLE_COMMITS):
                    await commit.send()
                batches = [n for path in wal_files(data_dir) for n in wal_batch_sizes(path, before.get(path, 0))]
                result.add("wal_batches_per_commit", len(batches) / WAL_SAMPLE_COMMITS)
                result.add("wal_keys_per_commit", sum(batches) / WAL_SAMPLE_COMMITS)
            for in_flight, prefix in ((1, "commit"), (self.args.commit_in_flight, "commit_pipelined")):
                await self.timed(result, broker, prefix, in_flight, commit.send)
            fetch = FetchRequests(conn, group_id, self.topic, commit.offset)
            await self.timed(result, broker, "fetch", 1, fetch.send)
            (member,), _ = await self.stable_group([conn], f"bench-member-commit-{self.run}")
            by_member = CommitRequests(conn, member.group_id, self.topic, member.generation_id, member.member_id)
            await self.timed(result, broker, "member_commit", 1, by_member.send)
            await member.leave()
        finally:
            await conn.close()

    async def timed(self, result: GroupResult, broker, prefix: str, in_flight: int, send) -> None:
        """`in_flight` loops of `send()` on one connection for --commit-seconds: requests/s, latency,
        broker CPU (% of a core and per request, from /proc)."""
        latencies: list[float] = []
        started = time.perf_counter()
        deadline = started + self.args.commit_seconds
        cpu_before = broker.cpu_seconds() if broker is not None else None
        client_before = time.process_time()

        async def loop() -> None:
            while (sent := time.perf_counter()) < deadline:
                await send()
                latencies.append((time.perf_counter() - sent) * 1000)

        await asyncio.gather(*(loop() for _ in range(in_flight)))
        elapsed = time.perf_counter() - started
        for value in latencies:
            result.add(f"{prefix}_latency_ms", value)
        result.add(f"{prefix}_requests_per_s", len(latencies) / elapsed)
        result.add(f"{prefix}_client_cpu_us", (time.process_time() - client_before) / len(latencies) * 1e6)
        if cpu_before is not None and (cpu := broker.cpu_seconds()) is not None:
            result.add(f"{prefix}_broker_cpu_percent", 100 * (cpu - cpu_before) / elapsed)
            result.add(f"{prefix}_broker_cpu_us", (cpu - cpu_before) / len(latencies) * 1e6)


class CommitRequests:
    """OffsetCommits of one group's 100 partitions, each committing the next offset (by a member of
    generation_id, as a consumer's auto-commit, or a "simple" commit with none). The body is encoded
    once and each request's offsets patched in, so the bench's own CPU per request is the answer's
    decode, not an encode of 100 partitions."""

    SENTINEL = 0x5EED5EED5EED5EED

    def __init__(self, conn: Connection, group_id: str, topic: str, generation_id: int = -1, member_id: str = ""):
        self.conn, self.offset = conn, 0
        self.body = encode(APIS[OFFSET_COMMIT].request, conn.versions[OFFSET_COMMIT], {
            "group_id": group_id, "generation_id_or_member_epoch": generation_id, "member_id": member_id,
            "topics": [{"name": topic, "partitions": [
                {"partition_index": p, "committed_offset": self.SENTINEL, "committed_metadata": ""}
                for p in range(PARTITIONS)]}],
        })
        self.marker = struct.pack(">q", self.SENTINEL)
        if self.body.count(self.marker) != PARTITIONS:
            raise GroupBenchError("the OffsetCommit template's offsets cannot be told from its other fields")

    async def send(self) -> None:
        self.offset += 1
        body = self.body.replace(self.marker, struct.pack(">q", self.offset))
        answer = await self.conn.request_encoded(OFFSET_COMMIT, body)
        if (errors := {p.error_code for t in answer.topics for p in t.partitions}) != {ErrorCode.NONE}:
            raise GroupBenchError(f"OffsetCommit answered {sorted(map(error_name, errors))}")


class FetchRequests:
    """OffsetFetch of the 100 partitions; every answer must carry `expected`, the last offset committed."""

    def __init__(self, conn: Connection, group_id: str, topic: str, expected: int) -> None:
        self.conn, self.expected = conn, expected
        self.body = encode(APIS[OFFSET_FETCH].request, conn.versions[OFFSET_FETCH], {
            "group_id": group_id, "topics": [{"name": topic, "partition_indexes": list(range(PARTITIONS))}]})

    async def send(self) -> None:
        answer = await self.conn.request_encoded(OFFSET_FETCH, self.body)
        got = {(p.error_code, p.committed_offset) for t in answer.topics for p in t.partitions}
        if got != {(ErrorCode.NONE, self.expected)} or len(answer.topics[0].partitions) != PARTITIONS:
            raise GroupBenchError(f"OffsetFetch after the commits answered {sorted(got)[:5]}, not {self.expected}")


# ---------------------------------------------------------------------------------------------
# Running against one broker


async def measure_async(address: tuple[str, int], broker, result: GroupResult, args: argparse.Namespace) -> None:
    try:
        versions = await negotiate(address)
        topic = f"bench-groups-{uuid.uuid4().hex[:8]}"
        conn = await Connection.open(address, versions, "ottla-bench-groups")
        try:
            answer = await conn.request(CREATE_TOPICS, {"topics": [
                {"name": topic, "num_partitions": PARTITIONS, "replication_factor": 1}], "timeout_ms": 30000})
        finally:
            await conn.close()
        if error := answer.topics[0].error_code:
            raise GroupBenchError(f"CreateTopics answered {error_name(error)}")
    except Exception as exc:  # the broker's failure to report, not the bench's
        result.failures["all"] = describe(exc)
        return
    run = Bench(address, versions, topic, args)
    scenarios = [("join", lambda: run.join(result))]
    scenarios += [("death", partial(run.member_gone, result, "death", i)) for i in range(args.death_repeats)]
    scenarios += [("leave", partial(run.member_gone, result, "leave", i)) for i in range(args.leave_repeats)]
    scenarios.append(("commit", lambda: run.commits(result, broker, data_dir_of(broker))))
    for name, scenario in scenarios:
        if name in result.failures:  # a repeat of a scenario that failed
            continue
        try:
            await scenario()
        except Exception as exc:
            result.failures[name] = describe(exc)
            print(f"#   groups, {name}: {result.failures[name]}", file=sys.stderr)


def describe(exc: Exception) -> str:
    return "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"


def ottla_setting(broker, flag: str, default: str | None = None) -> str | None:
    """A command-line setting of an Ottla this bench started (None for other brokers)."""
    argv = broker.argv if broker is not None and broker.name == "Ottla" else []
    return argv[argv.index(flag) + 1] if flag in argv else default if argv else None


def data_dir_of(broker) -> Path | None:
    """Where an Ottla on RocksDB keeps its WAL; None for --memory and other brokers."""
    data_dir = ottla_setting(broker, "--data-dir")
    return Path(data_dir) if data_dir and "--memory" not in broker.argv else None


def initial_rebalance_delay_of(broker) -> int | None:
    delay = ottla_setting(broker, "--group-initial-rebalance-delay-ms", "0")  # 0: Ottla's default
    return None if delay is None else int(delay)


def measure(name: str, bootstrap: str, broker, args: argparse.Namespace) -> GroupResult:
    """Every scenario against the broker at bootstrap (`broker`: its bench.BrokerProcess, or None)."""
    host, port = bootstrap.rsplit(":", 1)
    result = GroupResult.of(name, broker, args)
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    runner(measure_async((host, int(port)), broker, result, args))
    return result


# ---------------------------------------------------------------------------------------------
# Report


def rows(result: GroupResult) -> list[tuple[str, str, float | None, str | None]]:
    """(what, metric, value, note) rows for bench.py's table; a note says why a value is missing or off."""
    samples = result.samples

    def p(sample: str, q: float) -> float | None:
        return bench.percentile(sorted(samples[sample]), q) if samples.get(sample) else None

    hb = f"survivors heartbeat every {result.heartbeat_interval_ms} ms"
    join = f"group join, {MEMBERS} members, {PARTITIONS} partitions"
    commit = f"OffsetCommit, {PARTITIONS} partitions a request"
    pipelined = f"OffsetCommit, {PARTITIONS} partitions a request, {result.commit_in_flight} in flight on one connection"
    fetch = f"OffsetFetch, {PARTITIONS} partitions a request"
    member = f"OffsetCommit, {PARTITIONS} partitions a request, by the member of a 1-member group (generation, member id)"
    death = f"member death, session.timeout.ms {result.session_timeout_ms}, {hb}"
    leave = f"LeaveGroup of 1 of {MEMBERS} members, survivors heartbeat once it is answered"
    out = [
        ("join", join, "last JoinGroup to every SyncGroup answer p50, ms", p("join_ms", 50)),
        ("join", join, "last JoinGroup to every SyncGroup answer p99, ms", p("join_ms", 99)),
        ("join", join, "rebalance rounds to stable (max), count", p("join_rounds", 100)),
        ("join", join, "REBALANCE_IN_PROGRESS answers per join (max), count", p("join_rebalance_in_progress", 100)),
        ("death", death, "last heartbeat to REBALANCE_IN_PROGRESS p50, ms", p("death_notice_ms", 50)),
        ("death", death, "last heartbeat to survivors' new assignment p50, ms", p("death_assigned_ms", 50)),
        ("death", death, "reassignment after expiry noticed p50, ms", p("death_after_notice_ms", 50)),
        ("death", death, "reassignment after the last survivor noticed p50, ms", p("death_after_last_notice_ms", 50)),
        ("leave", leave, "LeaveGroup to survivors' new assignment p50, ms", p("leave_assigned_ms", 50)),
        ("leave", leave, "LeaveGroup to survivors' new assignment p99, ms", p("leave_assigned_ms", 99)),
        ("leave", leave, "reassignment after the last survivor noticed p50, ms", p("leave_after_last_notice_ms", 50)),
        ("commit", commit, "requests/s", p("commit_requests_per_s", 50)),
        ("commit", commit, "latency p50, ms", p("commit_latency_ms", 50)),
        ("commit", commit, "latency p99, ms", p("commit_latency_ms", 99)),
        ("commit", commit, "broker CPU, % of a core", p("commit_broker_cpu_percent", 50)),
        ("commit", commit, "broker CPU per request, us", p("commit_broker_cpu_us", 50)),
        ("commit", commit, "bench client CPU per request, us", p("commit_client_cpu_us", 50)),
        ("commit", pipelined, "requests/s", p("commit_pipelined_requests_per_s", 50)),
        ("commit", pipelined, "broker CPU, % of a core", p("commit_pipelined_broker_cpu_percent", 50)),
        ("commit", pipelined, "broker CPU per request, us", p("commit_pipelined_broker_cpu_us", 50)),
        ("commit", pipelined, "latency p50, ms", p("commit_pipelined_latency_ms", 50)),
        ("commit", member, "requests/s", p("member_commit_requests_per_s", 50)),
        ("commit", member, "broker CPU per request, us", p("member_commit_broker_cpu_us", 50)),
        ("commit", fetch, "requests/s", p("fetch_requests_per_s", 50)),
        ("commit", fetch, "latency p50, ms", p("fetch_latency_ms", 50)),
        ("commit", fetch, "broker CPU per request, us", p("fetch_broker_cpu_us", 50)),
        ("commit", commit, "RocksDB write batches per request, count", p("wal_batches_per_commit", 50)),
        ("commit", commit, "RocksDB keys written per request, count", p("wal_keys_per_commit", 50)),
    ]
    rounds = samples.get("join_rounds", [])
    delay = "unknown" if result.initial_rebalance_delay_ms is None else result.initial_rebalance_delay_ms
    checks = {
        "rebalance rounds": f"{rounds.count(1)} of {len(rounds)} joins were stable after one rebalance round "
                            f"(group.initial.rebalance.delay.ms {delay})" if any(r > 1 for r in rounds) else None,
        "RocksDB write batches": "OffsetCommit is not one RocksDB write batch"
                                 if any(b > 1 for b in samples.get("wal_batches_per_commit", [])) else None,
    }
    noted = []
    for scenario, what, metric, value in out:
        note = next((text for prefix, text in checks.items() if metric.startswith(prefix)), None)
        if value is None:
            note = result.failures.get(scenario) or result.failures.get("all") or (
                "not measured: only an Ottla this bench starts on RocksDB has a WAL it can read"
                if "RocksDB" in metric else "not measured")
        noted.append((what, metric, value, note))
    return noted


def table(results: list[GroupResult]) -> str:
    keyed = [{(w, m): (v, n) for w, m, v, n in rows(r)} for r in results]
    lines = ["| measurement | " + " | ".join(r.name for r in results) + " |", "|---|" + "---:|" * len(results)]
    notes: dict[str, int] = {}  # footnote text -> its number
    for what, metric, _, _ in rows(results[0]):
        cells = []
        for result, values in zip(results, keyed):
            value, note = values[(what, metric)]
            mark = f" [{notes.setdefault(f'{result.name} {what}: {note}', len(notes) + 1)}]" if note else ""
            cells.append(bench.fmt(value, metric) + mark)
        lines.append(f"| {what}: {metric} | " + " | ".join(cells) + " |")
    return "\n".join(["", *lines, "", *(f"[{number}] {note}" for note, number in notes.items())])


# ---------------------------------------------------------------------------------------------
# Command line


def add_arguments(p) -> None:
    """The scenario options, shared with bench.py --groups."""
    for flag, kind, default, what in (
        ("--join-repeats", int, 30, "group joins to time"),
        ("--death-repeats", int, 2, "member deaths to time, over a session timeout each"),
        ("--leave-repeats", int, 10, "LeaveGroups to time"),
        ("--heartbeat-interval-ms", int, 50, "members' heartbeat interval"),
        ("--session-timeout-ms", int, 6000, "members' session timeout (Ottla's minimum)"),
        ("--commit-seconds", float, 3.0, "seconds of OffsetCommits (one in flight, then pipelined), then of OffsetFetches"),
        ("--commit-in-flight", int, 8, "OffsetCommits in flight in the pipelined run"),
        ("--group-timeout", float, 20.0, "seconds a group may take to stabilise"),
    ):
        p.add_argument(flag, type=kind, default=default, help=what + " (default %(default)s)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--bootstrap", metavar="HOST:PORT", help="measure this running broker instead of starting Ottla")
    p.add_argument("--memory", action="store_true", help="start Ottla with --memory (no RocksDB)")
    p.add_argument("--against-tansu", action="store_true", help="also measure Tansu (in memory)")
    p.add_argument("--initial-rebalance-delay-ms", type=int, default=0,
                   help="Ottla's group.initial.rebalance.delay.ms (default %(default)s, its own default)")
    p.add_argument("--json", metavar="FILE", help="also write the results and every sample as JSON to FILE")
    p.add_argument("--startup-timeout", type=float, default=30.0, help="seconds a broker may take to answer Metadata")
    add_arguments(p)
    return p.parse_args(argv)


def run_broker(name: str, broker, args: argparse.Namespace) -> GroupResult:
    print(f"# {name} at {bench.HOST}:{broker.port}", file=sys.stderr)
    try:
        broker.start(args.startup_timeout)
        return measure(name, f"{bench.HOST}:{broker.port}", broker, args)
    except RuntimeError as exc:  # it did not start
        result = GroupResult.of(name, broker, args)
        result.failures["all"] = str(exc)
        return result
    finally:
        broker.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, bench.interrupt)
    results: list[GroupResult] = []
    with tempfile.TemporaryDirectory(prefix="ottla-bench-groups-") as tmp:
        workdir = Path(tmp)
        try:
            if args.bootstrap:
                results.append(measure(f"broker at {args.bootstrap}", args.bootstrap, None, args))
            else:
                ottla = bench.ottla_process(workdir, args.memory)
                ottla.argv += ["--group-initial-rebalance-delay-ms", str(args.initial_rebalance_delay_ms)]
                results.append(run_broker("Ottla", ottla, args))
            if args.against_tansu:
                results.append(run_broker("Tansu", bench.tansu_process(workdir), args))
        except KeyboardInterrupt:
            print(f"# interrupted by signal {bench.STOP_SIGNAL or signal.SIGINT}; brokers stopped", file=sys.stderr)
            return 128 + (bench.STOP_SIGNAL or signal.SIGINT)
        finally:
            bench.stop_all_brokers()
    print(table(results))
    if args.json:
        doc = {"settings": {k: v for k, v in vars(args).items() if k != "json"},
               "brokers": [{**asdict(r), "rows": rows(r)} for r in results]}
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n")
    return 0 if all(not r.failures for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())

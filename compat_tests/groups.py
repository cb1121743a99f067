"""Consumer-group members in their own OS processes, and the group scenarios every client's tests run.

A member is `group_member.py` (kafka-python, aiokafka, confluent-kafka) or `js/group_member.js`
(kafkajs): it reports assignments, records and commits as JSON lines and takes commit/close commands
on stdin, so `kill -9` is a real SIGKILL of a real client. Every wait here is bounded and, when it
runs out, fails with each member's state and the tail of its log.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from kafka import KafkaProducer

from compat_tests import samples, topics

REPO = Path(__file__).resolve().parent.parent
JS_DIR = Path(__file__).parent / "js"
STEP_TIMEOUT_S = 25.0  # one rebalance, or one round of records consumed and committed
EXIT_TIMEOUT_S = 15.0
QUIET_HEARTBEATS = 2  # a quiet period in which every member heartbeats, so would hear of a rebalance
LOG_TAIL_CHARS = 3000
PARTITIONS = 6
SESSION_TIMEOUT_MS = 6000  # the broker's group.min.session.timeout.ms; keeps kill -9 waits short
HEARTBEAT_INTERVAL_MS = 1000
FENCED_INSTANCE_ID = "FENCED_INSTANCE_ID"
UNRELEASED_INSTANCE_ID = "UNRELEASED_INSTANCE_ID"


@dataclass(frozen=True)
class Client:
    """How to start one member of a client: its program, its settings, what its group protocol does."""

    name: str  # "kafka-python", "aiokafka", "confluent" (group_member.py) or "kafkajs" (group_member.js)
    config: dict = field(default_factory=dict)
    # How long the coordinator takes to drop a member killed with SIGKILL: the classic protocol uses
    # the client's session.timeout.ms; KIP-848 the broker's group.consumer.session.timeout.ms (45 s).
    session_timeout_s: float = SESSION_TIMEOUT_MS / 1000
    # How often members heartbeat (KIP-848: the broker's group.consumer.heartbeat.interval.ms, 5 s)
    heartbeat_interval_s: float = HEARTBEAT_INTERVAL_MS / 1000

    @property
    def quiet_s(self) -> float:
        return QUIET_HEARTBEATS * self.heartbeat_interval_s

    def command(self, params: dict) -> tuple[list[str], Path]:
        if self.name == "kafkajs":
            return ["node", "group_member.js", json.dumps(params)], JS_DIR
        return [sys.executable, "-m", "compat_tests.group_member", json.dumps(params)], REPO


class Member:
    """One member process, and what it reported so far (call `pump()` to read new lines)."""

    def __init__(self, name: str, command: list[str], cwd: Path, log_path: Path, python: bool):
        self.name = name
        self.python = python
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.proc = subprocess.Popen(
            command, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True,
            bufsize=1, env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )
        self._lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.events: list[dict] = []
        self.owned: frozenset[int] = frozenset()
        self.records: list[tuple[int, int, str]] = []
        self.committed: dict[int, int] = {}
        self.errors: list[dict] = []
        self.stopping = False  # closed or killed on purpose: exiting is no failure

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(line)

    def pump(self) -> None:
        while True:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                return
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                self._log.write(f"[non-JSON stdout] {line}")
                continue
            self.events.append(event)
            kind = event["event"]
            if kind in ("assigned", "revoked", "lost"):
                self.owned = frozenset(event["owned"])
            elif kind == "records":
                self.records.extend((p, o, v) for p, o, v in event["records"])
            elif kind == "committed":
                for p, o in event["offsets"].items():
                    self.committed[int(p)] = max(self.committed.get(int(p), 0), o)
            elif kind == "error":
                self.errors.append(event)

    def rebalance_events(self) -> list[dict]:
        return [e for e in self.events if e["event"] in ("assigned", "revoked", "lost")]

    def send(self, op: str, **fields) -> None:
        self.proc.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self.proc.stdin.flush()

    def close(self, timeout: float = EXIT_TIMEOUT_S) -> int:
        """Ask the client to close (leaving the group as it does on close) and wait for the exit code."""
        self.stopping = True
        self.send("close")
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.pump()

    def kill9(self) -> None:
        self.stopping = True
        self.proc.kill()
        self.proc.wait(timeout=EXIT_TIMEOUT_S)
        self.pump()

    def dump_stacks(self) -> None:
        """Ask a Python member for every thread's stack (in its log): what a hung client was doing."""
        if self.python and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGUSR1)

    @property
    def crashed(self) -> bool:
        return not self.stopping and self.proc.poll() is not None

    def describe(self) -> str:
        state = f"exited {self.proc.returncode}" if self.proc.poll() is not None else "running"
        log = self.log_path.read_text(errors="replace")[-LOG_TAIL_CHARS:] if self.log_path.exists() else ""
        return (
            f"--- member {self.name} ({state}): owned {sorted(self.owned)}, {len(self.records)} records, "
            f"committed {dict(sorted(self.committed.items()))}, errors {self.errors[-3:]}\n"
            f"    last events: {[e['event'] for e in self.events[-12:]]}\n    log tail:\n{log}"
        )

    def dispose(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=EXIT_TIMEOUT_S)
        self._log.close()


class Launcher:
    """Starts members, waits on them (bounded), and SIGKILLs whatever still runs on exit."""

    def __init__(self, client: Client, bootstrap: str, topic: str, group_id: str, log_dir: Path):
        self.client = client
        self.bootstrap = bootstrap
        self.topic = topic
        self.group_id = group_id
        self.log_dir = log_dir
        self.members: list[Member] = []

    def __enter__(self) -> Launcher:
        return self

    def __exit__(self, *exc) -> None:
        for member in self.members:
            member.dispose()

    def start(self, name: str, commit: str = "each", instance_id: str | None = None) -> Member:
        params = {
            "client": self.client.name, "bootstrap": self.bootstrap, "topic": self.topic,
            "group_id": self.group_id, "client_id": f"compat-{self.client.name}-{name}", "commit": commit,
            "instance_id": instance_id, "config": self.client.config,
        }
        command, cwd = self.client.command(params)
        log_path = self.log_dir / f"member-{name}.log"
        member = Member(name, command, cwd, log_path, python=self.client.name != "kafkajs")
        self.members.append(member)
        return member

    def pump(self) -> None:
        for member in self.members:
            member.pump()

    def wait(self, condition: Callable[[], bool], what: str, timeout: float = STEP_TIMEOUT_S) -> None:
        """Read events until `condition()` holds; fail (with every member's state) on timeout or a crash."""
        deadline = time.monotonic() + timeout
        while True:
            self.pump()
            if condition():
                return
            crashed = [m for m in self.members if m.crashed]
            if crashed or time.monotonic() > deadline:
                why = f"member {crashed[0].name} exited" if crashed else f"timed out after {timeout:.0f}s"
                for member in self.members:
                    member.dump_stacks()
                time.sleep(0.3)
                raise AssertionError(f"{why} waiting for {what}\n" + self.describe())
            time.sleep(0.05)

    def watch(self, seconds: float) -> None:
        """Keep reading events for `seconds` (a quiet period in which nothing may happen)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.pump()
            time.sleep(0.05)
        self.pump()

    def describe(self) -> str:
        return "\n".join(m.describe() for m in self.members)

    # -- the conditions the scenarios wait for

    def split_among(self, members: list[Member], partitions: int = PARTITIONS) -> None:
        """Wait until `members` own equal, disjoint shares that together cover every partition."""
        names = ", ".join(m.name for m in members)

        def split() -> bool:
            shares = [m.owned for m in members]
            return (all(len(s) == partitions // len(members) for s in shares)
                    and frozenset().union(*shares) == frozenset(range(partitions)))

        self.wait(split, f"{partitions} partitions split evenly among {names}",
                  timeout=STEP_TIMEOUT_S + self.client.session_timeout_s)

    def consumed_and_committed(self, produced: Produced) -> None:
        """Wait until every produced record was read by some member and its offset committed."""

        def done() -> bool:
            seen = {(p, o) for m in self.members for p, o, _ in m.records}
            committed = {p: max((m.committed.get(p, 0) for m in self.members), default=0) for p in produced.ends}
            return produced.keys() <= seen and all(committed[p] >= end for p, end in produced.ends.items())

        self.wait(done, f"{len(produced.values)} records consumed and committed up to {produced.ends}")

    def assert_read_once(self, produced: Produced) -> None:
        """Every produced record was read, with its own value, exactly once by the whole group."""
        reads = Counter((p, o) for m in self.members for p, o, _ in m.records)
        twice = sorted(key for key, n in reads.items() if n > 1)
        assert twice == [], f"records read more than once (partition, offset): {twice}\n{self.describe()}"
        assert set(reads) == produced.keys(), f"missing {sorted(produced.keys() - set(reads))}"
        wrong = [(p, o, v) for m in self.members for p, o, v in m.records if produced.values[(p, o)] != v]
        assert wrong == [], f"records read with another value than produced: {wrong}"


@dataclass
class Produced:
    """Records produced so far: (partition, offset) -> value, and the end offset of each partition."""

    values: dict[tuple[int, int], str] = field(default_factory=dict)
    ends: dict[int, int] = field(default_factory=dict)

    def keys(self) -> set[tuple[int, int]]:
        return set(self.values)


class RoundProducer:
    """Writes rounds of records, the same number to every partition, and remembers their offsets."""

    def __init__(self, bootstrap: str, topic: str, partitions: int = PARTITIONS):
        self.topic = topic
        self.partitions = partitions
        self.produced = Produced()
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap, linger_ms=5, request_timeout_ms=10_000, max_block_ms=10_000,
            client_id="compat-groups-producer",
        )

    def __enter__(self) -> RoundProducer:
        return self

    def __exit__(self, *exc) -> None:
        self._producer.close(timeout=5)

    def round(self, tag: str, per_partition: int) -> Produced:
        """Produce `per_partition` records to each partition; returns just this round."""
        sent = [
            (p, value, self._producer.send(self.topic, value=value.encode(), partition=p))
            for i in range(per_partition) for p in range(self.partitions)
            for value in [f"{tag}-p{p}-{i}"]
        ]
        self._producer.flush(timeout=15)
        this_round = Produced()
        for p, value, future in sent:
            offset = future.get(timeout=10).offset
            for produced in (this_round, self.produced):
                produced.values[(p, offset)] = value
                produced.ends[p] = max(produced.ends.get(p, 0), offset + 1)
        return this_round


def new_topic(bootstrap: str, label: str, partitions: int = PARTITIONS) -> str:
    name = samples.unique_name(f"compat-{label}")
    topics.create_topic(bootstrap, name, partitions=partitions)
    return name


def offsets_read(member: Member) -> dict[int, list[int]]:
    by_partition: dict[int, list[int]] = {}
    for p, o, _ in member.records:
        by_partition.setdefault(p, []).append(o)
    return by_partition


# -- scenarios


def split_then_move_on_close_and_kill9(client: Client, bootstrap: str, log_dir: Path) -> None:
    """Three members split six partitions 2/2/2; a clean close hands its two on (3/3), a kill -9 its
    three once the session times out (6 on the last member); every record is read exactly once."""
    topic = new_topic(bootstrap, f"split-{client.name}")
    group = samples.unique_name(f"compat-split-{client.name}")
    with Launcher(client, bootstrap, topic, group, log_dir) as group_members, \
            RoundProducer(bootstrap, topic) as producer:
        a, b, c = (group_members.start(name) for name in ("a", "b", "c"))
        group_members.split_among([a, b, c])
        group_members.consumed_and_committed(producer.round("three-members", 3))

        assert c.close() == 0, c.describe()
        producer.round("after-close", 3)  # produced while the group rebalances
        group_members.split_among([a, b])
        group_members.consumed_and_committed(producer.produced)

        b.kill9()
        producer.round("after-kill", 3)  # b's share waits for the session timeout to move to a
        group_members.split_among([a])
        group_members.consumed_and_committed(producer.produced)
        group_members.assert_read_once(producer.produced)


def resume_from_committed_offsets(client: Client, bootstrap: str, log_dir: Path,
                                  restart_broker: Callable[[], None] | None = None) -> None:
    """A member reads 4 records a partition but commits offset 2 and closes; the next member (started
    after a broker restart if `restart_broker` is given) reads exactly offsets 2 and 3 of each partition."""
    partitions = 3
    topic = new_topic(bootstrap, f"resume-{client.name}", partitions)
    group = samples.unique_name(f"compat-resume-{client.name}")
    with Launcher(client, bootstrap, topic, group, log_dir) as group_members, \
            RoundProducer(bootstrap, topic, partitions) as producer:
        first = producer.round("first", 4)
        reader = group_members.start("reader", commit="none")
        group_members.wait(lambda: first.keys() <= {(p, o) for p, o, _ in reader.records},
                           "the first member to read every record")
        middle = {p: 2 for p in range(partitions)}
        reader.send("commit", offsets={str(p): o for p, o in middle.items()})
        group_members.wait(lambda: reader.committed == middle, f"offsets {middle} committed")
        assert reader.close() == 0, reader.describe()
        if restart_broker:
            restart_broker()

        resumed = group_members.start("resumed")
        group_members.wait(lambda: len(resumed.records) >= 2 * partitions,
                           "the second member to read 2 records a partition")
        group_members.watch(0.5)  # anything read beyond those would show up now
        assert offsets_read(resumed) == {p: [2, 3] for p in range(partitions)}, resumed.describe()
        assert [(p, o, v) for p, o, v in resumed.records if first.values[(p, o)] != v] == []


def running_member_survives_broker_restart(client: Client, bootstrap: str, log_dir: Path,
                                           restart_broker: Callable[[], None]) -> None:
    """A member that committed everything it read keeps going across a broker restart: it reads the
    records produced afterwards, and nothing twice (Kafka keeps group members across a restart)."""
    partitions = 3
    topic = new_topic(bootstrap, f"survive-{client.name}", partitions)
    group = samples.unique_name(f"compat-survive-{client.name}")
    with Launcher(client, bootstrap, topic, group, log_dir) as group_members, \
            RoundProducer(bootstrap, topic, partitions) as producer:
        member = group_members.start("member")
        group_members.wait(lambda: len(member.owned) == partitions, "the member to own every partition")
        group_members.consumed_and_committed(producer.round("before", 2))
        restart_broker()
        producer.round("after", 2)
        group_members.consumed_and_committed(producer.produced)
        group_members.watch(0.5)
        group_members.assert_read_once(producer.produced)


def static_member_restart_keeps_assignment(client: Client, bootstrap: str, log_dir: Path) -> None:
    """Static members (group.instance.id): one closes and comes back within the session timeout; it gets
    its own partitions again and the other members see no rebalance at all."""
    topic = new_topic(bootstrap, f"static-{client.name}")
    group = samples.unique_name(f"compat-static-{client.name}")
    with Launcher(client, bootstrap, topic, group, log_dir) as group_members, \
            RoundProducer(bootstrap, topic) as producer:
        a, b, c = (group_members.start(name, instance_id=f"{group}-{name}") for name in ("a", "b", "c"))
        group_members.split_among([a, b, c])
        group_members.consumed_and_committed(producer.round("before", 2))
        seen = {m.name: len(m.rebalance_events()) for m in (a, b)}
        c_owned = c.owned

        assert c.close() == 0, c.describe()
        c_again = group_members.start("c-again", instance_id=f"{group}-c")
        group_members.wait(lambda: c_again.owned == c_owned, f"the restarted member to own {sorted(c_owned)} again")
        after = producer.round("after", 2)
        group_members.consumed_and_committed(producer.produced)
        group_members.watch(client.quiet_s)
        assert {m.name: len(m.rebalance_events()) for m in (a, b)} == seen, (
            f"the other members saw a rebalance: {[m.rebalance_events() for m in (a, b)]}")
        assert {(p, o) for p, o, _ in c_again.records} == {k for k in after.keys() if k[0] in c_owned}
        group_members.assert_read_once(producer.produced)


def duplicate_instance_id_is_fenced(client: Client, bootstrap: str, log_dir: Path,
                                    surfaced: Callable[[dict], bool]) -> Member:
    """A second member started with a running member's group.instance.id takes over its partitions; the
    old one is fenced (FENCED_INSTANCE_ID), which its client reports as an error event for which
    `surfaced(event)` holds. Returns the old member."""
    topic = new_topic(bootstrap, f"fenced-{client.name}")
    group = samples.unique_name(f"compat-fenced-{client.name}")
    with Launcher(client, bootstrap, topic, group, log_dir) as group_members, \
            RoundProducer(bootstrap, topic) as producer:
        old, other = (group_members.start(name, instance_id=f"{group}-{name}") for name in ("old", "other"))
        group_members.split_among([old, other])
        group_members.consumed_and_committed(producer.round("before", 2))
        old_owned = old.owned

        new = group_members.start("new", instance_id=f"{group}-old")
        group_members.wait(lambda: new.owned == old_owned, f"the new member to own {sorted(old_owned)}")
        producer.round("after", 2)  # the old member, still fetching, tries to commit these
        group_members.wait(lambda: any(e["error"] == FENCED_INSTANCE_ID and surfaced(e) for e in old.errors),
                           f"the old member to report {FENCED_INSTANCE_ID} as its client does")
        assert other.owned == frozenset(range(PARTITIONS)) - old_owned
        group_members.wait(
            lambda: all(new.committed.get(p, 0) >= producer.produced.ends[p] for p in old_owned)
            and all(other.committed.get(p, 0) >= producer.produced.ends[p] for p in other.owned),
            "the new and the other member to read and commit every record")
        return old


def duplicate_instance_id_is_refused(client: Client, bootstrap: str, log_dir: Path) -> Member:
    """KIP-848: a member joining with the group.instance.id of a member that has not left is refused
    (UNRELEASED_INSTANCE_ID); the running members keep their partitions and see no rebalance."""
    topic = new_topic(bootstrap, f"refused-{client.name}")
    group = samples.unique_name(f"compat-refused-{client.name}")
    with Launcher(client, bootstrap, topic, group, log_dir) as group_members, \
            RoundProducer(bootstrap, topic) as producer:
        old, other = (group_members.start(name, instance_id=f"{group}-{name}") for name in ("old", "other"))
        group_members.split_among([old, other])
        group_members.consumed_and_committed(producer.round("before", 2))
        seen = {m.name: (m.owned, len(m.rebalance_events())) for m in (old, other)}

        new = group_members.start("new", instance_id=f"{group}-old")
        group_members.wait(lambda: any(e["error"] == UNRELEASED_INSTANCE_ID for e in new.errors),
                           f"the new member to report {UNRELEASED_INSTANCE_ID}")
        group_members.consumed_and_committed(producer.round("after", 2))
        group_members.watch(client.quiet_s)
        assert {m.name: (m.owned, len(m.rebalance_events())) for m in (old, other)} == seen
        assert (new.owned, new.records) == (frozenset(), [])
        group_members.assert_read_once(producer.produced)
        return new

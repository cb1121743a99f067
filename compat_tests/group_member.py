"""One consumer-group member in its own process (kafka-python, aiokafka or confluent-kafka), JSON lines out.

Run as `python -m compat_tests.group_member '<json params>'` (see compat_tests/groups.py, which starts
these). Parameters: client, bootstrap, topic, group_id, client_id, commit ("each": commit the records
of every poll synchronously before the next poll, and again on revocation; "none": only on command),
instance_id (group.instance.id, optional) and config (extra client settings, passed through as is).

Events on stdout, one JSON object a line: started; assigned / revoked / lost {partitions, owned};
records {records: [[partition, offset, value], ...]}; committed {offsets: {partition: offset}};
error {where, error (Kafka's error name), message, fatal}; closed. Commands on stdin, one JSON object
a line: {"op": "commit", "offsets": {partition: offset}} and {"op": "close"}.

The client's own log goes to stderr at INFO; MEMBER_DEBUG=kafka.coordinator,kafka.net.connection (logger
names, comma-separated) adds DEBUG for those; SIGUSR1 writes every thread's stack to stderr.
"""

from __future__ import annotations

import asyncio
import faulthandler
import json
import logging
import os
import queue
import signal
import sys
import threading
import time

POLL_TIMEOUT_MS = 100
ERROR_PAUSE_S = 0.2  # a client that keeps failing must not flood the pipe


_emitting = threading.Lock()  # client threads (rebalance listeners, error callbacks) emit too


def emit(event: str, **fields) -> None:
    line = json.dumps({"event": event, "at": time.time(), **fields}) + "\n"
    with _emitting:
        sys.stdout.write(line)
        sys.stdout.flush()


def error_name(exc: BaseException) -> str:
    """Kafka's error name (FENCED_INSTANCE_ID ...) for a kafka-python or aiokafka exception."""
    message = getattr(exc, "message", None)
    return message if isinstance(message, str) and message.isupper() else type(exc).__name__


def read_commands() -> queue.Queue:
    """Stdin lines, parsed, on a queue the poll loop drains; end of input counts as "close"."""
    commands: queue.Queue = queue.Queue()

    def reader() -> None:
        for line in sys.stdin:
            if line.strip():
                commands.put(json.loads(line))
        commands.put({"op": "close"})

    threading.Thread(target=reader, daemon=True).start()
    return commands


class Progress:
    """What this member owns, has processed (next offset per partition) and has committed."""

    def __init__(self) -> None:
        self.owned: set[int] = set()
        self.processed: dict[int, int] = {}
        self.committed: dict[int, int] = {}

    def assigned(self, partitions: list[int], kind: str = "assigned") -> None:
        self.owned |= set(partitions)
        emit(kind, partitions=sorted(partitions), owned=sorted(self.owned))

    def revoked(self, partitions: list[int], kind: str = "revoked") -> None:
        self.owned -= set(partitions)
        emit(kind, partitions=sorted(partitions), owned=sorted(self.owned))

    def took(self, rows: list[tuple[int, int, bytes | None]]) -> None:
        if not rows:
            return
        for partition, offset, _ in rows:
            self.processed[partition] = max(self.processed.get(partition, 0), offset + 1)
        emit("records", records=[[p, o, v.decode() if v is not None else None] for p, o, v in rows])

    def uncommitted(self, partitions=None) -> dict[int, int]:
        return {
            p: o for p, o in self.processed.items()
            if self.committed.get(p) != o and (partitions is None or p in partitions)
        }

    def did_commit(self, offsets: dict[int, int]) -> None:
        self.committed.update(offsets)
        emit("committed", offsets={str(p): o for p, o in sorted(offsets.items())})


def command_offsets(command: dict) -> dict[int, int]:
    return {int(p): int(o) for p, o in command["offsets"].items()}


def carry_out(commands: queue.Queue, commit, close) -> bool:
    """The commands waiting, in order, through `commit(offsets)` and `close()`; True once closed."""
    while not commands.empty():
        command = commands.get()
        if command["op"] == "close":
            close()
            emit("closed")
            return True
        commit(command_offsets(command))
    return False


# -- kafka-python


def run_kafka_python(params: dict) -> None:
    from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition
    from kafka.consumer.subscription_state import AsyncConsumerRebalanceListener
    from kafka.errors import KafkaError

    topic, progress, commands = params["topic"], Progress(), read_commands()
    consumer = KafkaConsumer(
        bootstrap_servers=params["bootstrap"], group_id=params["group_id"], client_id=params["client_id"],
        group_instance_id=params.get("instance_id"), enable_auto_commit=False, auto_offset_reset="earliest",
        fetch_max_wait_ms=100, request_timeout_ms=10_000, **params.get("config", {}),
    )

    def to_commit(offsets: dict[int, int]) -> dict:
        return {TopicPartition(topic, p): OffsetAndMetadata(o, "", -1) for p, o in offsets.items()}

    def commit(offsets: dict[int, int]) -> None:
        if not offsets:
            return
        try:
            consumer.commit(to_commit(offsets))
            progress.did_commit(offsets)
        except KafkaError as exc:
            emit("error", where="commit", error=error_name(exc), message=str(exc), fatal=False)
            time.sleep(ERROR_PAUSE_S)

    # kafka-python 3 runs rebalance listeners on its IO loop, where a blocking commit() is refused
    class Listener(AsyncConsumerRebalanceListener):
        async def on_partitions_revoked(self, revoked):
            parts = [tp.partition for tp in revoked]
            offsets = progress.uncommitted(parts) if params["commit"] == "each" else {}
            if offsets:
                try:
                    await consumer.commit_async(to_commit(offsets))
                    progress.did_commit(offsets)
                except KafkaError as exc:
                    emit("error", where="revoke", error=error_name(exc), message=str(exc), fatal=False)
            progress.revoked(parts)

        async def on_partitions_assigned(self, assigned):
            progress.assigned([tp.partition for tp in assigned])

        async def on_partitions_lost(self, lost):
            progress.revoked([tp.partition for tp in lost], "lost")

    consumer.subscribe([topic], listener=Listener())
    # Load the topic's metadata now, subscribed, so the leader's metadata snapshot holds its partitions
    # before the first join. Otherwise the snapshot fills in after the first assignment, the leader
    # rejoins, and if that join outlasts one poll() kafka-python 3.0.12 never applies its SyncGroup
    # answer (need_rejoin() is already false when the next poll() looks): the member hangs unassigned.
    consumer.partitions_for_topic(topic)
    emit("started")
    while True:
        if carry_out(commands, commit, consumer.close):
            return
        try:
            batches = consumer.poll(timeout_ms=POLL_TIMEOUT_MS)
        except KafkaError as exc:
            emit("error", where="poll", error=error_name(exc), message=str(exc), fatal=False)
            time.sleep(ERROR_PAUSE_S)
            continue
        progress.took([(r.partition, r.offset, r.value) for records in batches.values() for r in records])
        if params["commit"] == "each":
            commit(progress.uncommitted())


# -- aiokafka


async def run_aiokafka(params: dict) -> None:
    from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
    from aiokafka.errors import KafkaError

    topic, progress, commands = params["topic"], Progress(), read_commands()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=params["bootstrap"], group_id=params["group_id"], client_id=params["client_id"],
        group_instance_id=params.get("instance_id"), enable_auto_commit=False, auto_offset_reset="earliest",
        fetch_max_wait_ms=100, request_timeout_ms=10_000, **params.get("config", {}),
    )

    async def commit(offsets: dict[int, int], where: str = "commit") -> None:
        if not offsets:
            return
        try:
            await consumer.commit({TopicPartition(topic, p): o for p, o in offsets.items()})
            progress.did_commit(offsets)
        except KafkaError as exc:
            emit("error", where=where, error=error_name(exc), message=str(exc), fatal=False)
            await asyncio.sleep(ERROR_PAUSE_S)

    class Listener(ConsumerRebalanceListener):
        async def on_partitions_revoked(self, revoked):
            parts = [tp.partition for tp in revoked]
            if params["commit"] == "each":
                await commit(progress.uncommitted(parts), "revoke")
            progress.revoked(parts)

        async def on_partitions_assigned(self, assigned):
            progress.assigned([tp.partition for tp in assigned])

    await consumer.start()
    consumer.subscribe([topic], listener=Listener())
    emit("started")
    while True:
        while not commands.empty():
            command = commands.get()
            if command["op"] == "close":
                await consumer.stop()
                emit("closed")
                return
            await commit(command_offsets(command))
        try:
            batches = await consumer.getmany(timeout_ms=POLL_TIMEOUT_MS)
        except KafkaError as exc:
            emit("error", where="poll", error=error_name(exc), message=str(exc), fatal=False)
            await asyncio.sleep(ERROR_PAUSE_S)
            continue
        progress.took([(r.partition, r.offset, r.value) for records in batches.values() for r in records])
        if params["commit"] == "each":
            await commit(progress.uncommitted())


# -- confluent-kafka (librdkafka)


def fatal_cause(error) -> str | None:
    """The broker error behind librdkafka's generic _FATAL consumer error, found by its description.

    A consumer learns of a fatal error (FENCED_INSTANCE_ID, UNRELEASED_INSTANCE_ID ...) as a consumed
    message whose error is _FATAL with the text "Fatal error: <description of the cause>: ..."; the
    Python binding offers no rd_kafka_fatal_error() to name the cause.
    """
    from confluent_kafka import KafkaError

    if error.code() != KafkaError._FATAL:
        return None
    for name in dir(KafkaError):
        code = getattr(KafkaError, name)
        if isinstance(code, int) and code > 0 and f"Fatal error: {KafkaError(code).str()}" in error.str():
            return KafkaError(code).name()
    return None


def run_confluent(params: dict) -> None:
    from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

    topic, progress, commands = params["topic"], Progress(), read_commands()
    settings = {
        "bootstrap.servers": params["bootstrap"], "group.id": params["group_id"], "client.id": params["client_id"],
        "enable.auto.commit": False, "auto.offset.reset": "earliest", "fetch.wait.max.ms": 100,
        **params.get("config", {}),
    }
    if params.get("instance_id"):
        settings["group.instance.id"] = params["instance_id"]

    def report(error, where: str) -> None:
        emit("error", where=where, error=fatal_cause(error) or error.name(), message=error.str(),
             fatal=error.fatal() or error.code() == KafkaError._FATAL)
        time.sleep(ERROR_PAUSE_S)

    consumer = Consumer(settings)

    def commit(offsets: dict[int, int], where: str = "commit") -> None:
        if not offsets:
            return
        try:
            results = consumer.commit(offsets=[TopicPartition(topic, p, o) for p, o in offsets.items()],
                                      asynchronous=False)
        except KafkaException as exc:
            report(exc.args[0], where)
            return
        failed = [tp for tp in results if tp.error is not None]
        if failed:
            report(failed[0].error, where)
        else:
            progress.did_commit(offsets)

    def on_revoke(_, partitions):
        parts = [tp.partition for tp in partitions]
        if params["commit"] == "each":
            commit(progress.uncommitted(parts), "revoke")
        progress.revoked(parts)

    consumer.subscribe(
        [topic], on_assign=lambda _, partitions: progress.assigned([tp.partition for tp in partitions]),
        on_revoke=on_revoke,
        on_lost=lambda _, partitions: progress.revoked([tp.partition for tp in partitions], "lost"),
    )
    emit("started")
    while True:
        if carry_out(commands, commit, consumer.close):
            return
        rows = []
        for msg in consumer.consume(num_messages=500, timeout=POLL_TIMEOUT_MS / 1000):
            if msg.error():
                report(msg.error(), "poll")
            else:
                rows.append((msg.partition(), msg.offset(), msg.value()))
        progress.took(rows)
        if params["commit"] == "each":
            commit(progress.uncommitted())


def main() -> None:
    params = json.loads(sys.argv[1])
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # groups.py asks for stacks when a wait times out
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s")
    for name in filter(None, os.environ.get("MEMBER_DEBUG", "").split(",")):
        logging.getLogger(name).setLevel(logging.DEBUG)
    client = params["client"]
    if client == "kafka-python":
        run_kafka_python(params)
    elif client == "aiokafka":
        asyncio.run(run_aiokafka(params))
    elif client == "confluent":
        run_confluent(params)
    else:
        raise SystemExit(f"unknown client {client!r}")


if __name__ == "__main__":
    main()

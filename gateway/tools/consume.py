"""`ottla consume TOPIC`: read records with confluent-kafka's Consumer, printed as text (Kafka's console consumer
layout), JSON lines or hex. Without --group the partitions are assigned (nothing is committed); with one,
the group's committed offsets are where it starts and what it commits. librdkafka never hands control
records (transaction markers) to the application, so they never print."""

from __future__ import annotations

import base64
import json
import os
import sys
import time

from gateway.tools import _client, _output

TIMESTAMP_TYPES = {0: None, 1: "CreateTime", 2: "LogAppendTime"}


def register(commands) -> None:
    p = _client.add_verb(commands, "consume", "read records and print them", run)
    p.add_argument("topic", metavar="TOPIC")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--from-beginning", action="store_true", help="start at each partition's earliest offset")
    where.add_argument("--offset", metavar="N|earliest|latest", help="start here (N: in --partition, or every one)")
    where.add_argument("--from-timestamp", type=int, metavar="MS", help="start at the first record at or after MS")
    p.add_argument("--partition", "-p", type=int, action="append", metavar="P", help="only this partition (repeatable)")
    p.add_argument("--group", "-g", help="consume as this consumer group (committing); default: no group")
    p.add_argument("--isolation-level", choices=("read_uncommitted", "read_committed"), default="read_uncommitted")
    p.add_argument("--max-messages", "-m", type=int, metavar="N", help="stop after N records")
    p.add_argument("--to-end", "-e", action="store_true", help="stop at the end of every partition")
    p.add_argument("--idle-timeout-ms", type=int, metavar="MS", help="stop when nothing arrives for MS (Kafka's "
                   "--timeout-ms)")
    p.add_argument("--format", "-f", choices=("text", "json", "hex"), default="text",
                   help="text: Kafka's console layout; json: one object a line; hex: key and value in hex")
    for name in ("key", "headers", "partition", "offset", "timestamp"):
        p.add_argument(f"--print-{name}", action="store_true", help=f"text/hex: print the {name} too")
    p.add_argument("--separator", default="\t", help="text/hex: between fields (default: a tab)")
    p.add_argument("--consumer-property", "-X", action="append", default=[], metavar="KEY=VALUE",
                   help="any consumer setting (librdkafka's names), repeatable")


def run(args) -> int:
    from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, KafkaError, TopicPartition

    if args.format == "text" and args.output == "json":
        args.format = "json"
    extra = {"isolation.level": args.isolation_level, "enable.partition.eof": True,
             "auto.offset.reset": "earliest" if args.from_beginning else "latest"}
    if args.group:
        extra.update({"group.id": args.group, "enable.auto.commit": True})
    else:  # librdkafka wants a group.id even to assign; with nothing committed no group comes to exist
        extra.update({"group.id": f"ottla-consume-{os.getpid()}", "enable.auto.commit": False})
    for item in args.consumer_property:
        key, sep, value = item.partition("=")
        if not sep:
            raise _output.usage(f"--consumer-property needs KEY=VALUE, not {item!r}")
        extra[key] = value
    consumer = _client.consumer(args, extra)
    try:
        meta = _client.call(args, consumer.list_topics, args.topic, timeout=args.timeout)
        topic = meta.topics.get(args.topic)
        if topic is None or topic.error is not None:
            error = topic.error if topic is not None else None
            if error is not None:
                raise _client.translate_error(error)
            raise _output.CliError(f"no topic {args.topic}", name="UNKNOWN_TOPIC_OR_PARTITION")
        partitions = sorted(topic.partitions)
        if args.partition:
            missing = [p for p in args.partition if p not in topic.partitions]
            if missing:
                raise _output.CliError(f"{args.topic} has no partition {missing[0]}", name="UNKNOWN_TOPIC_OR_PARTITION")
            partitions = sorted(set(args.partition))
        start = _start_offset(args, OFFSET_BEGINNING, OFFSET_END)
        if args.group and start is None and not args.partition:
            consumer.subscribe([args.topic])
            assigned_all = None
        else:
            tps = [TopicPartition(args.topic, p, start if start is not None else -1001) for p in partitions]
            if args.from_timestamp is not None:
                tps = _client.call(args, consumer.offsets_for_times,
                                   [TopicPartition(args.topic, p, args.from_timestamp) for p in partitions],
                                   timeout=args.timeout)
                tps = [TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_END)
                       for tp in tps]
            consumer.assign(tps)
            assigned_all = set(partitions)
        return _loop(args, consumer, assigned_all, KafkaError)
    finally:
        consumer.close()


def _start_offset(args, beginning: int, end: int) -> int | None:
    """The offset to assign at, or None for the group's committed one (else auto.offset.reset)."""
    if args.from_beginning:
        return beginning if not args.group else None
    if args.offset is not None:
        if args.offset in ("earliest", "beginning"):
            return beginning
        if args.offset in ("latest", "end"):
            return end
        try:
            offset = int(args.offset)
        except ValueError:
            raise _output.usage(f"--offset takes N, earliest or latest, not {args.offset!r}") from None
        if offset < 0:
            raise _output.usage("--offset N needs N >= 0")
        return offset
    if args.from_timestamp is not None:
        return 0
    return None if args.group else end


def _loop(args, consumer, assigned: set[int] | None, KafkaError) -> int:
    count = 0
    at_end: set[int] = set()
    idle_since = time.monotonic()
    out = sys.stdout
    while args.max_messages is None or count < args.max_messages:
        message = consumer.poll(0.2)
        if message is None:
            if args.idle_timeout_ms is not None and (time.monotonic() - idle_since) * 1000 >= args.idle_timeout_ms:
                break
            continue
        error = message.error()
        if error is not None:
            if error.code() == KafkaError._PARTITION_EOF:
                at_end.add(message.partition())
                if args.to_end and _all_at_end(consumer, assigned, at_end):
                    break
                continue
            raise _client.translate_error(error)
        idle_since = time.monotonic()
        at_end.discard(message.partition())
        out.write(format_message(args, message))
        out.write("\n")
        count += 1
    out.flush()
    if args.output != "json":
        print(f"Processed a total of {count} messages", file=sys.stderr)
    return 0


def _all_at_end(consumer, assigned: set[int] | None, at_end: set[int]) -> bool:
    partitions = assigned if assigned is not None else {tp.partition for tp in consumer.assignment()}
    return bool(partitions) and partitions <= at_end


def _text(data: bytes | None, hexed: bool) -> str:
    if data is None:
        return "null"
    return data.hex() if hexed else data.decode("utf-8", errors="replace")


def _json_bytes(data: bytes | None) -> dict:
    if data is None:
        return {}
    try:
        return {"": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"_base64": base64.b64encode(data).decode()}


def format_message(args, message) -> str:
    ts_type, ts = message.timestamp()
    headers = message.headers() or []
    if args.format == "json":
        record = {"topic": message.topic(), "partition": message.partition(), "offset": message.offset(),
                  "timestamp": ts if TIMESTAMP_TYPES.get(ts_type) else None,
                  "timestamp_type": TIMESTAMP_TYPES.get(ts_type)}
        for name, data in (("key", message.key()), ("value", message.value())):
            encoded = _json_bytes(data)
            record[name] = encoded.get("", encoded.get("_base64"))
            if "_base64" in encoded:
                record[f"{name}_encoding"] = "base64"
        record["headers"] = [{"key": k, "value": None if v is None else
                              _json_bytes(v).get("", _json_bytes(v).get("_base64"))} for k, v in headers]
        return json.dumps(record, ensure_ascii=False)
    hexed = args.format == "hex"
    fields = []
    if args.print_timestamp:
        fields.append(f"{TIMESTAMP_TYPES.get(ts_type) or 'NoTimestampType'}:{ts if ts_type else -1}")
    if args.print_partition:
        fields.append(f"Partition:{message.partition()}")
    if args.print_offset:
        fields.append(f"Offset:{message.offset()}")
    if args.print_headers:
        fields.append(",".join(f"{k}:{_text(v, hexed)}" for k, v in headers) or "NO_HEADERS")
    if args.print_key:
        fields.append(_text(message.key(), hexed))
    fields.append(_text(message.value(), hexed))
    return args.separator.join(fields)

"""`ottla records delete`: Kafka's kafka-delete-records.sh (DeleteRecords: every record before an offset goes),
through confluent-kafka's AdminClient."""

from __future__ import annotations

import json

from gateway.tools import _client, _output
from gateway.tools._output import Output


def register(commands) -> None:
    p = commands.add_parser("records", help="delete records before an offset",
                            description="Records: Kafka's kafka-delete-records.sh.")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    v = _client.add_verb(verbs, "delete", "delete every record before OFFSET (-1: the high watermark: all of them)",
                         run_delete)
    v.add_argument("topic", nargs="?", metavar="TOPIC")
    v.add_argument("--partition", "-p", action="append", default=[], metavar="P[:OFFSET]",
                   help="this partition, up to OFFSET (else --offset); repeatable; default: every partition")
    v.add_argument("--offset", type=int, default=-1, help="delete before this offset (default -1: all)")
    v.add_argument("--offset-json-file", metavar="FILE", help='Kafka\'s file: {"partitions": [{"topic": ..., '
                   '"partition": ..., "offset": ...}], "version": 1}')


def _targets(args, admin) -> list[tuple[str, int, int]]:
    if args.offset_json_file:
        try:
            with open(args.offset_json_file, encoding="utf-8") as f:
                spec = json.load(f)
            return [(p["topic"], int(p["partition"]), int(p["offset"])) for p in spec["partitions"]]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise _output.usage(f"cannot read --offset-json-file {args.offset_json_file}: {error}") from None
    if not args.topic:
        raise _output.usage("give TOPIC or --offset-json-file")
    chosen = []
    for item in args.partition:
        part, _, offset = item.partition(":")
        try:
            chosen.append((args.topic, int(part), int(offset) if offset else args.offset))
        except ValueError:
            raise _output.usage(f"--partition takes P or P:OFFSET, not {item!r}") from None
    if chosen:
        return chosen
    return [(args.topic, p, args.offset) for p in _client.partitions(args, admin, args.topic)]


def run_delete(args) -> int:
    from confluent_kafka import OFFSET_END, TopicPartition

    admin = _client.admin(args)
    targets = _targets(args, admin)
    request = [TopicPartition(t, p, OFFSET_END if o < 0 else o) for t, p, o in targets]
    done, failed = _client.results(args, admin.delete_records(request, request_timeout=args.timeout))
    low = {(tp.topic, tp.partition): d.low_watermark for tp, d in done.items()}
    errors = {(tp.topic, tp.partition): e for tp, e in failed.items()}
    rows = [{"topic": t, "partition": p, "low_watermark": low.get((t, p)),
             "error": errors[(t, p)].name if (t, p) in errors else None} for t, p, _ in targets]
    Output(args).table(rows, ["topic", "partition", "low_watermark"] + (["error"] if errors else []),
                       highlight={"error": "red"})
    for t, p, _ in targets:
        if (t, p) in errors:
            return errors[(t, p)].exit_code
    return 0

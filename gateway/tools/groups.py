"""`ottla groups list|describe|reset-offsets|delete`: Kafka's kafka-consumer-groups.sh, through confluent-kafka's
AdminClient (ListGroups, DescribeGroups/ConsumerGroupDescribe, OffsetFetch, ListOffsets, OffsetCommit,
DeleteGroups)."""

from __future__ import annotations

import re
import time

from gateway.tools import _client, _output
from gateway.tools._output import CliError, Output

INACTIVE = ("EMPTY", "DEAD", "UNKNOWN")
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def register(commands) -> None:
    p = commands.add_parser("groups", help="consumer groups: members, assignment, lag; reset or delete offsets",
                            description="Consumer groups: Kafka's kafka-consumer-groups.sh.")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    v = _client.add_verb(verbs, "list", "list consumer groups with their type and state", run_list)
    v.add_argument("--state", action="append", default=[], help="only groups in this state (repeatable)")
    v = _client.add_verb(verbs, "describe", "state, members, assignment, committed offsets and lag", run_describe)
    v.add_argument("groups", nargs="+", metavar="GROUP")
    v = _client.add_verb(verbs, "reset-offsets", "move a group's committed offsets (a dry run unless --execute)",
                         run_reset)
    v.add_argument("group", metavar="GROUP")
    add_reset_options(v, "committed")
    v = _client.add_verb(verbs, "delete-offsets", "delete a group's committed offsets of topics it no longer "
                         "consumes (OffsetDelete)", run_delete_offsets)
    v.add_argument("group", metavar="GROUP")
    v.add_argument("--topic", "-t", action="append", required=True, metavar="TOPIC[:P,P...]",
                   help="these partitions (all of the topic's by default); repeatable")
    v = _client.add_verb(verbs, "delete", "delete consumer groups (they must be empty)", run_delete)
    v.add_argument("groups", nargs="+", metavar="GROUP")


def add_reset_options(v, current: str) -> None:
    """reset-offsets' flags (Kafka's kafka-consumer-groups.sh names), also for share groups' start offsets."""
    which = v.add_mutually_exclusive_group(required=True)
    which.add_argument("--topic", "-t", action="append", metavar="TOPIC[:P,P...]",
                       help="these partitions (all of the topic's by default); repeatable")
    which.add_argument("--all-topics", action="store_true", help=f"every topic the group has {current} offsets for")
    to = v.add_mutually_exclusive_group(required=True)
    to.add_argument("--to-earliest", action="store_true")
    to.add_argument("--to-latest", action="store_true")
    to.add_argument("--to-current", action="store_true")
    to.add_argument("--to-offset", type=int, metavar="N")
    to.add_argument("--shift-by", type=int, metavar="N", help=f"the {current} offset plus N (may be negative)")
    to.add_argument("--to-timestamp", type=int, metavar="MS", help="the first offset at or after MS (epoch ms)")
    to.add_argument("--to-datetime", metavar="YYYY-MM-DDTHH:mm:SS.sss[+HH:MM]", help="as --to-timestamp; local "
                    "time unless a zone is given (Kafka's)")
    to.add_argument("--by-duration", metavar="PnDTnHnMnS", help="the offset this long ago (ISO 8601 duration)")
    mode = v.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="show the new offsets, change nothing (the default)")
    mode.add_argument("--execute", action="store_true", help="store the new offsets (the group must be inactive)")


def show_plan(args, rows: list[dict]) -> None:
    out = Output(args)
    out.table(rows, ["group", "topic", "partition", "current_offset", "new_offset"],
              json_value={"executed": bool(args.execute), "offsets": rows})
    if not args.execute:
        out.line("(dry run: nothing changed; --execute stores these offsets)")


def _state(value) -> str:
    return getattr(value, "name", str(value)) if value is not None else "UNKNOWN"


def run_list(args) -> int:
    admin = _client.admin(args)
    listed = _client.result(args, admin.list_consumer_groups(request_timeout=args.timeout))
    wanted = {s.upper() for s in args.state}
    rows = [{"group": g.group_id, "type": _state(g.type).lower(), "state": _state(g.state),
             "simple": g.is_simple_consumer_group} for g in sorted(listed.valid, key=lambda g: g.group_id)
            if not wanted or _state(g.state) in wanted]
    Output(args).table(rows, ["group", "type", "state"])
    for error in listed.errors:
        _output.report_error(_client.translate_error(error), args.output == "json")
    return _output.REFUSED if listed.errors else 0


def committed(args, admin, group: str) -> dict[tuple[str, int], int]:
    """(topic, partition) -> the group's committed offset (partitions without one left out)."""
    from confluent_kafka import ConsumerGroupTopicPartitions

    futures = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)], request_timeout=args.timeout)
    answer = _client.result(args, futures[group])
    return {(tp.topic, tp.partition): tp.offset for tp in answer.topic_partitions or [] if tp.offset >= 0}


def end_offsets(args, admin, partitions, spec=None) -> dict[tuple[str, int], int]:
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import OffsetSpec

    if not partitions:
        return {}
    spec = spec or OffsetSpec.latest()
    futures = admin.list_offsets({TopicPartition(t, p): spec for t, p in partitions}, request_timeout=args.timeout)
    done, failed = _client.results(args, futures)
    if failed:
        raise next(iter(failed.values()))
    return {(tp.topic, tp.partition): info.offset for tp, info in done.items()}


def describe_group(args, admin, group: str, description) -> dict:
    offsets = committed(args, admin, group)
    owner = {}
    members = []
    for m in description.members or []:
        assignment = sorted((tp.topic, tp.partition) for tp in (m.assignment.topic_partitions if m.assignment else []))
        for tp in assignment:
            owner[tp] = m
        members.append({"member_id": m.member_id, "client_id": m.client_id, "host": m.host,
                        "group_instance_id": m.group_instance_id,
                        "assignment": [{"topic": t, "partition": p} for t, p in assignment]})
    partitions = sorted(set(offsets) | set(owner))
    ends = end_offsets(args, admin, partitions)
    rows = []
    for tp in partitions:
        current, end = offsets.get(tp), ends.get(tp)
        m = owner.get(tp)
        rows.append({"topic": tp[0], "partition": tp[1], "current_offset": current, "log_end_offset": end,
                     "lag": end - current if current is not None and end is not None else None,
                     "consumer_id": m.member_id if m else None, "host": m.host if m else None,
                     "client_id": m.client_id if m else None})
    coordinator = description.coordinator
    return {"group": group, "state": _state(description.state), "type": _state(getattr(description, "type", None)).lower(),
            "coordinator": coordinator.id if coordinator else None, "partition_assignor": description.partition_assignor,
            "members": members, "offsets": rows, "total_lag": sum(r["lag"] or 0 for r in rows)}


def run_describe(args) -> int:
    admin = _client.admin(args)
    futures = admin.describe_consumer_groups(args.groups, request_timeout=args.timeout)

    def describe_one(group: str) -> dict:
        info = describe_group(args, admin, group, _client.result(args, futures[group]))
        if info["state"] == "DEAD" and not info["offsets"] and not info["members"]:
            raise CliError(f"consumer group {group!r} does not exist", name="GROUP_ID_NOT_FOUND")
        return info

    def show_one(out, info: dict) -> None:
        out.record({"group": info["group"], "state": info["state"], "type": info["type"],
                    "coordinator": info["coordinator"], "assignor": info["partition_assignor"] or "-",
                    "members": len(info["members"]), "total lag": info["total_lag"]})
        out.line("")
        out.table(info["offsets"], ["topic", "partition", "current_offset", "log_end_offset", "lag", "consumer_id",
                                    "host", "client_id"], highlight={"lag": "yellow"})
        show_members(out, info["members"], ["member_id", "client_id", "host", "group_instance_id", "assignment"])

    return _output.describe_each(args, args.groups, describe_one, show_one)


def show_members(out, members: list[dict], columns: list[str]) -> None:
    """A group's members, their assignment as topic:partition,... (nothing when there are none)."""
    if members:
        out.line("")
        out.table([{**m, "assignment": ",".join(f"{a['topic']}:{a['partition']}" for a in m["assignment"])}
                   for m in members], columns)
    out.line("")


def _selected(args, admin, offsets: dict) -> list[tuple[str, int]]:
    if args.all_topics:
        return sorted(offsets)
    chosen = []
    for item in args.topic:
        name, _, parts = item.partition(":")
        if parts:
            try:
                chosen += [(name, int(p)) for p in parts.split(",")]
            except ValueError:
                raise _output.usage(f"--topic takes TOPIC or TOPIC:P,P..., not {item!r}") from None
            continue
        chosen += [(name, p) for p in _client.partitions(args, admin, name)]
    return sorted(set(chosen))


def _timestamp(args) -> int | None:
    if args.to_timestamp is not None:
        return args.to_timestamp
    if args.to_datetime:
        from datetime import datetime

        try:
            return int(datetime.fromisoformat(args.to_datetime).timestamp() * 1000)
        except ValueError:
            raise _output.usage(f"--to-datetime: not a date-time: {args.to_datetime!r}") from None
    if args.by_duration:
        match = _DURATION.match(args.by_duration)
        if not match or not any(match.groups()):
            raise _output.usage(f"--by-duration takes an ISO 8601 duration (P1DT2H, PT10M ...), "
                                f"not {args.by_duration!r}")
        d, h, m, s = (float(x) if x else 0.0 for x in match.groups())
        return int((time.time() - ((d * 24 + h) * 60 + m) * 60 - s) * 1000)
    return None


def plan(args, admin, group: str, offsets: dict[tuple[str, int], int]) -> list[dict]:
    """The new offset of every selected partition, Kafka's way: clamped to [earliest, latest]; `offsets` are
    the group's current ones ((topic, partition) -> offset)."""
    from confluent_kafka.admin import OffsetSpec

    partitions = _selected(args, admin, offsets)
    earliest = end_offsets(args, admin, partitions, OffsetSpec.earliest())
    latest = end_offsets(args, admin, partitions, OffsetSpec.latest())
    at = _timestamp(args)
    by_time = end_offsets(args, admin, partitions, OffsetSpec.for_timestamp(at)) if at is not None else {}
    rows = []
    for tp in partitions:
        low, high, current = earliest[tp], latest[tp], offsets.get(tp)
        if args.to_earliest:
            new = low
        elif args.to_latest:
            new = high
        elif args.to_current:
            new = current if current is not None else high
        elif args.to_offset is not None:
            new = args.to_offset
        elif args.shift_by is not None:
            if current is None:
                raise CliError(f"cannot shift {tp[0]}:{tp[1]}: the group has no committed offset there")
            new = current + args.shift_by
        else:
            new = by_time[tp] if by_time.get(tp, -1) >= 0 else high
        rows.append({"group": group, "topic": tp[0], "partition": tp[1], "current_offset": current,
                     "new_offset": min(max(new, low), high)})
    return rows


def run_reset(args) -> int:
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition

    admin = _client.admin(args)
    rows = plan(args, admin, args.group, committed(args, admin, args.group))
    if args.execute:
        description = _client.result(args, admin.describe_consumer_groups([args.group],
                                                                          request_timeout=args.timeout)[args.group])
        state = _state(description.state)
        if state not in INACTIVE:
            raise CliError(f"assignments can only be reset if the group {args.group!r} is inactive, but the current "
                           f"state is {state}")
        if rows:
            request = ConsumerGroupTopicPartitions(args.group, [TopicPartition(r["topic"], r["partition"],
                                                                               r["new_offset"]) for r in rows])
            answer = _client.result(args, admin.alter_consumer_group_offsets([request],
                                                                             request_timeout=args.timeout)[args.group])
            errors = [tp for tp in answer.topic_partitions if tp.error is not None]
            if errors:
                raise _client.translate_error(errors[0].error)
    show_plan(args, rows)
    return 0


def run_delete_offsets(args) -> int:
    """Kafka's --delete-offsets: OffsetDelete through kafka-python (confluent-kafka 2.16 has no call for it)."""
    from kafka import TopicPartition as KafkaPythonPartition

    from gateway.tools import _kafka_python

    args.all_topics = False
    partitions = _selected(args, _client.admin(args), {})
    admin = _kafka_python.admin(args)
    try:
        answer = _kafka_python.call(admin.delete_group_offsets, args.group,
                                    [KafkaPythonPartition(t, p) for t, p in partitions])
    finally:
        admin.close()
    rows, failure = [], None
    for tp, error in sorted(answer.items()):
        name = None if error is None or getattr(error, "errno", 0) == 0 else _output.kafka_error_name(error.errno)
        rows.append({"group": args.group, "topic": tp.topic, "partition": tp.partition, "result": name or "deleted"})
        if name and failure is None:
            failure = CliError(f"{tp.topic}:{tp.partition}", name=name)
    Output(args).table(rows, ["group", "topic", "partition", "result"], highlight={"result": "red"} if failure else None)
    if failure is not None:
        _output.report_error(failure, args.output == "json")
        return failure.exit_code
    return 0


def run_delete(args) -> int:
    from gateway.tools.topics import finish

    admin = _client.admin(args)
    _, failed = _client.results(args, admin.delete_consumer_groups(args.groups, request_timeout=args.timeout))
    return finish(args, args.groups, failed, "deleted")

"""`ottla share-groups list|describe|reset-offsets|delete|replay-dlq`: share groups (KIP-932).

confluent-kafka 2.16 has no admin calls for share groups (only the ShareConsumer), so list and describe
speak ListGroups v5 (types filter "share"), FindCoordinator, ShareGroupDescribe and
DescribeShareGroupOffsets (and AlterShareGroupOffsets to reset) with Ottla's own wire declarations (gateway/tools/_protocol.py, PLAINTEXT only);
log-end offsets come from confluent-kafka's ListOffsets, delete is its DeleteGroups. `replay-dlq` moves
dead-lettered records back to their source topic, over a running broker's HTTP port or offline on a
stopped broker's data dir.
"""

from __future__ import annotations

from gateway.tools import _client, _output, _protocol
from gateway.tools._output import CliError, Output

LIST_GROUPS, FIND_COORDINATOR, SHARE_GROUP_DESCRIBE, DESCRIBE_SHARE_GROUP_OFFSETS = 16, 10, 77, 90
ALTER_SHARE_GROUP_OFFSETS = 91
GROUP_KEY_TYPE = 0


def register(commands) -> None:
    p = commands.add_parser("share-groups", help="share groups (KIP-932): list, describe, delete, replay a DLQ",
                            description="Share groups (KIP-932).")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    _client.add_verb(verbs, "list", "share groups with their state", run_list)
    v = _client.add_verb(verbs, "describe", "state, members, assignment, start offsets and lag", run_describe)
    v.add_argument("groups", nargs="+", metavar="GROUP")
    v = _client.add_verb(verbs, "reset-offsets", "move a share group's start offsets (a dry run unless --execute)",
                         run_reset)
    v.add_argument("group", metavar="GROUP")
    from gateway.tools.groups import add_reset_options

    add_reset_options(v, "start")
    v = _client.add_verb(verbs, "delete", "delete share groups (they must be empty)", run_delete)
    v.add_argument("groups", nargs="+", metavar="GROUP")
    replay = _client.add_verb(verbs, "replay-dlq", "move dead-lettered records back to their source topic",
                              run_replay_dlq, client=False)
    replay.add_argument("--topic", required=True, help="the dead-letter topic")
    replay.add_argument("--max", type=int, help="replay at most this many records")
    replay.add_argument("--source-topic", help="only the dead letters of this source topic")
    where = replay.add_mutually_exclusive_group(required=True)
    where.add_argument("--admin", metavar="HOST:PORT", help="a running broker's --http-port")
    where.add_argument("--data-dir", help="the data dir of a stopped broker")


def _brokers(args, admin) -> dict[int, tuple[str, int]]:
    meta = _client.metadata(args, admin)
    return {b.id: (b.host, b.port) for b in meta.brokers.values()}


def _connect(args, address: tuple[str, int]) -> _protocol.Connection:
    config = _client.client_config(args)
    _protocol.check_plaintext(config)
    return _protocol.Connection(address[0], address[1], args.timeout, config.get("client.id", "ottla-cli"))


def run_list(args) -> int:
    admin = _client.admin(args)
    rows = []
    for address in _brokers(args, admin).values():  # each broker answers for the groups it coordinates
        conn = _connect(args, address)
        try:
            _, answer = conn.request(LIST_GROUPS, {"states_filter": [], "types_filter": ["share"]})
        finally:
            conn.close()
        _protocol.raise_for(answer.error_code, None, "ListGroups")
        rows += [{"group": g.group_id, "state": g.group_state.upper()} for g in answer.groups]
    Output(args).table(sorted(rows, key=lambda r: r["group"]), ["group", "state"])
    return 0


def _coordinator(args, admin, group: str) -> tuple[str, int]:
    conn = _connect(args, next(iter(_brokers(args, admin).values())))
    try:
        version, answer = conn.request(FIND_COORDINATOR, {"key": group, "key_type": GROUP_KEY_TYPE,
                                                          "coordinator_keys": [group]})
    finally:
        conn.close()
    if version >= 4:
        (c,) = answer.coordinators
        _protocol.raise_for(c.error_code, c.error_message, f"FindCoordinator {group}")
        return c.host, c.port
    _protocol.raise_for(answer.error_code, answer.error_message if version >= 1 else None, f"FindCoordinator {group}")
    return answer.host, answer.port


def describe(args, admin, group: str) -> dict:
    from gateway.tools.groups import end_offsets

    conn = _connect(args, _coordinator(args, admin, group))
    try:
        _, described = conn.request(SHARE_GROUP_DESCRIBE, {"group_ids": [group],
                                                           "include_authorized_operations": False})
        (g,) = described.groups
        _protocol.raise_for(g.error_code, g.error_message, f"share group {group}")
        version, offsets = conn.request(DESCRIBE_SHARE_GROUP_OFFSETS, {"groups": [{"group_id": group,
                                                                                    "topics": None}]})
    finally:
        conn.close()
    (o,) = offsets.groups
    _protocol.raise_for(o.error_code, o.error_message, f"share group {group} offsets")
    starts = {}
    for t in o.topics:
        for p in t.partitions:
            _protocol.raise_for(p.error_code, p.error_message, f"{t.topic_name}:{p.partition_index}")
            starts[(t.topic_name, p.partition_index)] = (p.start_offset, p.lag if version >= 1 else -1)
    members, owner = [], {}
    for m in g.members:
        assignment = sorted((tp.topic_name, p) for tp in m.assignment.topic_partitions for p in tp.partitions)
        for tp in assignment:
            owner.setdefault(tp, []).append(m.member_id)
        members.append({"member_id": m.member_id, "client_id": m.client_id, "host": m.client_host,
                        "member_epoch": m.member_epoch, "subscribed_topics": list(m.subscribed_topic_names),
                        "assignment": [{"topic": t, "partition": p} for t, p in assignment]})
    partitions = sorted(set(starts) | set(owner))
    ends = end_offsets(args, admin, partitions)
    rows = []
    for tp in partitions:
        start, lag = starts.get(tp, (None, -1))
        end = ends.get(tp)
        if (lag is None or lag < 0) and start is not None and start >= 0 and end is not None:
            lag = max(end - start, 0)  # DescribeShareGroupOffsets v0 has no lag: the records from the start on
        rows.append({"topic": tp[0], "partition": tp[1], "start_offset": start if start is None or start >= 0 else None,
                     "log_end_offset": end, "lag": lag if lag is not None and lag >= 0 else None,
                     "members": owner.get(tp, [])})
    return {"group": group, "state": g.group_state.upper(), "group_epoch": g.group_epoch,
            "assignment_epoch": g.assignment_epoch, "assignor": g.assignor_name, "members": members,
            "offsets": rows, "total_lag": sum(r["lag"] or 0 for r in rows)}


def run_describe(args) -> int:
    from gateway.tools.groups import show_members

    admin = _client.admin(args)

    def show_one(out, info: dict) -> None:
        out.record({"group": info["group"], "state": info["state"], "group epoch": info["group_epoch"],
                    "assignor": info["assignor"], "members": len(info["members"]), "total lag": info["total_lag"]})
        out.line("")
        out.table(info["offsets"], ["topic", "partition", "start_offset", "log_end_offset", "lag", "members"],
                  highlight={"lag": "yellow"})
        show_members(out, info["members"], ["member_id", "client_id", "host", "assignment"])

    return _output.describe_each(args, args.groups, lambda group: describe(args, admin, group), show_one)


def run_reset(args) -> int:
    """Kafka's kafka-share-groups.sh --reset-offsets: AlterShareGroupOffsets, the group must have no members."""
    from gateway.tools.groups import plan, show_plan

    admin = _client.admin(args)
    info = describe(args, admin, args.group)
    current = {(r["topic"], r["partition"]): r["start_offset"] for r in info["offsets"] if r["start_offset"] is not None}
    rows = plan(args, admin, args.group, current)
    if args.execute and rows:
        if info["members"]:
            raise CliError(f"share group {args.group!r} has {len(info['members'])} members: offsets can only be "
                           f"reset when it is empty", name="NON_EMPTY_GROUP")
        topics: dict[str, list] = {}
        for r in rows:
            topics.setdefault(r["topic"], []).append({"partition_index": r["partition"], "start_offset": r["new_offset"]})
        conn = _connect(args, _coordinator(args, admin, args.group))
        try:
            _, answer = conn.request(ALTER_SHARE_GROUP_OFFSETS, {"group_id": args.group, "topics": [
                {"topic_name": t, "partitions": parts} for t, parts in topics.items()]})
        finally:
            conn.close()
        _protocol.raise_for(answer.error_code, answer.error_message, f"share group {args.group}")
        for t in answer.responses:
            for p in t.partitions:
                _protocol.raise_for(p.error_code, p.error_message, f"{t.topic_name}:{p.partition_index}")
    show_plan(args, rows)
    return 0


def run_delete(args) -> int:
    from gateway.tools.groups import run_delete as delete_groups  # DeleteGroups takes share groups too

    return delete_groups(args)


def run_replay_dlq(args) -> int:
    from gateway.share.replay_cli import replay_dlq

    return replay_dlq(args)

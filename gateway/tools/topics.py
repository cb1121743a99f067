"""`ottla topics list|create|describe|alter|delete`: Kafka's kafka-topics.sh, through confluent-kafka's AdminClient."""

from __future__ import annotations

from gateway.tools import _client, _output
from gateway.tools._output import CliError, Output


def register(commands) -> None:
    p = commands.add_parser("topics", help="list, create, describe, alter and delete topics",
                            description="Topics: Kafka's kafka-topics.sh.")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    v = _client.add_verb(verbs, "list", "list topics with their partition counts", run_list)
    v.add_argument("--exclude-internal", action="store_true", help="leave out __consumer_offsets and the like")
    v = _client.add_verb(verbs, "create", "create topics", run_create)
    v.add_argument("topics", nargs="+", metavar="TOPIC")
    v.add_argument("--partitions", "-p", type=int, default=-1, help="default: the broker's num.partitions")
    v.add_argument("--replication-factor", "-r", type=int, default=-1, help="default: the broker's")
    v.add_argument("--config", "-c", action="append", default=[], metavar="KEY=VALUE", help="a topic config (repeatable)")
    v.add_argument("--if-not-exists", action="store_true", help="an existing topic is not an error")
    v = _client.add_verb(verbs, "describe", "partitions (leader, replicas, ISR, offsets) and configs set", run_describe)
    v.add_argument("topics", nargs="*", metavar="TOPIC", help="default: every topic")
    v = _client.add_verb(verbs, "alter", "add partitions, set or remove topic configs", run_alter)
    v.add_argument("topic", metavar="TOPIC")
    v.add_argument("--partitions", "-p", type=int, help="the new partition count (more than today's)")
    v.add_argument("--config", "-c", action="append", default=[], metavar="KEY=VALUE", help="set (repeatable)")
    v.add_argument("--delete-config", action="append", default=[], metavar="KEY", help="back to the default")
    v = _client.add_verb(verbs, "delete", "delete topics", run_delete)
    v.add_argument("topics", nargs="+", metavar="TOPIC")
    v.add_argument("--if-exists", action="store_true", help="a missing topic is not an error")


def parse_configs(items: list[str]) -> dict[str, str]:
    configs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise _output.usage(f"--config needs KEY=VALUE, not {item!r}")
        configs[key.strip()] = value.strip()
    return configs


def run_list(args) -> int:
    meta = _client.metadata(args, _client.admin(args))
    rows = []
    for name in sorted(meta.topics):
        t = meta.topics[name]
        if args.exclude_internal and name.startswith("__"):
            continue
        replicas = len(next(iter(t.partitions.values())).replicas) if t.partitions else 0
        error = _output.kafka_error_name(t.error.code(), t.error.name()) if t.error else None
        rows.append({"name": name, "partitions": len(t.partitions), "replication_factor": replicas, "error": error})
    Output(args).table(rows, ["name", "partitions", "replication_factor"] + (["error"] if any(r["error"] for r in rows)
                                                                             else []))
    return 0


def run_create(args) -> int:
    from confluent_kafka.admin import NewTopic

    configs = parse_configs(args.config)
    new = [NewTopic(t, num_partitions=args.partitions, replication_factor=args.replication_factor, config=configs)
           for t in args.topics]
    admin = _client.admin(args)
    done, failed = _client.results(args, admin.create_topics(new, request_timeout=args.timeout))
    if args.if_not_exists:
        failed = {t: e for t, e in failed.items() if e.name != "TOPIC_ALREADY_EXISTS"}
    return finish(args, args.topics, failed, "created")


def finish(args, names, failed: dict, verb: str) -> int:
    """Per-item outcome: a table row each (or JSON), and the first failure's exit code."""
    rows = [{"name": n, "result": failed[n].name if n in failed else verb,
             "message": failed[n].message if n in failed else ""} for n in names]
    Output(args).table(rows, ["name", "result", "message"] if failed else ["name", "result"],
                       highlight={"message": "red"})
    for name in names:
        if name in failed:
            return failed[name].exit_code
    return 0


def run_describe(args) -> int:
    from confluent_kafka import TopicCollection, TopicPartition
    from confluent_kafka.admin import ConfigResource, ResourceType

    admin = _client.admin(args)
    names = args.topics or sorted(_client.metadata(args, admin).topics)
    described, failed = _client.results(args, admin.describe_topics(TopicCollection(names),
                                                                    request_timeout=args.timeout))
    offsets = watermarks(args, admin, [TopicPartition(name, p.id) for name, d in described.items()
                                       for p in d.partitions])
    config_futures = admin.describe_configs([ConfigResource(ResourceType.TOPIC, n) for n in described],
                                            request_timeout=args.timeout) if described else {}
    configs = {}
    for resource, future in config_futures.items():
        try:
            entries = _client.result(args, future)
        except CliError:
            continue
        configs[resource.name] = {k: e.value for k, e in sorted(entries.items()) if not e.is_default}
    out = Output(args)
    result = []
    for name in names:
        if name in failed:
            continue
        d = described[name]
        parts = []
        for p in sorted(d.partitions, key=lambda p: p.id):
            low, high = offsets.get((name, p.id), (None, None))
            parts.append({"partition": p.id, "leader": p.leader.id if p.leader else None,
                          "replicas": [r.id for r in p.replicas], "isr": [r.id for r in p.isr],
                          "low": low, "high": high,
                          "messages": high - low if low is not None and high is not None else None})
        topic = {"name": name, "topic_id": str(d.topic_id), "internal": d.is_internal, "partitions": parts,
                 "replication_factor": len(parts[0]["replicas"]) if parts else 0, "configs": configs.get(name, {})}
        result.append(topic)
        if not out.json:
            out.record({"topic": name, "topic id": topic["topic_id"], "partitions": len(parts),
                        "replication factor": topic["replication_factor"], "internal": d.is_internal,
                        "configs": ",".join(f"{k}={v}" for k, v in topic["configs"].items()) or "-"})
            out.table(parts, ["partition", "leader", "replicas", "isr", "low", "high", "messages"])
            out.line("")
    if out.json:
        out.emit(result)
    for name in names:
        if name in failed:
            _output.report_error(failed[name], out.json)
            return failed[name].exit_code
    return 0


def watermarks(args, admin, partitions) -> dict[tuple[str, int], tuple[int, int]]:
    """(topic, partition) -> (low, high) by ListOffsets; partitions that fail are left out."""
    from confluent_kafka.admin import OffsetSpec

    if not partitions:
        return {}
    low, _ = _client.results(args, admin.list_offsets({tp: OffsetSpec.earliest() for tp in partitions},
                                                      request_timeout=args.timeout))
    high, _ = _client.results(args, admin.list_offsets({tp: OffsetSpec.latest() for tp in partitions},
                                                       request_timeout=args.timeout))
    high_by = {(tp.topic, tp.partition): info.offset for tp, info in high.items()}
    return {(tp.topic, tp.partition): (info.offset, high_by[(tp.topic, tp.partition)])
            for tp, info in low.items() if (tp.topic, tp.partition) in high_by}


def run_alter(args) -> int:
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, NewPartitions, ResourceType

    configs = parse_configs(args.config)
    if args.partitions is None and not configs and not args.delete_config:
        raise _output.usage("nothing to alter: give --partitions, --config or --delete-config")
    admin = _client.admin(args)
    out = Output(args)
    changes = []
    if args.partitions is not None:
        futures = admin.create_partitions([NewPartitions(args.topic, args.partitions)], request_timeout=args.timeout)
        _client.result(args, futures[args.topic])
        changes.append({"topic": args.topic, "change": "partitions", "value": args.partitions})
    if configs or args.delete_config:
        entries = [ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in configs.items()]
        entries += [ConfigEntry(k, None, incremental_operation=AlterConfigOpType.DELETE) for k in args.delete_config]
        resource = ConfigResource(ResourceType.TOPIC, args.topic, incremental_configs=entries)
        for future in admin.incremental_alter_configs([resource], request_timeout=args.timeout).values():
            _client.result(args, future)
        changes += [{"topic": args.topic, "change": "set", "value": f"{k}={v}"} for k, v in configs.items()]
        changes += [{"topic": args.topic, "change": "deleted", "value": k} for k in args.delete_config]
    out.table(changes, ["topic", "change", "value"])
    return 0


def run_delete(args) -> int:
    admin = _client.admin(args)
    done, failed = _client.results(args, admin.delete_topics(args.topics, request_timeout=args.timeout))
    if args.if_exists:
        failed = {t: e for t, e in failed.items() if e.exit_code != _output.NOT_FOUND}
    return finish(args, args.topics, failed, "deleted")

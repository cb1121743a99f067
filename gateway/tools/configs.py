"""`ottla configs describe|alter`: Kafka's kafka-configs.sh for topics, brokers and groups, through confluent-kafka's
AdminClient (DescribeConfigs, IncrementalAlterConfigs)."""

from __future__ import annotations

from gateway.tools import _client, _output
from gateway.tools._output import Output

ENTITY_TYPES = {"topics": "TOPIC", "brokers": "BROKER", "groups": "GROUP"}


def register(commands) -> None:
    p = commands.add_parser("configs", help="describe and alter topic, broker and group configs",
                            description="Configs: Kafka's kafka-configs.sh (topics, brokers, groups).")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    v = _client.add_verb(verbs, "describe", "the configs set (with --all: every config, with its source)", run_describe)
    _entity(v)
    v.add_argument("--all", action="store_true", help="defaults too")
    v = _client.add_verb(verbs, "alter", "set or remove configs (IncrementalAlterConfigs)", run_alter)
    _entity(v)
    v.add_argument("--add-config", action="append", default=[], metavar="K=V[,K=V...]",
                   help="set these (Kafka's syntax: a list value in [a,b]); repeatable")
    v.add_argument("--delete-config", action="append", default=[], metavar="K[,K...]", help="back to the default")


def _entity(parser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--topic", metavar="NAME")
    which.add_argument("--broker", metavar="ID")
    which.add_argument("--group", metavar="NAME")
    which.add_argument("--entity-type", choices=sorted(ENTITY_TYPES), help="Kafka's spelling, with --entity-name")
    parser.add_argument("--entity-name", metavar="NAME")


def resource(args, **kwargs):
    from confluent_kafka.admin import ConfigResource, ResourceType

    if args.entity_type:
        if not args.entity_name:
            raise _output.usage("--entity-type needs --entity-name (broker-wide defaults are not reachable through "
                                "librdkafka)")
        kind, name = ENTITY_TYPES[args.entity_type], args.entity_name
    elif args.topic is not None:
        kind, name = "TOPIC", args.topic
    elif args.broker is not None:
        kind, name = "BROKER", args.broker
    else:
        kind, name = "GROUP", args.group
    return ConfigResource(getattr(ResourceType, kind), name, **kwargs)


def _source(entry) -> str:
    from confluent_kafka.admin import ConfigSource

    try:
        return ConfigSource(entry.source).name.removesuffix("_CONFIG")
    except ValueError:
        return str(entry.source)


def run_describe(args) -> int:
    admin = _client.admin(args)
    res = resource(args)
    entries = _client.result(args, next(iter(admin.describe_configs([res], request_timeout=args.timeout).values())))
    rows = [{"name": k, "value": "(sensitive)" if e.is_sensitive else e.value, "source": _source(e),
             "read_only": e.is_read_only, "default": e.is_default}
            for k, e in sorted(entries.items()) if args.all or not e.is_default]
    Output(args).table(rows, ["name", "value", "source", "read_only"] if args.all else ["name", "value", "source"],
                       json_value={"resource": res.restype.name.lower(), "name": res.name, "configs": rows})
    return 0


def split_configs(items: list[str]) -> list[str]:
    """Kafka's --add-config a=1,b=[x,y] syntax: commas split, except inside brackets."""
    parts = []
    for item in items:
        depth, current = 0, ""
        for ch in item:
            if ch == "," and depth == 0:
                parts.append(current)
                current = ""
                continue
            depth += {"[": 1, "]": -1}.get(ch, 0)
            current += ch
        parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def run_alter(args) -> int:
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry

    entries, rows = [], []
    for item in split_configs(args.add_config):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise _output.usage(f"--add-config needs K=V, not {item!r}")
        value = value[1:-1] if value.startswith("[") and value.endswith("]") else value
        entries.append(ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET))
        rows.append({"name": key, "change": "set", "value": value})
    for key in split_configs(args.delete_config):
        entries.append(ConfigEntry(key, None, incremental_operation=AlterConfigOpType.DELETE))
        rows.append({"name": key, "change": "deleted", "value": None})
    if not entries:
        raise _output.usage("nothing to alter: give --add-config or --delete-config")
    admin = _client.admin(args)
    res = resource(args, incremental_configs=entries)
    _client.result(args, next(iter(admin.incremental_alter_configs([res], request_timeout=args.timeout).values())))
    Output(args).table(rows, ["name", "change", "value"])
    return 0

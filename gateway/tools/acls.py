"""`ottla acls list|create|delete`: Kafka's kafka-acls.sh (DescribeAcls, CreateAcls, DeleteAcls), through
confluent-kafka's AdminClient. Operations by Kafka's names (Read, Write, DescribeConfigs, IdempotentWrite ...)."""

from __future__ import annotations

import re

from gateway.tools import _client, _output
from gateway.tools._output import Output

CLUSTER_NAME = "kafka-cluster"  # Kafka's one CLUSTER resource


def register(commands) -> None:
    p = commands.add_parser("acls", help="list, create and delete ACLs", description="ACLs: Kafka's kafka-acls.sh.")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    v = _client.add_verb(verbs, "list", "the ACLs matching a filter (default: all)", run_list)
    _filter_options(v, create=False)
    v = _client.add_verb(verbs, "create", "allow or deny principals operations on a resource", run_create)
    _filter_options(v, create=True)
    v = _client.add_verb(verbs, "delete", "delete the ACLs matching a filter", run_delete)
    _filter_options(v, create=False)


def _filter_options(v, create: bool) -> None:
    which = v.add_mutually_exclusive_group(required=create)
    which.add_argument("--topic", metavar="NAME")
    which.add_argument("--group", metavar="NAME")
    which.add_argument("--transactional-id", metavar="ID")
    which.add_argument("--cluster", action="store_true")
    v.add_argument("--resource-pattern-type", choices=("literal", "prefixed") + (() if create else ("match", "any")),
                   default="literal" if create else "any", help="default: %(default)s")
    if create:
        v.add_argument("--allow-principal", action="append", default=[], metavar="User:NAME")
        v.add_argument("--deny-principal", action="append", default=[], metavar="User:NAME")
        v.add_argument("--host", action="append", default=[], metavar="HOST", help="default: * (every host)")
        v.add_argument("--operation", action="append", required=True, metavar="OP",
                       help="Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, "
                            "AlterConfigs, IdempotentWrite, All (repeatable)")
    else:
        v.add_argument("--principal", metavar="User:NAME")
        v.add_argument("--host", metavar="HOST")
        v.add_argument("--operation", metavar="OP")
        v.add_argument("--permission", choices=("allow", "deny"))


def _enum(enum, text: str, what: str):
    name = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", text).upper().replace("-", "_")
    try:
        return enum[name]
    except KeyError:
        raise _output.usage(f"unknown {what} {text!r}") from None


def _resource(args):
    from confluent_kafka.admin import ResourceType

    if args.topic is not None:
        return ResourceType.TOPIC, args.topic
    if args.group is not None:
        return ResourceType.GROUP, args.group
    if args.transactional_id is not None:
        return ResourceType.TRANSACTIONAL_ID, args.transactional_id
    if args.cluster:
        return ResourceType.BROKER, CLUSTER_NAME  # Kafka's CLUSTER (resource type 4) is librdkafka's BROKER
    return ResourceType.ANY, None


def _filter(args):
    from confluent_kafka.admin import AclBindingFilter, AclOperation, AclPermissionType, ResourcePatternType

    restype, name = _resource(args)
    return AclBindingFilter(restype, name, _enum(ResourcePatternType, args.resource_pattern_type, "pattern type"),
                            args.principal, args.host,
                            _enum(AclOperation, args.operation, "operation") if args.operation else AclOperation.ANY,
                            _enum(AclPermissionType, args.permission, "permission") if args.permission
                            else AclPermissionType.ANY)


def row(binding) -> dict:
    restype = binding.restype.name
    return {"principal": binding.principal, "host": binding.host, "operation": binding.operation.name,
            "permission": binding.permission_type.name,
            "resource_type": "CLUSTER" if restype == "BROKER" else restype, "name": binding.name,
            "pattern": binding.resource_pattern_type.name}


COLUMNS = ["principal", "host", "operation", "permission", "resource_type", "name", "pattern"]


def run_list(args) -> int:
    admin = _client.admin(args)
    bindings = _client.result(args, admin.describe_acls(_filter(args), request_timeout=args.timeout))
    rows = sorted((row(b) for b in bindings), key=lambda r: (r["resource_type"], r["name"], r["principal"],
                                                            r["operation"]))
    Output(args).table(rows, COLUMNS)
    return 0


def run_create(args) -> int:
    from confluent_kafka.admin import AclBinding, AclOperation, AclPermissionType, ResourcePatternType

    if not args.allow_principal and not args.deny_principal:
        raise _output.usage("give --allow-principal or --deny-principal")
    restype, name = _resource(args)
    pattern = _enum(ResourcePatternType, args.resource_pattern_type, "pattern type")
    operations = [_enum(AclOperation, op, "operation") for op in args.operation]
    bindings = [AclBinding(restype, name, pattern, principal, host, op, permission)
                for permission, principals in ((AclPermissionType.ALLOW, args.allow_principal),
                                               (AclPermissionType.DENY, args.deny_principal))
                for principal in principals for host in (args.host or ["*"]) for op in operations]
    admin = _client.admin(args)
    done, failed = _client.results(args, admin.create_acls(bindings, request_timeout=args.timeout))
    rows = [{**row(b), "result": failed[b].name if b in failed else "created"} for b in bindings]
    Output(args).table(rows, COLUMNS + ["result"])
    for b in bindings:
        if b in failed:
            _output.report_error(failed[b], args.output == "json")
            return failed[b].exit_code
    return 0


def run_delete(args) -> int:
    admin = _client.admin(args)
    acl_filter = _filter(args)
    deleted = _client.result(args, admin.delete_acls([acl_filter], request_timeout=args.timeout)[acl_filter])
    Output(args).table([row(b) for b in deleted], COLUMNS)
    return 0

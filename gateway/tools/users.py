"""`ottla users list|create|delete`: SCRAM credentials (KIP-554: DescribeUserScramCredentials,
AlterUserScramCredentials), what Kafka does with `kafka-configs --entity-type users --add-config
'SCRAM-SHA-256=[password=...]'`, through confluent-kafka's AdminClient. The salted password is computed by
librdkafka; the password itself never goes over the wire."""

from __future__ import annotations

import getpass
import sys

from gateway.tools import _client, _output
from gateway.tools._output import Output

MECHANISMS = {"SCRAM-SHA-256": "SCRAM_SHA_256", "SCRAM-SHA-512": "SCRAM_SHA_512"}
MIN_ITERATIONS = 4096  # Kafka refuses fewer (ScramMechanism.minIterations)


def register(commands) -> None:
    p = commands.add_parser("users", help="SCRAM users: list, create (or change the password), delete",
                            description="SCRAM credentials (KIP-554).")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    v = _client.add_verb(verbs, "list", "users with SCRAM credentials, their mechanisms and iterations", run_list)
    v.add_argument("users", nargs="*", metavar="USER", help="default: every user")
    v = _client.add_verb(verbs, "create", "set a SCRAM credential (a new user, or a new password)", run_create)
    v.add_argument("user", metavar="USER")
    v.add_argument("--mechanism", choices=sorted(MECHANISMS), default="SCRAM-SHA-256")
    v.add_argument("--iterations", type=int, default=MIN_ITERATIONS)
    v.add_argument("--password", help="default: asked for on a terminal, else one line of stdin")
    v = _client.add_verb(verbs, "delete", "remove a user's SCRAM credential", run_delete)
    v.add_argument("user", metavar="USER")
    v.add_argument("--mechanism", choices=sorted(MECHANISMS), default="SCRAM-SHA-256")


def _mechanism(name: str):
    from confluent_kafka.admin import ScramMechanism

    return ScramMechanism[MECHANISMS[name]]


def _mechanism_name(mechanism) -> str:
    return mechanism.name.replace("_", "-")


def run_list(args) -> int:
    admin = _client.admin(args)
    if args.users:
        described, failed = _client.results(args, admin.describe_user_scram_credentials(
            args.users, request_timeout=args.timeout))
    else:
        described = _client.result(args, admin.describe_user_scram_credentials(request_timeout=args.timeout))
        failed = {}
    rows = [{"user": user, "mechanism": _mechanism_name(info.mechanism), "iterations": info.iterations}
            for user, d in sorted(described.items()) for info in d.scram_credential_infos]
    Output(args).table(rows, ["user", "mechanism", "iterations"])
    for user in args.users:
        if user in failed:
            _output.report_error(failed[user], args.output == "json")
            return failed[user].exit_code
    return 0


def _password(args) -> bytes:
    if args.password is not None:
        return args.password.encode()
    if sys.stdin.isatty():
        return getpass.getpass(f"password for {args.user}: ").encode()
    line = sys.stdin.readline().rstrip("\n")
    if not line:
        raise _output.usage("no password: give --password or one line on stdin")
    return line.encode()


def run_create(args) -> int:
    from confluent_kafka.admin import ScramCredentialInfo, UserScramCredentialUpsertion

    if args.iterations < MIN_ITERATIONS:
        raise _output.usage(f"--iterations must be at least {MIN_ITERATIONS} (Kafka's minimum)")
    password = _password(args)
    alteration = UserScramCredentialUpsertion(args.user, ScramCredentialInfo(_mechanism(args.mechanism),
                                                                             args.iterations), password)
    return _alter(args, alteration, "set")


def run_delete(args) -> int:
    from confluent_kafka.admin import UserScramCredentialDeletion

    return _alter(args, UserScramCredentialDeletion(args.user, _mechanism(args.mechanism)), "deleted")


def _alter(args, alteration, verb: str) -> int:
    admin = _client.admin(args)
    futures = admin.alter_user_scram_credentials([alteration], request_timeout=args.timeout)
    _client.result(args, futures[args.user])
    Output(args).table([{"user": args.user, "mechanism": args.mechanism, "result": verb}],
                       ["user", "mechanism", "result"])
    return 0

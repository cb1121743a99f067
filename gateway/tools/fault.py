"""`ottla fault add|list|show|wait|remove|clear`: injected faults over the control API (--control URL).

    ottla fault add --api Produce --error NOT_LEADER_OR_FOLLOWER --count 3
    ottla fault add --api Fetch --delay-ms 500 --topic t
    ottla fault wait 1 --fired 3
"""

from __future__ import annotations

from gateway.tools import _control
from gateway.tools._output import Output

COLUMNS = ["id", "api", "error", "delay_ms", "drop_connection", "broker", "topic", "partition", "group", "client_id",
           "count", "probability", "fired"]


def register(commands) -> None:
    p = commands.add_parser("fault", help="inject errors, latency and dropped connections (control API)",
                            description="Faults of a running Ottla broker, over its control API.")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    v = _control.add_verb(verbs, "add", "inject a fault; prints its id", run_add)
    v.add_argument("--api", help="Kafka's API name (Produce, Fetch, JoinGroup ...); default: every API")
    v.add_argument("--error", help="answer with this error code (Kafka's name or number)")
    v.add_argument("--delay-ms", type=int, help="hold each matching request this long first")
    v.add_argument("--drop-connection", action="store_true", default=None, help="close the connection unanswered")
    v.add_argument("--count", type=int, help="fire at most this many times (default: until removed)")
    v.add_argument("--probability", type=float, help="fire on this share of matching requests (0-1]")
    v.add_argument("--message", help="the error_message, where the response has one")
    for name, kind in (("broker", int), ("topic", str), ("partition", int), ("group", str), ("client-id", str)):
        v.add_argument(f"--{name}", type=kind, help=f"only requests naming this {name.replace('-', ' ')}")
    _control.add_verb(verbs, "list", "every fault, with how often it fired", run_list)
    for verb, text in (("show", "one fault"), ("remove", "remove a fault")):
        v = _control.add_verb(verbs, verb, text, run_one)
        v.add_argument("id", type=int, metavar="ID")
    v = _control.add_verb(verbs, "wait", "wait until a fault fired N times (exit 3 at --timeout)", run_wait)
    v.add_argument("id", type=int, metavar="ID")
    v.add_argument("--fired", type=int, default=1, metavar="N", help="default: 1")
    _control.add_verb(verbs, "clear", "remove every fault", run_clear)


def run_add(args) -> int:
    spec = {k: getattr(args, k) for k in ("api", "error", "delay_ms", "drop_connection", "count", "probability",
                                          "message", "broker", "topic", "partition", "group", "client_id")}
    fault = _control.call(_control.client(args).add_fault, **spec)
    out = Output(args)
    if out.json:
        out.emit(fault)
    else:
        out.line(str(fault["id"]))
    return 0


def run_list(args) -> int:
    faults = _control.call(_control.client(args).faults)
    Output(args).table(faults, COLUMNS, json_value=faults)
    return 0


def run_one(args) -> int:
    client = _control.client(args)
    fault = _control.call(client.fault if args.verb == "show" else client.remove_fault, args.id)
    Output(args).record(fault)
    return 0


def run_wait(args) -> int:
    fault = _control.call(_control.client(args).wait_fault, args.id, args.fired, args.timeout)
    Output(args).record(fault)
    return 0


def run_clear(args) -> int:
    removed = _control.call(_control.client(args).clear_faults)
    Output(args).line(f"removed {len(removed)} faults")
    return 0

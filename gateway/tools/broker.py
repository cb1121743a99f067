"""`ottla broker list|stop|start|pause|resume`: a cluster's brokers over the control API (--control URL)."""

from __future__ import annotations

from gateway.tools import _control
from gateway.tools._output import Output

COLUMNS = ["id", "host", "port", "alive", "paused"]


def register(commands) -> None:
    p = commands.add_parser("broker", help="list, stop, start, pause and resume a cluster's brokers (control API)",
                            description="Brokers of a running Ottla cluster, over its control API.")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    _control.add_verb(verbs, "list", "every broker: alive, paused", run_list)
    for verb, text in (("stop", "stop a broker: its connections close, it leaves every ISR, leadership moves"),
                       ("start", "start a stopped broker again"),
                       ("pause", "hold a broker's requests unanswered, as a hung process does"),
                       ("resume", "answer a paused broker's requests again")):
        v = _control.add_verb(verbs, verb, text, run_operation)
        v.add_argument("broker", type=int, metavar="ID")


def run_list(args) -> int:
    cluster = _control.call(_control.client(args).cluster)
    Output(args).table(cluster["brokers"], COLUMNS, json_value=cluster["brokers"])
    return 0


def run_operation(args) -> int:
    state = _control.call(_control.client(args).broker, args.broker, args.verb)
    Output(args).table([state], COLUMNS, json_value=state)
    return 0

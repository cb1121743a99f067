"""`ottla leader move TOPIC PARTITION --to ID`, `ottla leader isr TOPIC PARTITION ID...` and
`ottla leader coordinator group|transaction KEY --to ID`: leadership, ISR and coordinators over the
control API (--control URL)."""

from __future__ import annotations

from gateway.tools import _control
from gateway.tools._output import Output

COLUMNS = ["topic", "partition", "leader", "leader_epoch", "replicas", "isr", "offline"]


def register(commands) -> None:
    p = commands.add_parser("leader", help="move a partition's leader, set its ISR (control API)",
                            description="Partition leadership of a running Ottla cluster, over its control API.")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    v = _control.add_verb(verbs, "move", "make a broker the partition's leader", run_move)
    v.add_argument("topic", metavar="TOPIC")
    v.add_argument("partition", type=int, metavar="PARTITION")
    v.add_argument("--to", type=int, required=True, metavar="ID", dest="broker", help="the new leader")
    v = _control.add_verb(verbs, "isr", "shrink or grow the partition's in-sync replicas", run_isr)
    v.add_argument("topic", metavar="TOPIC")
    v.add_argument("partition", type=int, metavar="PARTITION")
    v.add_argument("brokers", type=int, nargs="+", metavar="ID")
    v = _control.add_verb(verbs, "coordinator", "move the coordinator of a group or transactional id", run_coordinator)
    v.add_argument("kind", choices=("group", "transaction"))
    v.add_argument("key", metavar="KEY", help="the group id or transactional id")
    v.add_argument("--to", type=int, required=True, metavar="ID", dest="broker", help="the new coordinator")


def _show(args, state: dict) -> int:
    row = {"topic": args.topic, **state}
    Output(args).table([row], COLUMNS, json_value=row)
    return 0


def run_move(args) -> int:
    return _show(args, _control.call(_control.client(args).move_leader, args.topic, args.partition, args.broker))


def run_isr(args) -> int:
    return _show(args, _control.call(_control.client(args).set_isr, args.topic, args.partition, args.brokers))


def run_coordinator(args) -> int:
    moved = _control.call(_control.client(args).move_coordinator, args.kind, args.key, args.broker)
    Output(args).table([moved], ["kind", "key", "broker"], json_value=moved)
    return 0

"""`ottla transactions list|describe`: Kafka's kafka-transactions.sh (ListTransactions, DescribeTransactions).

confluent-kafka 2.16 has no call for these two APIs; kafka-python 3.0.12's KafkaAdminClient has both (it
asks every broker for ListTransactions and each transactional id's coordinator for DescribeTransactions, over
SASL/TLS too), so these verbs use it (gateway/tools/_kafka_python.py), configured from the same options.
"""

from __future__ import annotations

import time

from gateway.tools import _client, _output
from gateway.tools._kafka_python import admin as _admin, call as _call
from gateway.tools._output import Output

def register(commands) -> None:
    p = commands.add_parser("transactions", help="open transactions: list and describe",
                            description="Transactions: Kafka's kafka-transactions.sh (list, describe).")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    v = _client.add_verb(verbs, "list", "transactional ids the coordinators know, with their state", run_list)
    v.add_argument("--state", action="append", default=[], help="only this state (Ongoing, PrepareCommit ...)")
    v.add_argument("--producer-id", type=int, action="append", default=[], help="only this producer id")
    v.add_argument("--duration-ms", type=int, help="only transactions open longer than this (ListTransactions v1+)")
    v.add_argument("--pattern", help="only transactional ids matching this regex (ListTransactions v2+)")
    v = _client.add_verb(verbs, "describe", "state, producer id and epoch, timeout, start, partitions", run_describe)
    v.add_argument("transactional_ids", nargs="+", metavar="TRANSACTIONAL_ID")


def _state(value) -> str:
    return getattr(value, "value", str(value))


def run_list(args) -> int:
    admin = _admin(args)
    try:
        kwargs = {"state_filters": args.state or None, "producer_id_filters": args.producer_id or None}
        if args.duration_ms is not None:
            kwargs["duration_filter_ms"] = args.duration_ms
        if args.pattern is not None:
            kwargs["transactional_id_pattern"] = args.pattern
        by_broker = _call(admin.list_transactions, **kwargs)
    finally:
        admin.close()
    rows = sorted(({"transactional_id": t.transactional_id, "producer_id": t.producer_id, "state": _state(t.state),
                    "coordinator": broker} for broker, listed in by_broker.items() for t in listed),
                  key=lambda r: r["transactional_id"])
    Output(args).table(rows, ["transactional_id", "producer_id", "state", "coordinator"])
    return 0


def run_describe(args) -> int:
    admin = _admin(args)

    def describe_one(tid: str) -> dict:
        (d,) = _call(admin.describe_transactions, [tid]).values()
        started = d.transaction_start_time_ms
        return {"transactional_id": tid, "coordinator": d.coordinator_id, "state": _state(d.state),
                "producer_id": d.producer_id, "producer_epoch": d.producer_epoch,
                "timeout_ms": d.transaction_timeout_ms,
                "start_time_ms": started if started is not None and started >= 0 else None,
                "duration_ms": int(time.time() * 1000) - started if started and started > 0 else None,
                "partitions": sorted(({"topic": tp.topic, "partition": tp.partition} for tp in d.topic_partitions),
                                     key=lambda x: (x["topic"], x["partition"]))}

    def show_one(out, t: dict) -> None:  # one row each: the header once, then aligned as one table
        shown.append({**t, "partitions": ",".join(f"{p['topic']}:{p['partition']}" for p in t["partitions"])})

    shown: list[dict] = []
    try:
        code = _output.describe_each(args, args.transactional_ids, describe_one, show_one)
    finally:
        admin.close()
    if shown:
        Output(args).table(shown, ["transactional_id", "coordinator", "state", "producer_id", "producer_epoch",
                                   "timeout_ms", "duration_ms", "partitions"])
    return code

"""`ottla share-groups ...`: share groups (KIP-932). `replay-dlq` moves dead-lettered records back to their
source topic, over a running broker's admin endpoint or offline on a stopped broker's data dir."""

from __future__ import annotations

from gateway.tools import _client


def register(commands) -> None:
    p = commands.add_parser("share-groups", help="share groups (KIP-932) and their dead-letter topics",
                            description="Share groups (KIP-932).")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    replay = _client.add_verb(verbs, "replay-dlq", "move dead-lettered records back to their source topic",
                              run_replay_dlq, client=False)
    replay.add_argument("--topic", required=True, help="the dead-letter topic")
    replay.add_argument("--max", type=int, help="replay at most this many records")
    replay.add_argument("--source-topic", help="only the dead letters of this source topic")
    where = replay.add_mutually_exclusive_group(required=True)
    where.add_argument("--admin", metavar="HOST:PORT", help="a running broker's --http-port")
    where.add_argument("--data-dir", help="the data dir of a stopped broker")


def run_replay_dlq(args) -> int:
    from gateway.share.replay_cli import replay_dlq

    return replay_dlq(args)

"""What the broker serving a request answers about a partition's leadership, for the handlers of
Produce, Fetch, ListOffsets, OffsetForLeaderEpoch and DeleteRecords (and the coordinators' APIs).

On a single broker these cost one attribute check (`broker.multi` is False) and answer as before;
in a cluster they ask gateway/cluster.py.
"""

from __future__ import annotations

from wire.errors import ErrorCode

# the errors after which Kafka's Produce/Fetch responses carry the current leader (KIP-951)
LEADER_HINT_ERRORS = frozenset((ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.FENCED_LEADER_EPOCH))


def partition_error(ctx, log, current_leader_epoch: int = -1, *, follower_ok: bool = False) -> ErrorCode:
    """NONE, or why ctx.node may not serve this partition: NOT_LEADER_OR_FOLLOWER (not its leader,
    or not even a replica), FENCED_LEADER_EPOCH (the client's epoch is older), UNKNOWN_LEADER_EPOCH
    (newer)."""
    broker = ctx.broker
    if broker.multi and ctx.node is not None:
        return broker.leader_error(ctx.node, log, current_leader_epoch, follower_ok=follower_ok)
    if current_leader_epoch > log.leader_epoch:
        return ErrorCode.UNKNOWN_LEADER_EPOCH
    if 0 <= current_leader_epoch < log.leader_epoch:
        return ErrorCode.FENCED_LEADER_EPOCH
    return ErrorCode.NONE


def current_leader(ctx, log, endpoints: dict) -> dict:
    """The KIP-951 {leader_id, leader_epoch} hint; the leader's address goes into `endpoints`
    (node id -> NodeEndpoint entry) for the response's node_endpoints."""
    broker = ctx.broker
    if not broker.multi:
        return {"leader_id": broker.node_id, "leader_epoch": log.leader_epoch}
    hint, node = broker.leader_hint(log)
    if node is not None and node.node_id not in endpoints:
        host, port = node.address(ctx.listener_name)
        endpoints[node.node_id] = {"node_id": node.node_id, "host": host, "port": port, "rack": None}
    return hint


def isr_size(ctx, log) -> int:
    broker = ctx.broker
    return len(broker.state(log).isr) if broker.multi else 1


def isr_text(ctx, log) -> str:
    broker = ctx.broker
    return ",".join(str(r) for r in broker.state(log).isr) if broker.multi else str(broker.node_id)

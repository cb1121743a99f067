"""What the broker serving a request answers about a partition's leadership, for the handlers of
Produce, Fetch, ListOffsets, OffsetForLeaderEpoch and DeleteRecords (and the coordinators' APIs).

On a single broker these cost one attribute check (`broker.multi` is False) and answer as before;
in a cluster they ask gateway/cluster.py.
"""

from __future__ import annotations

import asyncio

from gateway.long_poll import wait_for_any
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


async def wait_for_followers(ctx, responses: list[dict], timeout_ms: int) -> None:
    """acks=all in a cluster: an appended partition whose ISR holds a paused (hung) follower is not
    acknowledged until the follower resumes, or until replica.lag.time.max.ms passes (or it is fenced:
    broker.session.timeout.ms) and it leaves the ISR: then NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR fell below min.insync.replicas (Kafka's
    DelayedProduce), REQUEST_TIMED_OUT if the request's timeout comes first."""
    cluster = ctx.broker
    waiting = []
    for topic_response in responses:
        topic = cluster.logs.get(topic_response["name"])
        for result in topic_response["partition_responses"] if topic is not None else ():
            log = topic.partition(result["index"]) if result["error_code"] == ErrorCode.NONE else None
            if log is not None and cluster.paused_followers(log):
                waiting.append((log, result))
    if not waiting:
        return
    loop = asyncio.get_running_loop()
    start = loop.time()
    lag_s = (cluster.configs.broker("replica.lag.time.max.ms") or 30000) / 1000
    timeout_s = max(timeout_ms, 0) / 1000
    while waiting:
        elapsed = loop.time() - start
        if elapsed >= timeout_s and timeout_s < lag_s:
            for _, result in waiting:
                result["error_code"] = ErrorCode.REQUEST_TIMED_OUT
            return
        if elapsed >= lag_s:
            for log, result in waiting:
                cluster.shrink_isr(log, cluster.paused_followers(log))
                if len(cluster.state(log).isr) < log.topic.min_insync_replicas:
                    result["error_code"] = ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND
                    result["error_message"] = (f"The number of in-sync replicas of {log} fell below "
                                               f"min.insync.replicas={log.topic.min_insync_replicas} after the append")
            return
        nodes = [cluster.nodes[n] for n in {n for log, _ in waiting for n in cluster.paused_followers(log)}]
        await wait_for_any([node.on_resume for node in nodes] + [node.on_fenced for node in nodes],
                           min(timeout_s, lag_s) - elapsed)
        still = []
        for log, result in waiting:
            if cluster.paused_followers(log):
                still.append((log, result))
            elif len(cluster.state(log).isr) < log.topic.min_insync_replicas:  # a fenced follower left the ISR
                result["error_code"] = ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND
                result["error_message"] = (f"The number of in-sync replicas of {log} fell below "
                                           f"min.insync.replicas={log.topic.min_insync_replicas} after the append")
        waiting = still

"""DescribeQuorum (key 55): v0-2. The KRaft quorum of `__cluster_metadata`-0 as Kafka describes a
single combined broker+controller node: this node is the one voter and the leader, with no observers.

Ottla keeps no metadata log, so the leader epoch is 1 and the high watermark / log end offset are
0. Anything but exactly `__cluster_metadata` partition 0 is UNKNOWN_TOPIC_OR_PARTITION for that
partition, as KafkaRaftClient answers. v1 adds the fetch and caught-up timestamps (now, for the
leader), v2 the voter's directory id and its endpoint.
"""

import uuid

from gateway.clock import now_ms
from gateway.registry import handles
from wire.errors import ErrorCode

METADATA_TOPIC = "__cluster_metadata"
LEADER_EPOCH = 1
UNKNOWN_MESSAGE = "This server does not host this topic-partition."


def directory_id(broker) -> bytes:
    """A stable directory id for this node's (only) log dir."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"ottla:{broker.cluster_id}:{broker.node_id}").bytes


# Kafka's success answers leave ErrorMessage at its generated default, "" (never null; the field has no "default")
def _error(code, message) -> dict:
    return {"error_code": ErrorCode.NONE, "error_message": "", "nodes": [], "topics": [
        {"topic_name": METADATA_TOPIC, "partitions": [
            {"partition_index": 0, "error_code": code, "error_message": message, "leader_id": -1,
             "leader_epoch": -1, "high_watermark": -1, "current_voters": [], "observers": []}]}]}


@handles(55, 0, 2)
async def handle_describe_quorum(ctx, request):
    broker = ctx.broker
    topics = request.topics
    if len(topics) != 1 or topics[0].topic_name != METADATA_TOPIC or len(topics[0].partitions) != 1 \
            or topics[0].partitions[0].partition_index != 0:
        return _error(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_MESSAGE)
    now = now_ms()
    voter = {"replica_id": broker.node_id, "replica_directory_id": directory_id(broker), "log_end_offset": 0,
             "last_fetch_timestamp": now, "last_caught_up_timestamp": now}
    return {"error_code": ErrorCode.NONE, "error_message": "", "topics": [
        {"topic_name": METADATA_TOPIC, "partitions": [
            {"partition_index": 0, "error_code": ErrorCode.NONE, "error_message": "",
             "leader_id": broker.node_id, "leader_epoch": LEADER_EPOCH, "high_watermark": 0,
             "current_voters": [voter], "observers": []}]}],
        "nodes": [{"node_id": broker.node_id, "listeners": [
            {"name": "PLAINTEXT", "host": broker.host, "port": broker.port}]}]}

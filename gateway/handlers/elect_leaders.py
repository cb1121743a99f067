"""ElectLeaders (key 43): v0-2. A single broker is every partition's only replica, so it is always the
preferred leader and a leader exists: every election is ELECTION_NOT_NEEDED, as Kafka answers when
the preferred leader already leads (ReplicationControlManager.electLeaders). In a cluster
(gateway/cluster.py `elect`) a preferred election moves leadership to the first replica
(PREFERRED_LEADER_NOT_AVAILABLE when it is stopped or out of sync) and an unclean one elects a live
replica of an offline partition (ELIGIBLE_LEADERS_NOT_AVAILABLE when none).

topic_partitions null means every partition, and then (as in Kafka) partitions needing no election
are left out of the results. Unknown topics/partitions: UNKNOWN_TOPIC_OR_PARTITION with Kafka's
message. An election_type other than 0 (preferred) or 1 (unclean) is INVALID_REQUEST.
"""

from gateway.limits import fit_message
from gateway.registry import handles
from wire.errors import ErrorCode

PREFERRED, UNCLEAN = 0, 1


def _result(broker, name: str, index: int, unclean: bool = False) -> dict:
    topic = broker.logs.get(name)
    if topic is None:
        code, message = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"No such topic as {name}"
    elif topic.partition(index) is None:
        code, message = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"No such partition as {name}-{index}"
    elif broker.multi:
        code, message = broker.elect(topic.partition(index), unclean)
    else:
        code, message = ErrorCode.ELECTION_NOT_NEEDED, None
    return {"partition_id": index, "error_code": code, "error_message": fit_message(message)}  # may quote a long name


@handles(43, 0, 2)
async def handle_elect_leaders(ctx, request):
    broker = ctx.broker
    logs = broker.logs
    election_type = request.get("election_type", PREFERRED)
    if election_type not in (PREFERRED, UNCLEAN):
        message = f"Unknown election type {election_type}"
        return {"throttle_time_ms": 0, "error_code": ErrorCode.INVALID_REQUEST, "replica_election_results": [
            {"topic": t.topic, "partition_result": [
                {"partition_id": p, "error_code": ErrorCode.INVALID_REQUEST, "error_message": message}
                for p in t.partitions]} for t in request.topic_partitions or []]}
    unclean = election_type == UNCLEAN
    if request.topic_partitions is None:
        results = [{"topic": name, "partition_result": [r for r in (
            _result(broker, name, i, unclean) for i in range(len(topic.partitions)) if broker.multi)
            if r["error_code"] != ErrorCode.ELECTION_NOT_NEEDED]} for name, topic in list(logs.topics.items())]
    else:
        results = [{"topic": t.topic, "partition_result": [_result(broker, t.topic, p, unclean) for p in t.partitions]}
                   for t in request.topic_partitions]
    return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "replica_election_results": results}

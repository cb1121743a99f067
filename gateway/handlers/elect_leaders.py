"""ElectLeaders (key 43): v0-2. This broker is every partition's only replica, so it is always the
preferred leader and a leader exists: every election is ELECTION_NOT_NEEDED, as Kafka answers when
the preferred leader already leads (ReplicationControlManager.electLeaders).

topic_partitions null means every partition, and then (as in Kafka) partitions needing no election
are left out of the results. Unknown topics/partitions: UNKNOWN_TOPIC_OR_PARTITION with Kafka's
message. An election_type other than 0 (preferred) or 1 (unclean) is INVALID_REQUEST.
"""

from gateway.limits import fit_message
from gateway.registry import handles
from wire.errors import ErrorCode

PREFERRED, UNCLEAN = 0, 1


def _result(logs, name: str, index: int) -> dict:
    topic = logs.get(name)
    if topic is None:
        code, message = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"No such topic as {name}"
    elif topic.partition(index) is None:
        code, message = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"No such partition as {name}-{index}"
    else:
        code, message = ErrorCode.ELECTION_NOT_NEEDED, None
    return {"partition_id": index, "error_code": code, "error_message": fit_message(message)}  # may quote a long name


@handles(43, 0, 2)
async def handle_elect_leaders(ctx, request):
    logs = ctx.broker.logs
    election_type = request.get("election_type", PREFERRED)
    if election_type not in (PREFERRED, UNCLEAN):
        message = f"Unknown election type {election_type}"
        return {"throttle_time_ms": 0, "error_code": ErrorCode.INVALID_REQUEST, "replica_election_results": [
            {"topic": t.topic, "partition_result": [
                {"partition_id": p, "error_code": ErrorCode.INVALID_REQUEST, "error_message": message}
                for p in t.partitions]} for t in request.topic_partitions or []]}
    if request.topic_partitions is None:
        results = [{"topic": name, "partition_result": []} for name in logs.topics]
    else:
        results = [{"topic": t.topic, "partition_result": [_result(logs, t.topic, p) for p in t.partitions]}
                   for t in request.topic_partitions]
    return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "replica_election_results": results}

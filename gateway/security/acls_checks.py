"""Small shared pieces of the per-API checks (KafkaApis' filterByAuthorized patterns) that would
otherwise be copied into several handlers. Every function here costs one attribute check when no
authorizer is configured.
"""

from __future__ import annotations

from gateway.security.acls import Operation, ResourceType
from wire.errors import ErrorCode

TOPIC_DENIED = ErrorCode.TOPIC_AUTHORIZATION_FAILED


def restrict_offsets(ctx, response: dict, listed_all: bool) -> None:
    """OffsetFetch / DescribeShareGroupOffsets: committed offsets of a topic the principal may not
    DESCRIBE are answered TOPIC_AUTHORIZATION_FAILED when asked for by name, and left out of an
    "all topics" answer."""
    if ctx.broker.authorizer is None:
        return
    denied = ctx.denied(Operation.DESCRIBE, ResourceType.TOPIC, {t["name"] for t in response["topics"]})
    if not denied:
        return
    if listed_all:
        response["topics"] = [t for t in response["topics"] if t["name"] not in denied]
        return
    for t in response["topics"]:
        if t["name"] in denied:
            for p in t["partitions"]:
                p.update(committed_offset=-1, committed_leader_epoch=-1, metadata="", error_code=TOPIC_DENIED)


def topic_errors(topics, denied, name=lambda t: t.name, partitions=lambda t: t.partitions,
                 index=lambda p: p.partition_index) -> dict:
    """{(topic, partition): TOPIC_AUTHORIZATION_FAILED} for the requested partitions of denied topics."""
    return {(name(t), index(p)): TOPIC_DENIED for t in topics if name(t) in denied for p in partitions(t)}


class Everything(dict):
    """An errors map answering one code for every key (a request refused as a whole)."""

    def __init__(self, code) -> None:
        super().__init__()
        self.code = code

    def __missing__(self, key):
        return self.code


def visible_groups(ctx, groups: list[dict]) -> list[dict]:
    """ListGroups without CLUSTER DESCRIBE: only the groups the principal may DESCRIBE."""
    allowed = ctx.authorized(Operation.DESCRIBE, ResourceType.GROUP, [g["group_id"] for g in groups])
    return [g for g in groups if g["group_id"] in allowed]


def in_request_order(group_ids, answered: list[dict], denied, what: str) -> list[dict]:
    """Per-group answers in request order, the denied groups answered GROUP_AUTHORIZATION_FAILED."""
    by_id = {g["group_id"]: g for g in answered}
    refusal = {"error_code": ErrorCode.GROUP_AUTHORIZATION_FAILED}
    if what == "groups":
        refusal["error_message"] = None
    return [{**refusal, "group_id": g} if g in denied else by_id[g] for g in group_ids if g in denied or g in by_id]


# ConfigResource types -> the ACL resource their configs are checked on (KafkaApis' configs authorization)
_CONFIG_TOPIC, _CONFIG_BROKER, _CONFIG_BROKER_LOGGER, _CONFIG_CLIENT_METRICS, _CONFIG_GROUP = 2, 4, 8, 16, 32
_CONFIG_RESOURCES = {_CONFIG_TOPIC: (ResourceType.TOPIC, ErrorCode.TOPIC_AUTHORIZATION_FAILED),
                     _CONFIG_GROUP: (ResourceType.GROUP, ErrorCode.GROUP_AUTHORIZATION_FAILED)}
_ON_CLUSTER = (ResourceType.CLUSTER, ErrorCode.CLUSTER_AUTHORIZATION_FAILED)


def config_refusal(ctx, resource_type: int, name: str, operation: int):
    """The error for a config resource the principal may not DESCRIBE_CONFIGS / ALTER_CONFIGS, or None:
    topics and groups are checked by name; brokers, broker loggers and client-metrics subscriptions on
    the cluster."""
    if ctx.broker.authorizer is None:
        return None
    acl_type, code = _CONFIG_RESOURCES.get(resource_type, _ON_CLUSTER)
    if ctx.authorize(operation, acl_type, name if acl_type != ResourceType.CLUSTER else "kafka-cluster"):
        return None
    return code


def describe_transaction(ctx, txn, transactional_id: str) -> dict:
    """DescribeTransactions: TRANSACTIONAL_ID DESCRIBE, and only the topics the principal may DESCRIBE."""
    if not ctx.authorize(Operation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, transactional_id):
        return {"error_code": ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, "transactional_id": transactional_id,
                "transaction_state": "", "transaction_timeout_ms": 0, "transaction_start_time_ms": -1,
                "producer_id": -1, "producer_epoch": -1, "topics": []}
    state = txn.describe(transactional_id)
    if ctx.broker.authorizer is not None:
        allowed = ctx.authorized(Operation.DESCRIBE, ResourceType.TOPIC, [t["topic"] for t in state["topics"]])
        state["topics"] = [t for t in state["topics"] if t["topic"] in allowed]
    return state

"""DescribeAcls (key 29): v1-3, CreateAcls (key 30): v1-3, DeleteAcls (key 31): v1-3.

As Kafka's AclApis: with no authorizer every answer is SECURITY_DISABLED; DescribeAcls needs CLUSTER
DESCRIBE, CreateAcls and DeleteAcls CLUSTER ALTER (else CLUSTER_AUTHORIZATION_FAILED everywhere).
Creations are validated one by one (AclControlManager.validateNewAcl) and stored together; a binding
that exists already is a success. Changes persist in the state store and reach the next check at once.
"""

from __future__ import annotations

from collections import defaultdict

from gateway.limits import fit_message
from gateway.registry import handles
from gateway.security.acls import AclFilter, Operation, new_binding
from wire.errors import ErrorCode, KafkaError

NO_AUTHORIZER = "No Authorizer is configured on the broker"


def _refusal(ctx, operation: int) -> tuple[int, str | None] | None:
    if ctx.broker.authorizer is None:
        return ErrorCode.SECURITY_DISABLED, NO_AUTHORIZER
    if not ctx.authorize_cluster(operation):
        return ErrorCode.CLUSTER_AUTHORIZATION_FAILED, None
    return None


def _filter(f) -> AclFilter:
    return AclFilter.of(f.resource_type_filter, f.resource_name_filter, f.pattern_type_filter, f.principal_filter,
                        f.host_filter, f.operation, f.permission_type)


@handles(29, 1, 3)
async def handle_describe_acls(ctx, request):
    refused = _refusal(ctx, Operation.DESCRIBE)
    if refused is not None:
        return {"throttle_time_ms": 0, "error_code": refused[0], "error_message": refused[1], "resources": []}
    try:
        acl_filter = _filter(request)
    except KafkaError as exc:
        return {"throttle_time_ms": 0, "error_code": exc.code, "error_message": fit_message(exc.message),
                "resources": []}
    by_resource: dict[tuple, list] = defaultdict(list)
    for b in ctx.broker.authorizer.acls.matching(acl_filter):
        by_resource[(b.resource_type, b.resource_name, b.pattern_type)].append(
            {"principal": b.principal, "host": b.host, "operation": b.operation, "permission_type": b.permission})
    return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "error_message": None, "resources": [
        {"resource_type": t, "resource_name": n, "pattern_type": p, "acls": acls}
        for (t, n, p), acls in by_resource.items()]}


@handles(30, 1, 3)
async def handle_create_acls(ctx, request):
    refused = _refusal(ctx, Operation.ALTER)
    if refused is not None:
        return {"throttle_time_ms": 0, "results": [
            {"error_code": refused[0], "error_message": refused[1]} for _ in request.creations]}
    results, valid = [], []
    for creation in request.creations:
        try:
            valid.append(new_binding(creation))
            results.append({"error_code": ErrorCode.NONE, "error_message": None})
        except KafkaError as exc:
            results.append({"error_code": exc.code, "error_message": fit_message(exc.message)})
    ctx.broker.authorizer.acls.add(valid)
    ctx.log.info("acls_created", principal=ctx.principal, acls=[b.describe() for b in valid],
                 refused=sum(1 for r in results if r["error_code"]))
    return {"throttle_time_ms": 0, "results": results}


@handles(31, 1, 3)
async def handle_delete_acls(ctx, request):
    refused = _refusal(ctx, Operation.ALTER)
    if refused is not None:
        return {"throttle_time_ms": 0, "filter_results": [
            {"error_code": refused[0], "error_message": refused[1], "matching_acls": []} for _ in request.filters]}
    acls = ctx.broker.authorizer.acls
    filter_results, deleted = [], []
    for f in request.filters:
        try:
            matching = acls.matching(_filter(f))
        except KafkaError as exc:
            filter_results.append({"error_code": exc.code, "error_message": fit_message(exc.message),
                                   "matching_acls": []})
            continue
        acls.remove(matching)
        deleted.extend(matching)
        filter_results.append({"error_code": ErrorCode.NONE, "error_message": None, "matching_acls": [
            {"error_code": ErrorCode.NONE, "error_message": None, "resource_type": b.resource_type,
             "resource_name": b.resource_name, "pattern_type": b.pattern_type, "principal": b.principal,
             "host": b.host, "operation": b.operation, "permission_type": b.permission} for b in matching]})
    ctx.log.info("acls_deleted", principal=ctx.principal, acls=[b.describe() for b in deleted])
    return {"throttle_time_ms": 0, "filter_results": filter_results}

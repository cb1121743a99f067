"""DescribeUserScramCredentials (key 50): v0 and AlterUserScramCredentials (key 51): v0 (KIP-554).

Credentials are `broker.credentials` (gateway/security/credentials.py): the broker derives StoredKey and
ServerKey from the upserted salted password and keeps those with the salt and iteration count, in the
state store. As Kafka's controller: per-user results; a user's alterations apply all or none; a user
or a (user, mechanism) named twice is DUPLICATE_RESOURCE; iterations outside 4096-16384 are
UNACCEPTABLE_CREDENTIAL; an unknown mechanism UNSUPPORTED_SASL_MECHANISM; describing or deleting a
credential that does not exist RESOURCE_NOT_FOUND. Authorization as Kafka: DESCRIBE on the cluster to
describe, ALTER on the cluster to alter, else CLUSTER_AUTHORIZATION_FAILED for every user named.
"""

from gateway.registry import handles
from gateway.security.acl_codes import Operation
from gateway.security.credentials import (
    DEFAULT_ITERATIONS,
    MAX_ITERATIONS,
    MECHANISM_TYPES,
    MECHANISMS_BY_TYPE,
    credential_from_salted,
)
from wire.errors import ErrorCode


@handles(50, 0, 0)
async def handle_describe_user_scram_credentials(ctx, request):
    credentials = ctx.broker.credentials
    results = []
    if not ctx.authorize_cluster(Operation.DESCRIBE):
        denied = ErrorCode.CLUSTER_AUTHORIZATION_FAILED
        message = "Cluster authorization failed."
        return {"throttle_time_ms": 0, "error_code": denied, "error_message": message,
                "results": [{"user": u.name, "error_code": denied, "error_message": message, "credential_infos": []}
                            for u in request.users or []]}
    if not request.users:
        for user in credentials.users():
            results.append(_described(user, credentials))
        return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "error_message": "", "results": results}
    names = [u.name for u in request.users]
    seen = set()
    for name in names:
        if name in seen:
            continue
        seen.add(name)
        if names.count(name) > 1:
            results.append({"user": name, "error_code": ErrorCode.DUPLICATE_RESOURCE, "credential_infos": [],
                            "error_message": "Cannot describe SCRAM credentials for the same user twice in a "
                                             f"single request: {name}"})
        elif not credentials.describe(name):
            results.append({"user": name, "error_code": ErrorCode.RESOURCE_NOT_FOUND, "credential_infos": [],
                            "error_message": f"Attempt to describe a user credential that does not exist: {name}"})
        else:
            results.append(_described(name, credentials))
    return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "error_message": "", "results": results}


def _described(user, credentials) -> dict:
    return {"user": user, "error_code": ErrorCode.NONE, "error_message": "",
            "credential_infos": [{"mechanism": MECHANISM_TYPES[m], "iterations": i}
                                 for m, i in credentials.describe(user)]}


def _check(name, mechanism_type, credentials, deletion: bool, upsertion=None):
    if not name:
        return ErrorCode.UNACCEPTABLE_CREDENTIAL, "Username must not be empty"
    mechanism = MECHANISMS_BY_TYPE.get(mechanism_type)
    if mechanism is None:
        return ErrorCode.UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism"
    if deletion and credentials.scram(mechanism, name) is None:
        return ErrorCode.RESOURCE_NOT_FOUND, "Attempt to delete a user credential that does not exist"
    if upsertion is not None:
        if upsertion.iterations < DEFAULT_ITERATIONS:
            return ErrorCode.UNACCEPTABLE_CREDENTIAL, "Too few iterations"
        if upsertion.iterations > MAX_ITERATIONS:
            return ErrorCode.UNACCEPTABLE_CREDENTIAL, "Too many iterations"
        if not upsertion.salt or not upsertion.salted_password:
            return ErrorCode.UNACCEPTABLE_CREDENTIAL, "Salt and salted password must not be empty"
    return None


@handles(51, 0, 0)
async def handle_alter_user_scram_credentials(ctx, request):
    credentials = ctx.broker.credentials
    if not ctx.authorize_cluster(Operation.ALTER):
        names = dict.fromkeys(item.name for item in [*request.deletions, *request.upsertions])
        return {"throttle_time_ms": 0, "results": [
            {"user": name, "error_code": ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
             "error_message": "Cluster authorization failed."} for name in names]}
    order: list[str] = []
    errors: dict[str, tuple] = {}
    changes: dict[str, list] = {}
    seen: set[tuple[str, int]] = set()
    items = [(d, True) for d in request.deletions] + [(u, False) for u in request.upsertions]
    for item, deletion in items:
        name = item.name
        if name not in changes:
            order.append(name)
            changes[name] = []
        if (name, item.mechanism) in seen:
            errors.setdefault(name, (ErrorCode.DUPLICATE_RESOURCE,
                                     "A user credential cannot be altered twice in the same request"))
            continue
        seen.add((name, item.mechanism))
        error = _check(name, item.mechanism, credentials, deletion, None if deletion else item)
        if error is not None:
            errors.setdefault(name, error)
        changes[name].append((item, deletion))
    results = []
    for name in order:
        if name in errors:
            code, message = errors[name]
            ctx.log.info("scram_credentials_refused", user=name, error=code.name, reason=message)
            results.append({"user": name, "error_code": code, "error_message": message})
            continue
        for item, deletion in changes[name]:
            mechanism = MECHANISMS_BY_TYPE[item.mechanism]
            if deletion:
                credentials.delete(name, mechanism)
            else:
                credentials.put(name, mechanism, credential_from_salted(
                    mechanism, bytes(item.salted_password), bytes(item.salt), item.iterations))
        ctx.log.info("scram_credentials_altered", user=name,
                     deleted=[MECHANISMS_BY_TYPE[i.mechanism] for i, d in changes[name] if d],
                     upserted=[MECHANISMS_BY_TYPE[i.mechanism] for i, d in changes[name] if not d])
        results.append({"user": name, "error_code": ErrorCode.NONE, "error_message": None})
    return {"throttle_time_ms": 0, "results": results}

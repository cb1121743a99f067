"""Delegation tokens: CreateDelegationToken (key 38): v1-3, RenewDelegationToken (39): v1-2,
ExpireDelegationToken (40): v1-2, DescribeDelegationToken (41): v1-3. No token is ever issued.

Kafka answers DELEGATION_TOKEN_REQUEST_NOT_ALLOWED to a connection that is not authenticated
(PLAINTEXT, KafkaApis.allowTokenRequests) and DELEGATION_TOKEN_AUTH_DISABLED when tokens are not
configured (no delegation.token.secret.key): Ottla issues no tokens, so a SASL- or mTLS-authenticated
connection gets the latter, an anonymous one the former. The owner and requester are then the
anonymous principal, User:ANONYMOUS, and every timestamp is -1 (DelegationTokenManager.ErrorTimestamp).
"""

from gateway.registry import handles
from wire.errors import ErrorCode

ERROR_TIMESTAMP = -1
ANONYMOUS = ("User", "ANONYMOUS")


def _refusal(ctx) -> ErrorCode:
    principal = getattr(ctx, "principal", None)
    authenticated = principal not in (None, "", "User:ANONYMOUS", ANONYMOUS)
    return ErrorCode.DELEGATION_TOKEN_AUTH_DISABLED if authenticated else ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED


@handles(38, 1, 3)
async def handle_create_delegation_token(ctx, request):
    owner = ANONYMOUS
    if request.get("owner_principal_name"):
        owner = (request.owner_principal_type or "", request.owner_principal_name)
    return {"error_code": _refusal(ctx), "principal_type": owner[0], "principal_name": owner[1],
            "token_requester_principal_type": ANONYMOUS[0], "token_requester_principal_name": ANONYMOUS[1],
            "issue_timestamp_ms": ERROR_TIMESTAMP, "expiry_timestamp_ms": ERROR_TIMESTAMP,
            "max_timestamp_ms": ERROR_TIMESTAMP, "token_id": "", "hmac": b"", "throttle_time_ms": 0}


@handles(39, 1, 2)
async def handle_renew_delegation_token(ctx, request):
    return {"error_code": _refusal(ctx), "expiry_timestamp_ms": ERROR_TIMESTAMP, "throttle_time_ms": 0}


@handles(40, 1, 2)
async def handle_expire_delegation_token(ctx, request):
    return {"error_code": _refusal(ctx), "expiry_timestamp_ms": ERROR_TIMESTAMP, "throttle_time_ms": 0}


@handles(41, 1, 3)
async def handle_describe_delegation_token(ctx, request):
    return {"error_code": _refusal(ctx), "tokens": [], "throttle_time_ms": 0}

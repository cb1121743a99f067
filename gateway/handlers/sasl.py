"""SaslHandshake (key 17): v0-1 and SaslAuthenticate (key 36): v0-2.

Served on SASL listeners by the connection's `SaslSession` (gateway/security/sasl.py). v0 of the
handshake is followed by bare tokens (the pipeline hands them to the session); v1 by SaslAuthenticate.
SaslAuthenticate v1 adds session_lifetime_ms (KIP-368). On a listener without SASL, or after
authentication without a new handshake, Kafka's KafkaApis answers ILLEGAL_SASL_STATE and keeps the
connection; a failed handshake or authentication is answered, then the connection is closed.
"""

from gateway.registry import handles
from wire.errors import ErrorCode


@handles(17, 0, 1)
async def handle_sasl_handshake(ctx, request):
    session = ctx.sasl
    if session is None:
        ctx.log.info("sasl_handshake_refused", reason="not a SASL listener", mechanism=request.mechanism)
        return {"error_code": ErrorCode.ILLEGAL_SASL_STATE, "mechanisms": []}
    error = session.handshake(request.mechanism, ctx.api_version)
    if error != ErrorCode.NONE:
        ctx.log.warning("sasl_handshake_failed", mechanism=request.mechanism, error=error.name,
                        reason=session.failure)
    return {"error_code": error, "mechanisms": list(session.mechanisms)}


@handles(36, 0, 2)
async def handle_sasl_authenticate(ctx, request):
    session = ctx.sasl
    if session is None or session.state == "COMPLETE":
        return {"error_code": ErrorCode.ILLEGAL_SASL_STATE, "error_message": "SaslAuthenticate request received "
                "after successful authentication" if session else "SASL is not enabled on this listener",
                "auth_bytes": b"", "session_lifetime_ms": 0}
    error, message, token, lifetime = session.authenticate(bytes(request.auth_bytes))
    if error != ErrorCode.NONE:
        ctx.log.warning("sasl_authentication_failed", mechanism=session.mechanism, error=error.name, reason=message)
    elif session.state == "COMPLETE":
        ctx.log.info("sasl_authenticated", mechanism=session.mechanism, principal=session.principal,
                     session_lifetime_ms=lifetime)
    return {"error_code": error, "error_message": message, "auth_bytes": token, "session_lifetime_ms": lifetime}

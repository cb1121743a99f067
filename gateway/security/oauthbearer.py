"""SASL/OAUTHBEARER (RFC 7628) with unsecured JWS tokens, as Kafka's OAuthBearerUnsecuredValidatorCallbackHandler
accepts them (for development: nothing is signed).

    client-first  n,[a=authzid],\x01auth=Bearer <header>.<payload>.\x01[key=value\x01]*\x01

The token's header must say "alg": "none" and its signature be empty; the payload must carry the
principal claim "sub" (a non-empty string) and "exp" (seconds, not in the past); "iat", when present,
must not be in the future. On a bad token the server answers RFC 7628's error challenge
{"status":"invalid_token"}; the client acknowledges it with a lone \x01 and the exchange fails.
The session's lifetime is the token's: with connections.max.reauth.ms the client re-authenticates
before "exp" (KIP-368).
"""

from __future__ import annotations

import base64
import json
import re

from gateway.security.mechanism import SaslFailure

_CLIENT_FIRST = re.compile(rb"n,(?:a=(?P<authzid>[^,]*))?,\x01(?P<kvpairs>(?:[A-Za-z]+=[\x21-\x7e \t\r\n]*\x01)*)\x01")
_ERROR_CHALLENGE = b'{"status":"invalid_token"}'


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _json_part(part: str, what: str) -> dict:
    try:
        value = json.loads(_b64url(part))
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"the token's {what} is not base64url-encoded JSON") from None
    if not isinstance(value, dict):
        raise ValueError(f"the token's {what} is not a JSON object")
    return value


def validate(token: str, now_ms: int) -> tuple[str, int]:
    """(principal, expiry ms) of an unsecured JWS; ValueError saying what is wrong."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("an unsecured JWS has three dot-separated parts")
    if parts[2]:
        raise ValueError("an unsecured JWS must not have a signature")
    header = _json_part(parts[0], "header")
    claims = _json_part(parts[1], "payload")
    if header.get("alg") != "none":
        raise ValueError('the token\'s header must say "alg": "none"')
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip():
        raise ValueError("the principal claim sub is missing or empty")
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        raise ValueError("the required claim exp is missing or not a number")
    expiry_ms = int(exp * 1000)
    if expiry_ms <= now_ms:
        raise ValueError("the token's exp claim is in the past")
    iat = claims.get("iat")
    if iat is not None:
        if isinstance(iat, bool) or not isinstance(iat, (int, float)):
            raise ValueError("the iat claim is not a number")
        if iat * 1000 > now_ms:
            raise ValueError("the token's iat claim is in the future")
    return subject, expiry_ms


class OAuthBearerServer:
    mechanism = "OAUTHBEARER"

    def __init__(self, now_ms) -> None:
        self._now_ms = now_ms
        self.principal: str | None = None
        self.complete = False
        self.lifetime_ms: int | None = None  # the token's expiry (epoch ms)
        self._error: str | None = None  # an error challenge was sent: the next message fails

    def step(self, token: bytes) -> bytes:
        if self._error is not None:
            error, self._error = self._error, None
            raise SaslFailure(f"Authentication failed: {error}")  # (the client's \x01 acknowledgement)
        if self.complete:
            raise SaslFailure("Authentication failed: unexpected OAUTHBEARER message after authentication")
        match = _CLIENT_FIRST.fullmatch(token)
        if match is None:
            raise SaslFailure("Invalid OAUTHBEARER client first message")
        pairs = dict(p.split(b"=", 1) for p in match.group("kvpairs").split(b"\x01") if p)
        auth = pairs.get(b"auth", b"").decode("ascii", "replace")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise SaslFailure("Invalid OAUTHBEARER client first message: no auth=Bearer <token>")
        try:
            subject, expiry_ms = validate(value.strip(), self._now_ms())
        except ValueError as exc:
            self._error = str(exc)
            return _ERROR_CHALLENGE
        authzid = match.group("authzid")
        if authzid and authzid.decode("utf-8", "replace") != subject:
            raise SaslFailure("Authentication failed: the authorization id does not match the token's principal")
        self.principal = subject
        self.lifetime_ms = expiry_ms
        self.complete = True
        return b""

"""One connection's SASL state, as Kafka's SaslServerAuthenticator (sans-IO; the clock is passed in).

    HANDSHAKE     ApiVersions and SaslHandshake only (anything else: the connection is closed)
    AUTHENTICATE  SaslAuthenticate only (handshake v1+); the mechanism's tokens in its auth_bytes
    RAW           handshake v0: the next frames are bare SASL tokens, answered with bare frames
    COMPLETE      everything is served, as `principal`; a SaslHandshake starts a KIP-368
                  re-authentication (same mechanism and principal, or the connection fails)
    FAILED        the failure's response is sent, then the connection is closed

With `connections.max.reauth.ms` (or a credential that expires, OAUTHBEARER) the session has a lifetime,
told to the client in SaslAuthenticate v1+'s session_lifetime_ms; a request other than SaslHandshake
after it ends closes the connection (Kafka: "expired session").
"""

from __future__ import annotations

from typing import Callable

from gateway.security.mechanism import SaslFailure, server_for
from wire.errors import ErrorCode

API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE = 18, 17, 36
HANDSHAKE, AUTHENTICATE, RAW, COMPLETE, FAILED = "HANDSHAKE", "AUTHENTICATE", "RAW", "COMPLETE", "FAILED"
_BEFORE_AUTH = frozenset({API_VERSIONS, SASL_HANDSHAKE})
MAX_RECEIVE_SIZE = 524288  # Kafka's sasl.server.max.receive.size: the largest frame before authentication


class SaslSession:
    def __init__(self, credentials, mechanisms: tuple[str, ...], reauth_ms: int, now_ms: Callable[[], int],
                 on_authenticated: Callable[[str], None] | None = None) -> None:
        self.credentials = credentials
        self.mechanisms = tuple(mechanisms)
        self.reauth_ms = reauth_ms
        self.now_ms = now_ms
        self.on_authenticated = on_authenticated
        self.state = HANDSHAKE
        self.mechanism: str | None = None
        self.user: str | None = None  # the authenticated user name (principal User:<user>)
        self.expires_ms: int | None = None  # the session's end (epoch ms), None: never
        self.failure: str | None = None
        self.reauthenticating = False
        self._server = None

    @property
    def principal(self) -> str | None:
        return None if self.user is None else "User:" + self.user

    @property
    def failed(self) -> bool:
        return self.state == FAILED

    @property
    def raw(self) -> bool:
        return self.state == RAW

    def admits(self, api_key: int) -> bool:
        """May a request with this key be served now? False: the connection is to be closed."""
        state = self.state
        if state == COMPLETE:
            expires = self.expires_ms
            return expires is None or api_key == SASL_HANDSHAKE or self.now_ms() < expires
        if state == HANDSHAKE:
            return api_key in _BEFORE_AUTH
        if state == AUTHENTICATE:
            return api_key == SASL_AUTHENTICATE
        return False

    # SaslHandshake ------------------------------------------------------------------------------

    def handshake(self, mechanism: str, version: int) -> ErrorCode:
        if self.state == COMPLETE:
            if version < 1:
                return self._fail(ErrorCode.ILLEGAL_SASL_STATE, "re-authentication needs SaslHandshake v1")
            if mechanism != self.mechanism:
                return self._fail(ErrorCode.UNSUPPORTED_SASL_MECHANISM, "re-authentication must use the same "
                                  f"mechanism ({self.mechanism}), not {mechanism}")
            self.reauthenticating = True
        elif self.state != HANDSHAKE:
            return self._fail(ErrorCode.ILLEGAL_SASL_STATE, f"unexpected SaslHandshake in state {self.state}")
        if mechanism not in self.mechanisms:
            return self._fail(ErrorCode.UNSUPPORTED_SASL_MECHANISM, f"unsupported SASL mechanism {mechanism}")
        self.mechanism = mechanism
        self._server = server_for(mechanism, self.credentials, self.now_ms)
        self.state = AUTHENTICATE if version >= 1 else RAW
        return ErrorCode.NONE

    # tokens -------------------------------------------------------------------------------------

    def authenticate(self, token: bytes) -> tuple[ErrorCode, str | None, bytes, int]:
        """One SaslAuthenticate: (error, message, server token, session_lifetime_ms)."""
        if self.state != AUTHENTICATE:
            self._fail(ErrorCode.ILLEGAL_SASL_STATE, f"unexpected SaslAuthenticate in state {self.state}")
            return ErrorCode.ILLEGAL_SASL_STATE, self.failure, b"", 0
        try:
            response = self._server.step(token)
        except SaslFailure as exc:
            self._fail(ErrorCode.SASL_AUTHENTICATION_FAILED, exc.message)
            return ErrorCode.SASL_AUTHENTICATION_FAILED, exc.message, b"", 0
        if not self._server.complete:
            return ErrorCode.NONE, None, response, 0
        lifetime = self._complete()
        if self.failed:
            return ErrorCode.SASL_AUTHENTICATION_FAILED, self.failure, b"", 0
        return ErrorCode.NONE, None, response, lifetime

    def raw_token(self, token: bytes) -> bytes | None:
        """A bare token after a v0 handshake: the bare answer, or None when authentication failed."""
        try:
            response = self._server.step(token)
        except SaslFailure as exc:
            self._fail(ErrorCode.SASL_AUTHENTICATION_FAILED, exc.message)
            return None
        if self._server.complete:
            self._complete()
        return None if self.failed else response

    def _complete(self) -> int:
        server = self._server
        if self.reauthenticating and server.principal != self.user:
            self._fail(ErrorCode.SASL_AUTHENTICATION_FAILED, "Cannot change principals during re-authentication "
                       f"from User:{self.user} to User:{server.principal}")
            return 0
        now = self.now_ms()
        credential_expiry = server.lifetime_ms
        lifetime = 0
        if credential_expiry is not None or self.reauth_ms > 0:  # SaslServerAuthenticator's rule
            candidates = [self.reauth_ms] if self.reauth_ms > 0 else []
            if credential_expiry is not None:
                candidates.append(credential_expiry - now)
            lifetime = max(0, min(candidates))
            self.expires_ms = now + lifetime
        else:
            self.expires_ms = None
        self.user = server.principal
        self.state = COMPLETE
        self.reauthenticating = False
        self._server = None
        if self.on_authenticated is not None:
            self.on_authenticated(self.principal)
        return lifetime

    def _fail(self, code: ErrorCode, message: str) -> ErrorCode:
        self.state = FAILED
        self.failure = message
        self._server = None
        return code

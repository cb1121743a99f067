"""SASL/PLAIN (RFC 4616) as Kafka's PlainSaslServer: one message "authzid NUL authcid NUL passwd"."""

from __future__ import annotations

from gateway.security.mechanism import SaslFailure


class PlainServer:
    mechanism = "PLAIN"

    def __init__(self, credentials) -> None:
        self.credentials = credentials
        self.principal: str | None = None  # the user name, once authenticated
        self.complete = False
        self.lifetime_ms: int | None = None  # the credential's expiry (PLAIN credentials do not expire)

    def step(self, token: bytes) -> bytes:
        if self.complete:
            raise SaslFailure("Authentication failed: unexpected SASL/PLAIN message after authentication")
        parts = token.split(b"\0")
        if len(parts) != 3:
            raise SaslFailure(f"Invalid SASL/PLAIN response: expected 3 tokens, got {len(parts)}")
        try:
            authzid, username, password = (p.decode("utf-8") for p in parts)
        except UnicodeDecodeError:
            raise SaslFailure("Invalid SASL/PLAIN response: not UTF-8") from None
        if not username:
            raise SaslFailure("Authentication failed: username not specified")
        if not password:
            raise SaslFailure("Authentication failed: password not specified")
        if not self.credentials.check_plain(username, password):
            raise SaslFailure("Authentication failed: Invalid username or password")
        if authzid and authzid != username:
            raise SaslFailure("Authentication failed: Client requested an authorization id that is different "
                              "from username")
        self.principal = username
        self.complete = True
        return b""

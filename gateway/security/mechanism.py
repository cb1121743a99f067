"""What every SASL mechanism server shares: the failure it raises and the mechanism names."""

from __future__ import annotations

PLAIN, SCRAM_SHA_256, SCRAM_SHA_512, OAUTHBEARER = "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"
MECHANISMS = (PLAIN, SCRAM_SHA_256, SCRAM_SHA_512, OAUTHBEARER)


class SaslFailure(Exception):
    """Authentication failed: the message is what the client is told (SaslAuthenticate's error_message)."""

    def __init__(self, message: str, challenge: bytes | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.challenge = challenge  # OAUTHBEARER: an error challenge sent before failing (RFC 7628)


def server_for(mechanism: str, credentials, now_ms):
    """A fresh server for one authentication exchange of `mechanism` (one of MECHANISMS)."""
    if mechanism == PLAIN:
        from gateway.security.plain import PlainServer

        return PlainServer(credentials)
    if mechanism in (SCRAM_SHA_256, SCRAM_SHA_512):
        from gateway.security.scram import ScramServer

        return ScramServer(mechanism, credentials)
    from gateway.security.oauthbearer import OAuthBearerServer

    return OAuthBearerServer(now_ms)

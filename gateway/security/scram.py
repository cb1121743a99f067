"""SASL/SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka's ScramSaslServer.

    client-first  n,[a=authzid],n=user,r=cnonce[,ext...]
    server-first  r=cnonce+snonce,s=salt,i=iterations
    client-final  c=base64(gs2 header),r=cnonce+snonce,p=proof
    server-final  v=server signature

The server holds StoredKey and ServerKey only (gateway/security/credentials.py), so an exchange is a few
HMACs; the PBKDF2 cost is paid where the credential is made. Checks: the final nonce must be the one the
server sent, the channel binding the client's own GS2 header (no channel binding: "n"), the proof must
hash to StoredKey, and the credential's iteration count must be at least the mechanism's 4096.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

from gateway.security.credentials import DEFAULT_ITERATIONS, HASHES
from gateway.security.mechanism import SaslFailure

_CLIENT_FIRST = re.compile(rb"n,(?:a=(?P<authzid>[^,]*))?,n=(?P<user>[^,]*),r=(?P<nonce>[\x21-\x2b\x2d-\x7e]+)"
                           rb"(?P<extensions>(?:,[A-Za-z]+=[^,]*)*)")
_CLIENT_FINAL = re.compile(rb"c=(?P<binding>[A-Za-z0-9+/=]*),r=(?P<nonce>[\x21-\x2b\x2d-\x7e]+)"
                           rb"(?:,[A-Za-z]+=[^,]*)*,p=(?P<proof>[A-Za-z0-9+/=]+)")
SUPPORTED_EXTENSIONS = frozenset({"tokenauth"})  # delegation tokens (ScramLoginModule.TOKEN_AUTH_CONFIG)
_FIRST, _FINAL, _DONE = range(3)


def _sasl_name(raw: bytes) -> str:
    """RFC 5802 saslname: ',' and '=' travel as =2C and =3D; any other '=' is an error."""
    text = raw.decode("utf-8")
    if re.search(r"=(?!2C|3D)", text):
        raise SaslFailure("Invalid SCRAM client first message: bad user name encoding")
    return text.replace("=2C", ",").replace("=3D", "=")


class ScramServer:
    def __init__(self, mechanism: str, credentials) -> None:
        self.mechanism = mechanism
        self._hash = HASHES[mechanism]
        self.credentials = credentials
        self.principal: str | None = None
        self.complete = False
        self.lifetime_ms: int | None = None
        self.token_auth = False
        self._state = _FIRST
        self._credential = None
        self._client_first_bare = b""
        self._server_first = b""
        self._gs2_header = b""
        self._nonce = b""
        self._user = ""

    def step(self, token: bytes) -> bytes:
        if self._state == _FIRST:
            return self._first(token)
        if self._state == _FINAL:
            return self._final(token)
        raise SaslFailure("Authentication failed: unexpected SCRAM message after authentication")

    def _first(self, token: bytes) -> bytes:
        self._state = _DONE  # any failure ends the exchange
        match = _CLIENT_FIRST.fullmatch(token)
        if match is None:
            if token[:2] in (b"y,", b"p="):
                raise SaslFailure("Invalid SCRAM client first message: channel binding is not supported")
            raise SaslFailure("Invalid SCRAM client first message")
        try:
            user = _sasl_name(match.group("user"))
            authzid = _sasl_name(match.group("authzid")) if match.group("authzid") else ""
        except UnicodeDecodeError:
            raise SaslFailure("Invalid SCRAM client first message: user name is not UTF-8") from None
        extensions = dict(item.split(b"=", 1) for item in match.group("extensions").split(b",")[1:])
        names = {k.decode() for k in extensions}
        if not names <= SUPPORTED_EXTENSIONS:
            raise SaslFailure(f"Unsupported extensions will not be processed: {', '.join(sorted(names))}")
        if extensions.get(b"tokenauth", b"false").lower() == b"true":
            raise SaslFailure("Authentication failed: delegation tokens are not enabled on this broker")
        if authzid and authzid != user:
            raise SaslFailure("Authentication failed: Client requested an authorization id that is different "
                              "from username")
        credential = self.credentials.scram(self.mechanism, user)
        if credential is None:
            raise SaslFailure("Authentication failed: Invalid user credentials")
        if credential.iterations < DEFAULT_ITERATIONS:
            raise SaslFailure(f"Iterations {credential.iterations} is less than the minimum {DEFAULT_ITERATIONS} "
                              f"for {self.mechanism}")
        self._user = user
        self._credential = credential
        self._gs2_header = token[: match.start("user") - 2]  # "n,[a=...]," (up to "n=")
        self._client_first_bare = token[len(self._gs2_header):]
        self._nonce = match.group("nonce") + base64.b64encode(os.urandom(24)).replace(b"/", b"_")
        self._server_first = (b"r=" + self._nonce + b",s=" + base64.b64encode(credential.salt)
                              + b",i=" + str(credential.iterations).encode())
        self._state = _FINAL
        return self._server_first

    def _final(self, token: bytes) -> bytes:
        self._state = _DONE
        match = _CLIENT_FINAL.fullmatch(token)
        if match is None:
            raise SaslFailure("Invalid SCRAM client final message")
        if not hmac.compare_digest(match.group("nonce"), self._nonce):
            raise SaslFailure("Invalid client nonce in the final client message.")
        try:
            binding = base64.b64decode(match.group("binding"), validate=True)
            proof = base64.b64decode(match.group("proof"), validate=True)
        except ValueError:
            raise SaslFailure("Invalid SCRAM client final message: bad base64") from None
        if binding != self._gs2_header:
            raise SaslFailure("Invalid SCRAM client final message: channel binding does not match")
        credential = self._credential
        without_proof = token[: match.start("proof") - 3]
        auth_message = self._client_first_bare + b"," + self._server_first + b"," + without_proof
        client_signature = hmac.digest(credential.stored_key, auth_message, self._hash)
        if len(proof) != len(client_signature):
            raise SaslFailure("Invalid client credentials")
        client_key = bytes(a ^ b for a, b in zip(proof, client_signature))
        if not hmac.compare_digest(hashlib.new(self._hash, client_key).digest(), credential.stored_key):
            raise SaslFailure("Authentication failed during authentication due to invalid credentials with SASL "
                              f"mechanism {self.mechanism}")
        server_signature = hmac.digest(credential.server_key, auth_message, self._hash)
        self.principal = self._user
        self.complete = True
        return b"v=" + base64.b64encode(server_signature)

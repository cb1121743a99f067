"""SASL credentials: PLAIN users (--user, in memory as Kafka's JAAS user_NAME="password" entries) and SCRAM
credentials (RFC 5802: salt, StoredKey, ServerKey and the iteration count, never the password), kept in
the state store under `partitions.keys.SCRAM_STATE` so that credentials created over the wire
(AlterUserScramCredentials) survive restarts. `--user` creates both kinds for each mechanism."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from base64 import b64decode, b64encode
from dataclasses import dataclass

from gateway.security.mechanism import SCRAM_SHA_256, SCRAM_SHA_512
from partitions.keys import SCRAM_STATE

DEFAULT_ITERATIONS = 4096  # Kafka's default and ScramMechanism's minimum
MAX_ITERATIONS = 16384  # Kafka's AlterUserScramCredentials bound
HASHES = {SCRAM_SHA_256: "sha256", SCRAM_SHA_512: "sha512"}
MECHANISM_TYPES = {SCRAM_SHA_256: 1, SCRAM_SHA_512: 2}  # ScramMechanism.type() on the wire
MECHANISMS_BY_TYPE = {v: k for k, v in MECHANISM_TYPES.items()}


@dataclass(frozen=True)
class ScramCredential:
    salt: bytes
    stored_key: bytes
    server_key: bytes
    iterations: int

    def to_json(self) -> bytes:
        return json.dumps({"salt": b64encode(self.salt).decode(), "stored_key": b64encode(self.stored_key).decode(),
                           "server_key": b64encode(self.server_key).decode(), "iterations": self.iterations}).encode()

    @classmethod
    def from_json(cls, data: bytes) -> "ScramCredential":
        d = json.loads(data)
        return cls(b64decode(d["salt"]), b64decode(d["stored_key"]), b64decode(d["server_key"]), d["iterations"])


def salted_password(mechanism: str, password: str, salt: bytes, iterations: int) -> bytes:
    """Hi(password, salt, i) of RFC 5802: PBKDF2 with HMAC of the mechanism's hash."""
    return hashlib.pbkdf2_hmac(HASHES[mechanism], password.encode("utf-8"), salt, iterations)


def credential_from_salted(mechanism: str, salted: bytes, salt: bytes, iterations: int) -> ScramCredential:
    name = HASHES[mechanism]
    client_key = hmac.digest(salted, b"Client Key", name)
    server_key = hmac.digest(salted, b"Server Key", name)
    return ScramCredential(salt, hashlib.new(name, client_key).digest(), server_key, iterations)


def new_credential(mechanism: str, password: str, iterations: int = DEFAULT_ITERATIONS) -> ScramCredential:
    salt = os.urandom(32)
    return credential_from_salted(mechanism, salted_password(mechanism, password, salt, iterations), salt, iterations)


def _key(mechanism: str, user: str) -> bytes:
    return SCRAM_STATE + mechanism.encode() + b"\0" + user.encode("utf-8")


class Credentials:
    def __init__(self, store=None, users: tuple[tuple[str, str], ...] = ()) -> None:
        self._store = store
        self._plain = {name: password.encode("utf-8") for name, password in users}
        self._scram: dict[tuple[str, str], ScramCredential] = {}
        if store is not None:
            for key, value in store.scan(SCRAM_STATE):
                mechanism, _, user = key[len(SCRAM_STATE):].partition(b"\0")
                self._scram[(mechanism.decode(), user.decode("utf-8"))] = ScramCredential.from_json(value)
        for name, password in users:
            for mechanism in HASHES:
                self._ensure(mechanism, name, password)

    def _ensure(self, mechanism: str, user: str, password: str) -> None:
        """--user's credential: the stored one if the password still matches (same salt), else a new one."""
        current = self._scram.get((mechanism, user))
        if current is not None:
            again = credential_from_salted(mechanism, salted_password(mechanism, password, current.salt,
                                                                      current.iterations), current.salt,
                                           current.iterations)
            if hmac.compare_digest(again.stored_key, current.stored_key):
                return
        self.put(user, mechanism, new_credential(mechanism, password))

    # PLAIN -----------------------------------------------------------------------------------------

    def check_plain(self, user: str, password: str) -> bool:
        expected = self._plain.get(user)
        given = password.encode("utf-8")
        if expected is None:
            hmac.compare_digest(given, given)  # the same work for an unknown user
            return False
        return hmac.compare_digest(expected, given)

    # SCRAM -----------------------------------------------------------------------------------------

    def scram(self, mechanism: str, user: str) -> ScramCredential | None:
        return self._scram.get((mechanism, user))

    def put(self, user: str, mechanism: str, credential: ScramCredential) -> None:
        if self._store is not None:
            self._store.put(_key(mechanism, user), credential.to_json())
        self._scram[(mechanism, user)] = credential

    def delete(self, user: str, mechanism: str) -> bool:
        if (mechanism, user) not in self._scram:
            return False
        if self._store is not None:
            self._store.delete(_key(mechanism, user))
        del self._scram[(mechanism, user)]
        return True

    def users(self) -> list[str]:
        return sorted({user for _, user in self._scram})

    def describe(self, user: str) -> list[tuple[str, int]]:
        """(mechanism, iterations) of each credential the user has."""
        return [(m, c.iterations) for (m, u), c in sorted(self._scram.items()) if u == user]

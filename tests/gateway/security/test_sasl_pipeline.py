"""SASL on a connection, with the fake transport: the gate before authentication, PLAIN, SCRAM, OAUTHBEARER,
the v0 handshake's bare tokens, failures closing only that connection, KIP-368 session expiry."""

from __future__ import annotations

import asyncio
import base64
import json
import struct

from gateway.broker import Broker
from gateway.config import Config
from gateway.security.credentials import new_credential
from gateway.security.sasl_pipeline import SaslPipeline
from partitions.memory import MemoryStorage
from tests.gateway.security.scram_client import ScramClient
from tests.gateway.test_pipeline import FakeTransport, api_versions, metadata, request, run, settle
from wire.codec import decode
from wire.errors import ErrorCode
from wire.frames import frame
from wire.headers import response_header_size
from wire.messages import APIS

HANDSHAKE, AUTHENTICATE, METADATA = 17, 36, 3
USERS = (("alice", "alice-secret"), ("bob", "bob-secret"))


def make(**config):
    broker = Broker(Config(memory=True, users=USERS, listener_specs=("SASL_PLAINTEXT://127.0.0.1:0",), **config),
                    MemoryStorage())
    transport = FakeTransport()
    pipeline = SaslPipeline(broker, transport, connection_id="c-1", peer="127.0.0.1:5555",
                            listener_name="SASL_PLAINTEXT")
    transport.pipeline = pipeline
    return broker, transport, pipeline


class Conversation:
    def __init__(self, transport, pipeline):
        self.transport, self.pipeline = transport, pipeline
        self.correlation_id = 0

    async def call(self, api_key: int, version: int, body: dict):
        self.correlation_id += 1
        self.pipeline.receive_data(request(api_key, version, body, self.correlation_id))
        await settle()
        frames = self.transport.frames()
        if not frames:
            return None
        ((correlation_id, payload),) = frames
        assert correlation_id == self.correlation_id
        return decode(APIS[api_key].response, version, payload, response_header_size(api_key, version))

    async def handshake(self, mechanism: str, version: int = 1):
        return await self.call(HANDSHAKE, version, {"mechanism": mechanism})

    async def authenticate(self, token: bytes, version: int = 2):
        return await self.call(AUTHENTICATE, version, {"auth_bytes": token})


async def closes(transport, within_s: float = 2.0) -> bool:
    """The connection closes (after Kafka's 100 ms failed-authentication delay)."""
    for _ in range(int(within_s / 0.01)):
        if transport.closed:
            return True
        await asyncio.sleep(0.01)
    return transport.closed


def plain(user: str, password: str) -> bytes:
    return f"\0{user}\0{password}".encode()


def test_plain_authenticates_and_then_everything_is_served_as_the_user():
    async def main():
        _, transport, pipeline = make()
        talk = Conversation(transport, pipeline)
        versions = await talk.call(18, 3, {"client_software_name": "t", "client_software_version": "1"})
        assert versions.error_code == 0
        handshake = await talk.handshake("PLAIN")
        assert handshake.error_code == 0
        assert set(handshake.mechanisms) == {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"}
        answer = await talk.authenticate(plain("alice", "alice-secret"))
        assert (answer.error_code, answer.session_lifetime_ms) == (0, 0)
        assert pipeline.principal == "User:alice"
        meta = await talk.call(METADATA, 9, {"topics": None, "allow_auto_topic_creation": False})
        assert meta.brokers[0].node_id == 1
        assert not transport.closed
    run(main())


def test_a_request_before_authentication_closes_the_connection_unanswered():
    async def main():
        for before in ((), ("PLAIN",)):  # before the handshake, and between handshake and authenticate
            _, transport, pipeline = make()
            talk = Conversation(transport, pipeline)
            for mechanism in before:
                await talk.handshake(mechanism)
            assert await talk.call(METADATA, 9, {"topics": None, "allow_auto_topic_creation": False}) is None
            assert transport.closed and pipeline.principal == "User:ANONYMOUS"
    run(main())


def test_a_wrong_password_is_answered_then_the_connection_is_closed():
    async def main():
        for token in (plain("alice", "wrong"), plain("nobody", "x"), b"garbage", b"\0\0", b"a\0b\0c\0d",
                      plain("bob", "alice-secret")):
            _, transport, pipeline = make()
            talk = Conversation(transport, pipeline)
            await talk.handshake("PLAIN")
            answer = await talk.authenticate(token)
            assert answer.error_code == ErrorCode.SASL_AUTHENTICATION_FAILED, token
            assert answer.error_message
            assert await closes(transport)
            assert transport.closed and pipeline.principal == "User:ANONYMOUS"
    run(main())


def test_an_unsupported_or_disabled_mechanism_is_refused_with_the_enabled_list():
    async def main():
        _, transport, pipeline = make(sasl_enabled_mechanisms=("SCRAM-SHA-512",))
        talk = Conversation(transport, pipeline)
        answer = await talk.handshake("PLAIN")
        assert (answer.error_code, list(answer.mechanisms)) == (ErrorCode.UNSUPPORTED_SASL_MECHANISM,
                                                                ["SCRAM-SHA-512"])
        assert await closes(transport)
        assert transport.closed
    run(main())


def test_scram_sha_256_and_512_authenticate_and_prove_the_server_knows_the_key():
    async def main():
        for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512"):
            _, transport, pipeline = make()
            talk = Conversation(transport, pipeline)
            await talk.handshake(mechanism)
            client = ScramClient(mechanism, "bob", "bob-secret")
            first = await talk.authenticate(client.first())
            assert first.error_code == 0 and b",i=4096" in first.auth_bytes
            final = await talk.authenticate(client.final(first.auth_bytes))
            assert final.error_code == 0 and client.verify(final.auth_bytes)
            assert pipeline.principal == "User:bob"
    run(main())


def test_scram_refuses_a_wrong_nonce_a_bad_proof_garbage_and_few_iterations():
    async def main():
        async def attempt(mechanism="SCRAM-SHA-256", first_token=None, user="alice", password="alice-secret", **bad):
            broker, transport, pipeline = make()
            broker.credentials.put("weak", mechanism, new_credential(mechanism, "weak-secret", iterations=1000))
            talk = Conversation(transport, pipeline)
            await talk.handshake(mechanism)
            client = ScramClient(mechanism, user, password)
            first = await talk.authenticate(first_token if first_token is not None else client.first())
            if first.error_code == 0:
                first = await talk.authenticate(client.final(first.auth_bytes, **bad))
            assert await closes(transport)
            assert transport.closed and pipeline.principal == "User:ANONYMOUS"
            return first.error_code, first.error_message

        assert (await attempt(nonce="forged-nonce"))[1] == "Invalid client nonce in the final client message."
        assert (await attempt(proof_flip=True))[0] == ErrorCode.SASL_AUTHENTICATION_FAILED
        assert (await attempt(password="wrong"))[0] == ErrorCode.SASL_AUTHENTICATION_FAILED
        assert "Invalid user credentials" in (await attempt(user="nobody"))[1]
        assert "less than the minimum 4096" in (await attempt(user="weak", password="weak-secret"))[1]
        for garbage in (b"", b"\xff\xfe", b"n,,", b"y,,n=alice,r=abc", b"n,,n=al=ice,r=abc", b"x" * 1000,
                        b"n,,n=alice,r=abc,unknown=1"):
            assert (await attempt(first_token=garbage))[0] == ErrorCode.SASL_AUTHENTICATION_FAILED, garbage
    run(main())


def test_the_v0_handshake_is_followed_by_bare_tokens():
    async def main():
        _, transport, pipeline = make()
        talk = Conversation(transport, pipeline)
        assert (await talk.handshake("SCRAM-SHA-512", version=0)).error_code == 0
        client = ScramClient("SCRAM-SHA-512", "alice", "alice-secret")
        pipeline.receive_data(frame(client.first()))
        await settle()
        server_first = bytes(transport.sent[4:])
        transport.sent.clear()
        pipeline.receive_data(frame(client.final(server_first)))
        await settle()
        assert client.verify(bytes(transport.sent[4:]))
        transport.sent.clear()
        assert pipeline.principal == "User:alice"
        answer = await talk.call(METADATA, 9, {"topics": None, "allow_auto_topic_creation": False})
        assert answer.brokers[0].node_id == 1

        _, transport, pipeline = make()  # a bad bare token: no answer can say so, the connection closes
        talk = Conversation(transport, pipeline)
        await talk.handshake("PLAIN", version=0)
        pipeline.receive_data(frame(plain("alice", "wrong")))
        assert await closes(transport)
        assert transport.closed and transport.sent == b""
    run(main())


def test_an_oversized_frame_before_authentication_closes_the_connection():
    async def main():
        _, transport, pipeline = make()
        pipeline.receive_data(struct.pack(">i", 524289) + b"\0" * 100)
        assert await closes(transport)
        assert transport.closed and pipeline.pool.used == 0
    run(main())


def jwt(claims: dict, header: dict | None = None, signature: str = "") -> str:
    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    return f"{part(header or {'alg': 'none'})}.{part(claims)}.{signature}"


def oauth(token: str) -> bytes:
    return f"n,,\x01auth=Bearer {token}\x01\x01".encode()


def test_oauthbearer_accepts_an_unsecured_token_and_its_expiry_bounds_the_session():
    async def main():
        broker, transport, pipeline = make(connections_max_reauth_ms=3_600_000)
        now = 1_700_000_000_000
        pipeline.sasl.now_ms = lambda: now
        talk = Conversation(transport, pipeline)
        await talk.handshake("OAUTHBEARER")
        answer = await talk.authenticate(oauth(jwt({"sub": "carol", "exp": now // 1000 + 60, "iat": now // 1000})))
        assert answer.error_code == 0 and answer.session_lifetime_ms == 60_000
        assert pipeline.principal == "User:carol"

        bad_tokens = [jwt({"sub": "carol", "exp": now // 1000 - 1}), jwt({"exp": now // 1000 + 60}),
                      jwt({"sub": "carol", "exp": now // 1000 + 60}, {"alg": "RS256"}),
                      jwt({"sub": "carol", "exp": now // 1000 + 60}, signature="c2ln"), "not-a-jwt", "a.b.",
                      jwt({"sub": "carol", "exp": "soon"})]
        for token in bad_tokens:
            broker, transport, pipeline = make()
            pipeline.sasl.now_ms = lambda: now
            talk = Conversation(transport, pipeline)
            await talk.handshake("OAUTHBEARER")
            challenge = await talk.authenticate(oauth(token))
            assert (challenge.error_code, json.loads(challenge.auth_bytes)) == (0, {"status": "invalid_token"})
            failed = await talk.authenticate(b"\x01")
            assert failed.error_code == ErrorCode.SASL_AUTHENTICATION_FAILED, token
            assert await closes(transport)
            assert transport.closed
    run(main())


def test_an_expired_session_closes_on_the_next_request_and_reauthentication_renews_it():
    async def main():
        _, transport, pipeline = make(connections_max_reauth_ms=1000)
        clock = [1_000_000]
        pipeline.sasl.now_ms = lambda: clock[0]
        talk = Conversation(transport, pipeline)
        await talk.handshake("PLAIN")
        answer = await talk.authenticate(plain("alice", "alice-secret"))
        assert answer.session_lifetime_ms == 1000
        clock[0] += 999
        assert await talk.call(METADATA, 9, {"topics": None, "allow_auto_topic_creation": False}) is not None
        await talk.handshake("PLAIN")  # KIP-368: re-authenticate before the session ends
        assert (await talk.authenticate(plain("alice", "alice-secret"))).session_lifetime_ms == 1000
        clock[0] += 999
        assert await talk.call(METADATA, 9, {"topics": None, "allow_auto_topic_creation": False}) is not None
        clock[0] += 2
        assert await talk.call(METADATA, 9, {"topics": None, "allow_auto_topic_creation": False}) is None
        assert transport.closed

        _, transport, pipeline = make(connections_max_reauth_ms=1000)
        talk = Conversation(transport, pipeline)
        await talk.handshake("PLAIN")
        await talk.authenticate(plain("alice", "alice-secret"))
        await talk.handshake("PLAIN")
        changed = await talk.authenticate(plain("bob", "bob-secret"))  # a different principal: refused
        assert changed.error_code == ErrorCode.SASL_AUTHENTICATION_FAILED
        assert "Cannot change principals" in changed.error_message
        assert await closes(transport)
        assert transport.closed and pipeline.principal == "User:alice"
    run(main())


def test_sasl_authenticate_after_authentication_or_off_sasl_is_illegal_state_not_a_close():
    async def main():
        _, transport, pipeline = make()
        talk = Conversation(transport, pipeline)
        await talk.handshake("PLAIN")
        await talk.authenticate(plain("alice", "alice-secret"))
        again = await talk.authenticate(plain("alice", "alice-secret"))
        assert again.error_code == ErrorCode.ILLEGAL_SASL_STATE and not transport.closed
    run(main())

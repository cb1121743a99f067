"""Listener parsing (flags and properties), SCRAM credentials (salted, persisted, managed over the wire)."""

from __future__ import annotations

import asyncio

import pytest

from gateway.broker import Broker
from gateway.cli import parser, serve_config
from gateway.config import Config
from gateway.configs.properties import PropertiesError
from gateway.listeners import ListenerError
from gateway.cluster import node_endpoints
from gateway.security.credentials import Credentials, salted_password
from partitions.memory import MemoryStorage
from tests.gateway.security.test_sasl_pipeline import Conversation
from tests.gateway.test_pipeline import FakeTransport, make as make_plaintext, run
from wire.errors import ErrorCode


def config_of(*argv, tmp_path=None, properties: str | None = None):
    argv = ["serve", *argv]
    if properties is not None:
        path = tmp_path / "server.properties"
        path.write_text(properties)
        argv += ["--config", str(path)]
    return serve_config(parser().parse_args(argv), argv)


def test_listener_flags_each_with_its_protocol_and_own_advertised_address():
    config = config_of("--listener", "PLAINTEXT://127.0.0.1:9092", "--listener", "SASL_SSL://0.0.0.0:9093",
                       "--listener", "internal://127.0.0.1:9094",
                       "--set", "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,INTERNAL:SSL",
                       "--set", "advertised.listeners=SASL_SSL://broker.example:19093")
    by_name = {l.name: l for l in config.listeners}
    assert [l.name for l in config.listeners] == ["PLAINTEXT", "SASL_SSL", "INTERNAL"]
    assert by_name["INTERNAL"].security_protocol == "SSL" and by_name["INTERNAL"].tls
    assert (by_name["SASL_SSL"].advertised_host, by_name["SASL_SSL"].advertised_port) == ("broker.example", 19093)
    assert (by_name["PLAINTEXT"].advertised_host, by_name["PLAINTEXT"].advertised_port) == ("127.0.0.1", 9092)
    assert (config.host, config.port) == ("127.0.0.1", 9092)

    endpoints = {e.name: e for e in node_endpoints(config, 1)}  # the second broker of --brokers 2: port + 1
    assert (endpoints["SASL_SSL"].advertised_host, endpoints["SASL_SSL"].advertised_port) == ("broker.example", 19094)
    assert (endpoints["INTERNAL"].host, endpoints["INTERNAL"].port) == ("127.0.0.1", 9095)


def test_listeners_from_the_properties_file_and_host_port_as_the_shorthand(tmp_path):
    props = "listeners=PLAINTEXT://:9092,SASL_PLAINTEXT://127.0.0.1:9095\nsasl.enabled.mechanisms=SCRAM-SHA-256\n"
    config = config_of(tmp_path=tmp_path, properties=props)
    assert [(l.name, l.host, l.port) for l in config.listeners] == [("PLAINTEXT", "0.0.0.0", 9092),
                                                                   ("SASL_PLAINTEXT", "127.0.0.1", 9095)]
    assert config.sasl_enabled_mechanisms == ("SCRAM-SHA-256",)
    shorthand = config_of("--host", "127.0.0.1", "--port", "9999", tmp_path=tmp_path, properties=props)
    assert [(l.name, l.port) for l in shorthand.listeners] == [("PLAINTEXT", 9999)]
    assert [(l.name, l.port) for l in config_of("--port", "7").listeners] == [("PLAINTEXT", 7)]


@pytest.mark.parametrize("argv", [
    ("--listener", "FOO://127.0.0.1:1"),  # no protocol for FOO
    ("--listener", "PLAINTEXT://127.0.0.1"),
    ("--listener", "PLAINTEXT://127.0.0.1:1", "--listener", "PLAINTEXT://127.0.0.1:2"),
    ("--listener", "SSL://127.0.0.1:1", "--set", "listener.security.protocol.map=SSL:TLS"),
    ("--listener", "SSL://127.0.0.1:1", "--set", "advertised.listeners=OTHER://h:1"),
])
def test_bad_listeners_are_refused_with_a_message(argv):
    with pytest.raises((ListenerError, PropertiesError, ValueError)):
        config_of(*argv)


def test_scram_credentials_are_salted_never_the_password_and_survive_a_restart():
    storage = MemoryStorage()
    credentials = Credentials(storage.state(), (("alice", "alice-secret"),))
    stored = [v for _, v in storage.state().scan(b"W")]
    assert len(stored) == 2 and not any(b"alice-secret" in v for v in stored)
    first = credentials.scram("SCRAM-SHA-256", "alice")
    again = Credentials(storage.state(), (("alice", "alice-secret"),))  # same password: the same credential
    assert again.scram("SCRAM-SHA-256", "alice") == first
    changed = Credentials(storage.state(), (("alice", "new-secret"),))
    assert changed.scram("SCRAM-SHA-256", "alice") != first
    assert Credentials(storage.state()).describe("alice") == [("SCRAM-SHA-256", 4096), ("SCRAM-SHA-512", 4096)]


def test_describe_and_alter_user_scram_credentials_over_the_wire():
    async def main():
        broker, transport, pipeline = make_plaintext()
        talk = Conversation(transport, pipeline)
        salt = b"0123456789abcdef"
        upsert = {"name": "dave", "mechanism": 1, "iterations": 8192, "salt": salt,
                  "salted_password": salted_password("SCRAM-SHA-256", "dave-secret", salt, 8192)}
        answer = await talk.call(51, 0, {"deletions": [], "upsertions": [
            upsert, {**upsert, "name": "erin", "iterations": 100}, {**upsert, "name": "fay", "mechanism": 9},
            {**upsert, "name": "gus", "iterations": 20000}, {**upsert, "name": ""}]})
        assert [(r.user, r.error_code) for r in answer.results] == [
            ("dave", 0), ("erin", ErrorCode.UNACCEPTABLE_CREDENTIAL), ("fay", ErrorCode.UNSUPPORTED_SASL_MECHANISM),
            ("gus", ErrorCode.UNACCEPTABLE_CREDENTIAL), ("", ErrorCode.UNACCEPTABLE_CREDENTIAL)]
        assert broker.credentials.scram("SCRAM-SHA-256", "dave").iterations == 8192
        assert broker.credentials.scram("SCRAM-SHA-256", "erin") is None

        described = await talk.call(50, 0, {"users": [{"name": "dave"}, {"name": "nobody"}, {"name": "dave"}]})
        assert [(r.user, r.error_code) for r in described.results] == [
            ("dave", ErrorCode.DUPLICATE_RESOURCE), ("nobody", ErrorCode.RESOURCE_NOT_FOUND)]
        described = await talk.call(50, 0, {"users": None})
        assert [(r.user, [(c.mechanism, c.iterations) for c in r.credential_infos]) for r in described.results] == [
            ("dave", [(1, 8192)])]

        twice = await talk.call(51, 0, {"deletions": [{"name": "dave", "mechanism": 1}], "upsertions": [upsert]})
        assert twice.results[0].error_code == ErrorCode.DUPLICATE_RESOURCE
        assert broker.credentials.scram("SCRAM-SHA-256", "dave") is not None  # all or nothing per user
        missing = await talk.call(51, 0, {"deletions": [{"name": "dave", "mechanism": 2}], "upsertions": []})
        assert missing.results[0].error_code == ErrorCode.RESOURCE_NOT_FOUND
        gone = await talk.call(51, 0, {"deletions": [{"name": "dave", "mechanism": 1}], "upsertions": []})
        assert gone.results[0].error_code == 0 and broker.credentials.describe("dave") == []
        assert list(broker.storage.state().scan(b"W")) == []
    run(main())


def test_sasl_requests_on_a_plaintext_listener_are_illegal_state():
    async def main():
        _, transport, pipeline = make_plaintext()
        talk = Conversation(transport, pipeline)
        assert (await talk.handshake("PLAIN")).error_code == ErrorCode.ILLEGAL_SASL_STATE
        assert (await talk.authenticate(b"\0a\0b")).error_code == ErrorCode.ILLEGAL_SASL_STATE
        assert not transport.closed
    run(main())


def test_scram_credentials_apis_need_cluster_describe_and_alter_with_an_authorizer():
    async def main():
        broker, transport, pipeline = make_plaintext(authorizer=True, super_users=("User:admin",))
        talk = Conversation(transport, pipeline)
        upsert = {"name": "dave", "mechanism": 1, "iterations": 4096, "salt": b"s" * 16, "salted_password": b"p" * 32}
        refused = await talk.call(51, 0, {"deletions": [], "upsertions": [upsert]})
        assert [(r.user, r.error_code) for r in refused.results] == [("dave", ErrorCode.CLUSTER_AUTHORIZATION_FAILED)]
        assert broker.credentials.describe("dave") == []
        described = await talk.call(50, 0, {"users": [{"name": "dave"}]})
        assert described.error_code == ErrorCode.CLUSTER_AUTHORIZATION_FAILED
        pipeline.principal = "User:admin"
        assert (await talk.call(51, 0, {"deletions": [], "upsertions": [upsert]})).results[0].error_code == 0
        assert (await talk.call(50, 0, {"users": None})).results[0].user == "dave"
    run(main())

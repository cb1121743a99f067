"""Listeners, TLS and SASL with real clients (confluent-kafka, kafka-python, aiokafka, kafkajs) against one
secured Ottla: SASL_PLAINTEXT with PLAIN and SCRAM-SHA-256/512, SSL with the generated CA, SASL_SSL, mTLS;
a wrong password or an untrusted certificate fails with the client's authentication error; a client that
does not authenticate is served nothing."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import time

import pytest

from compat_tests import samples, topics
from compat_tests.security import PASSWORD, USER, SecureBroker, external

JS_DIR = __import__("pathlib").Path(__file__).parent / "js"
TIMEOUT_S = 15

pytestmark = pytest.mark.skipif(external(), reason="needs Ottla's secured listeners (KAFKA_BOOTSTRAP is external)")


@pytest.fixture(scope="module")
def secure(tmp_path_factory):
    root = tmp_path_factory.mktemp("ottla-secure")
    broker = SecureBroker(root)
    broker.data_dir.mkdir()
    broker.start()
    broker.make_client_certificates()
    try:
        yield broker
    finally:
        broker.stop(signal.SIGTERM)


@pytest.fixture
def secure_topic(secure, request):
    if secure.proc.poll() is not None:
        pytest.fail(f"the secured broker exited with {secure.proc.returncode}")
    name = samples.unique_name(f"sec-{request.node.name[5:35]}".replace("[", "-").replace("]", ""))
    topics.create_topic(secure.bootstrap, name, partitions=1)
    return name


# profiles: which listener, SASL (mechanism, user, password) and TLS files a client uses --------------

def profile(secure, case: str, password: str = PASSWORD) -> dict:
    tls = secure.tls
    cases = {
        "plain": ("SASL_PLAINTEXT", "PLAIN", None),
        "oauthbearer": ("SASL_PLAINTEXT", "OAUTHBEARER", None),  # an unsecured JWS for User:alice
        "oauthbearer-expired": ("SASL_PLAINTEXT", "OAUTHBEARER", None),
        "scram-sha-256": ("SASL_PLAINTEXT", "SCRAM-SHA-256", None),
        "scram-sha-512": ("SASL_PLAINTEXT", "SCRAM-SHA-512", None),
        "ssl": ("SSL", None, {"ca": tls.ca}),
        "sasl_ssl": ("SASL_SSL", "SCRAM-SHA-512", {"ca": tls.ca}),
        "mtls": ("MTLS", None, {"ca": tls.ca, "cert": tls.client_cert, "key": tls.client_key}),
        # failures
        "untrusted-server": ("SSL", None, {"ca": tls.rogue_ca}),  # the client does not trust the broker
        "untrusted-client": ("MTLS", None, {"ca": tls.ca, "cert": tls.rogue_cert, "key": tls.rogue_key}),
        "no-client-cert": ("MTLS", None, {"ca": tls.ca}),
        "unauthenticated": ("SASL_PLAINTEXT", None, None),  # a client that does not do SASL at all
    }
    listener, mechanism, files = cases[case]
    protocol = {"MTLS": "SSL"}.get(listener, listener)
    if case == "unauthenticated":
        protocol = "PLAINTEXT"
    token = unsecured_jwt(USER, -60 if case.endswith("expired") else 3600)
    return {"bootstrap": secure.address(listener), "protocol": protocol, "mechanism": mechanism,
            "user": USER, "password": password, "tls": files, "token": token,
            # RFC 7628: a bad token is answered with an error challenge the client must acknowledge before
            # the failure; aiokafka and kafkajs do not, so (as against Kafka) they see the connection close
            "challenge": case == "oauthbearer-expired"}


def unsecured_jwt(subject: str, expires_in_s: int) -> str:
    """What Kafka's OAuthBearerUnsecuredLoginCallbackHandler makes: alg none, sub, iat, exp, no signature."""
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    now = int(time.time())
    return f"{part({'alg': 'none'})}.{part({'sub': subject, 'iat': now - 120, 'exp': now + expires_in_s})}."


def confluent_config(p: dict) -> dict:
    config = {"bootstrap.servers": p["bootstrap"], "security.protocol": p["protocol"]}
    if p["mechanism"] == "OAUTHBEARER":
        token = p["token"]
        config.update({"sasl.mechanism": "OAUTHBEARER",
                       "oauth_cb": lambda _config: (token, time.time() + 3600, USER, {})})
    elif p["mechanism"]:
        config.update({"sasl.mechanism": p["mechanism"], "sasl.username": p["user"], "sasl.password": p["password"]})
    if p["tls"]:
        config["ssl.ca.location"] = p["tls"]["ca"]
        if "cert" in p["tls"]:
            config.update({"ssl.certificate.location": p["tls"]["cert"], "ssl.key.location": p["tls"]["key"]})
    return config


def python_config(p: dict, aio: bool = False) -> dict:
    config = {"bootstrap_servers": p["bootstrap"], "security_protocol": p["protocol"]}
    if p["mechanism"] == "OAUTHBEARER":
        config.update({"sasl_mechanism": "OAUTHBEARER", "sasl_oauth_token_provider": token_provider(p["token"], aio)})
    elif p["mechanism"]:
        config.update({"sasl_mechanism": p["mechanism"], "sasl_plain_username": p["user"],
                       "sasl_plain_password": p["password"]})
    if p["tls"]:
        if aio:
            from aiokafka.helpers import create_ssl_context

            config["ssl_context"] = create_ssl_context(cafile=p["tls"]["ca"], certfile=p["tls"].get("cert"),
                                                       keyfile=p["tls"].get("key"))
        else:
            config.update({"ssl_cafile": p["tls"]["ca"], "ssl_certfile": p["tls"].get("cert"),
                           "ssl_keyfile": p["tls"].get("key")})
    return config


def token_provider(token: str, aio: bool):
    if aio:
        from aiokafka.abc import AbstractTokenProvider

        class Provider(AbstractTokenProvider):
            async def token(self):
                return token
    else:
        from kafka.net.sasl.oauth import AbstractTokenProvider

        class Provider(AbstractTokenProvider):
            def token(self):
                return token
    return Provider()


def js_params(p: dict) -> dict:
    params = {"bootstrap": p["bootstrap"]}
    if p["mechanism"] == "OAUTHBEARER":
        params["sasl"] = {"mechanism": "oauthbearer", "token": p["token"]}
    elif p["mechanism"]:
        params["sasl"] = {"mechanism": p["mechanism"].lower(), "username": p["user"], "password": p["password"]}
    if p["tls"]:
        params["ssl"] = p["tls"]
    return params


# each client: produce one record and read it back; or fail ---------------------------------------

def confluent_roundtrip(p: dict, topic: str, value: bytes) -> bytes:
    from confluent_kafka import Consumer, Producer, TopicPartition

    producer = Producer({**confluent_config(p), "linger.ms": 5, "message.timeout.ms": TIMEOUT_S * 1000})
    reports = []
    producer.produce(topic, value, partition=0, on_delivery=lambda err, msg: reports.append(err))
    assert producer.flush(TIMEOUT_S) == 0 and reports == [None]
    consumer = Consumer({**confluent_config(p), "group.id": "sec", "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                return message.value()
    finally:
        consumer.close()
    raise AssertionError("nothing consumed")


def confluent_failure(p: dict) -> str:
    from confluent_kafka import KafkaError
    from confluent_kafka.admin import AdminClient

    errors = []
    admin = AdminClient({**confluent_config(p), "error_cb": errors.append, "reconnect.backoff.ms": 500})
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline and not any(e.code() in (
            KafkaError._AUTHENTICATION, KafkaError._SSL, KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN)
            for e in errors):
        admin.poll(0.2)
    with pytest.raises(Exception):
        admin.list_topics(timeout=1)
    codes = {e.code() for e in errors}
    if p["mechanism"]:
        assert KafkaError._AUTHENTICATION in codes, errors
    else:
        # TLS 1.3: a refused client certificate is seen after the client's handshake, as a closed connection
        assert codes & {KafkaError._SSL, KafkaError._TRANSPORT, KafkaError._AUTHENTICATION,
                        KafkaError._ALL_BROKERS_DOWN}, errors
    return " ".join(str(e) for e in errors)


def kafka_python_roundtrip(p: dict, topic: str, value: bytes) -> bytes:
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    producer = KafkaProducer(**python_config(p), request_timeout_ms=TIMEOUT_S * 1000)
    try:
        producer.send(topic, value, partition=0).get(TIMEOUT_S)
    finally:
        producer.close()
    consumer = KafkaConsumer(**python_config(p), consumer_timeout_ms=TIMEOUT_S * 1000)
    try:
        consumer.assign([TopicPartition(topic, 0)])
        consumer.seek(TopicPartition(topic, 0), 0)
        for message in consumer:
            return message.value
    finally:
        consumer.close()
    raise AssertionError("nothing consumed")


def kafka_python_failure(p: dict, caplog) -> str:
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

    caplog.set_level(logging.ERROR, logger="kafka")
    with pytest.raises(KafkaError):
        KafkaProducer(**python_config(p), request_timeout_ms=3000, max_block_ms=3000,
                      bootstrap_timeout_ms=3000).send("x", b"v").get(5)
    text = caplog.text
    if p["mechanism"]:
        assert "SaslAuthenticationFailedError" in text or "Authentication failed" in text, text
    return text


async def _aiokafka_roundtrip(p: dict, topic: str, value: bytes) -> bytes:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    producer = AIOKafkaProducer(**python_config(p, aio=True), request_timeout_ms=TIMEOUT_S * 1000)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, partition=0)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(**python_config(p, aio=True))
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        consumer.seek(partition, 0)
        message = await asyncio.wait_for(consumer.getone(), TIMEOUT_S)
        return message.value
    finally:
        await consumer.stop()


def aiokafka_roundtrip(p, topic, value):
    return asyncio.run(_aiokafka_roundtrip(p, topic, value))


def aiokafka_failure(p: dict, caplog) -> str:
    from aiokafka import AIOKafkaProducer
    from aiokafka.errors import KafkaError

    caplog.set_level(logging.ERROR, logger="aiokafka")

    async def main():
        producer = AIOKafkaProducer(**python_config(p, aio=True), request_timeout_ms=3000)
        try:
            with pytest.raises(KafkaError):
                await producer.start()
        finally:
            await producer.stop()
    asyncio.run(main())
    if p["mechanism"] and not p["challenge"]:
        assert "SaslAuthenticationFailed" in caplog.text, caplog.text
    return caplog.text


def node(script: str, params: dict) -> tuple[int, dict]:
    proc = subprocess.run(["node", script, json.dumps(params)], cwd=JS_DIR, capture_output=True, text=True,
                          timeout=60)
    lines = proc.stdout.strip().splitlines()
    return proc.returncode, (json.loads(lines[-1]) if lines else {"stderr": proc.stderr[-2000:]})


def kafkajs_roundtrip(p: dict, topic: str, value: bytes) -> bytes:
    params = js_params(p)
    code, result = node("produce.js", {**params, "topic": topic, "messages": [
        {"key": "k", "value": value.decode(), "timestamp": int(time.time() * 1000), "headers": []}]})
    assert code == 0, result
    code, result = node("fetch.js", {**params, "topic": topic, "count": 1, "timeoutMs": TIMEOUT_S * 1000})
    assert code == 0, result
    return result["messages"][0]["value"].encode()


def kafkajs_failure(p: dict, caplog) -> str:
    code, result = node("produce.js", {**js_params(p), "topic": "x", "messages": [{"value": "v", "headers": []}],
                                       "retry": {"retries": 0}})
    assert code != 0, result
    if p["mechanism"] and not p["challenge"]:
        assert "KafkaJSSASLAuthenticationError" in result["error"], result
    return result["error"]


ROUNDTRIP = {"confluent": confluent_roundtrip, "kafka-python": kafka_python_roundtrip,
             "aiokafka": aiokafka_roundtrip, "kafkajs": kafkajs_roundtrip}
FAILURE = {"confluent": lambda p, caplog: confluent_failure(p), "kafka-python": kafka_python_failure,
           "aiokafka": aiokafka_failure, "kafkajs": kafkajs_failure}


def needs(client: str) -> None:
    if client == "kafkajs" and (shutil.which("node") is None or not (JS_DIR / "node_modules" / "kafkajs").is_dir()):
        pytest.skip("kafkajs is not installed")


CLIENTS = list(ROUNDTRIP)


@pytest.mark.parametrize("case", ["plain", "scram-sha-256", "scram-sha-512", "oauthbearer", "ssl", "sasl_ssl", "mtls"])
@pytest.mark.parametrize("client", CLIENTS)
def test_client_connects_produces_and_consumes(secure, secure_topic, client, case):
    needs(client)
    value = f"{client}-{case}".encode()
    assert ROUNDTRIP[client](profile(secure, case), secure_topic, value) == value


@pytest.mark.parametrize("case", ["plain", "scram-sha-256", "scram-sha-512", "oauthbearer-expired", "untrusted-server",
                                  "untrusted-client", "no-client-cert"])
@pytest.mark.parametrize("client", CLIENTS)
def test_a_wrong_password_or_an_untrusted_certificate_fails(secure, client, case, caplog):
    needs(client)
    FAILURE[client](profile(secure, case, password="wrong-password"), caplog)
    assert secure.proc.poll() is None


@pytest.mark.parametrize("client", CLIENTS)
def test_a_client_that_does_not_authenticate_is_served_nothing(secure, client, caplog):
    needs(client)
    FAILURE[client](profile(secure, "unauthenticated"), caplog)


def _kafka_request(api_key: int, version: int, body: bytes, correlation_id: int = 1) -> bytes:
    client_id = b"sec-test"
    header = struct.pack(">hhih", api_key, version, correlation_id, len(client_id)) + client_id
    return struct.pack(">i", len(header) + len(body)) + header + body


def _closed(sock: socket.socket) -> bool:
    sock.settimeout(10)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_a_request_before_authentication_closes_the_connection(secure):
    host, port = secure.address("SASL_PLAINTEXT").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(_kafka_request(3, 1, struct.pack(">i", -1)))  # Metadata v1, all topics
        assert _closed(sock)
    # garbage on the PLAINTEXT port and plaintext on an SSL port: that one connection closes
    for listener, data in (("PLAINTEXT", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\0" * 64),
                           ("SSL", _kafka_request(18, 0, b"")), ("SASL_SSL", b"GET / HTTP/1.0\r\n\r\n")):
        host, port = secure.address(listener).split(":")
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(data)
            assert _closed(sock), listener
    context = ssl.create_default_context(cafile=secure.tls.ca)
    with socket.create_connection(secure.address("SSL").split(":")[0:1] and ("127.0.0.1", secure.ports["SSL"])) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(_kafka_request(18, 0, b""))
            size = struct.unpack(">i", tls.recv(4))[0]
            assert size > 0  # the broker is unaffected: ApiVersions over TLS is answered
    assert secure.proc.poll() is None


def test_sessions_expire_and_librdkafka_reauthenticates_on_the_same_connection(tmp_path):
    """KIP-368: with connections.max.reauth.ms the session lifetime is told to the client, which
    re-authenticates before it ends; the producer keeps working across several lifetimes."""
    from confluent_kafka import Producer

    broker = SecureBroker(tmp_path, "--connections-max-reauth-ms", "1500")
    broker.data_dir.mkdir()
    broker.start()
    try:
        topic = samples.unique_name("sec-reauth")
        topics.create_topic(broker.bootstrap, topic, partitions=1)
        errors, reports = [], []
        producer = Producer({"bootstrap.servers": broker.address("SASL_PLAINTEXT"), "security.protocol": "SASL_PLAINTEXT",
                             "sasl.mechanism": "SCRAM-SHA-256", "sasl.username": USER, "sasl.password": PASSWORD,
                             "linger.ms": 5, "error_cb": errors.append})
        for i in range(4):  # 4 x 1 s: the sessions of 1.5 s end twice in between
            producer.produce(topic, f"v{i}".encode(), partition=0, on_delivery=lambda err, msg: reports.append(err))
            assert producer.flush(TIMEOUT_S) == 0
            time.sleep(1.0)
        assert reports == [None] * 4 and errors == []
        lines = [line for line in broker.log_text().splitlines() if "sasl_authenticated" in line
                 and "session_lifetime_ms=1500" in line]
        connections = [line.split("connection_id='")[1].split("'")[0] for line in lines]
        assert max(connections.count(c) for c in set(connections)) >= 2, lines  # re-authenticated in place
    finally:
        broker.stop(signal.SIGTERM)

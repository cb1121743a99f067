"""A broker process with PLAINTEXT, SSL (client certificate required) and SASL_SSL listeners: the mTLS
principal is the certificate subject (proved through the authorizer), bad bytes on each listener close
only that connection."""

from __future__ import annotations

import os
import re
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from gateway.security.tls import ensure_generated, issue_client_certificate
from tests.gateway.rawclient import RawClient
from wire.errors import ErrorCode

ROOT = Path(__file__).resolve().parents[3]
LISTENER = re.compile(r"ottla listener (\w+) \((\w+)\) of broker \d+ on ([\d.]+):(\d+)")


@pytest.fixture(scope="module")
def tls_broker():
    with tempfile.TemporaryDirectory(prefix="ottla-tls-") as tmp:
        args = [sys.executable, "-m", "gateway", "serve", "--memory", "--data-dir", tmp, "--log-level", "warning",
                "--listener", "PLAINTEXT://127.0.0.1:0", "--listener", "SSL://127.0.0.1:0",
                "--listener", "SASL_SSL://127.0.0.1:0", "--ssl-client-auth", "required",
                "--authorizer", "--super-user", "User:CN=admin", "--user", "alice:alice-secret"]
        proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        ports = {}
        for line in proc.stdout:
            if match := LISTENER.search(line):
                ports[match.group(1)] = int(match.group(4))
            if line.startswith("ottla ready"):
                break
        assert set(ports) == {"PLAINTEXT", "SSL", "SASL_SSL"}, ports
        tls_dir = Path(tmp) / "tls"
        admin = issue_client_certificate(tls_dir, "admin", Path(tmp) / "admin")
        nobody = issue_client_certificate(tls_dir, "nobody", Path(tmp) / "nobody")
        rogue_dir = Path(tmp) / "rogue"
        ensure_generated(rogue_dir, [])
        rogue = issue_client_certificate(rogue_dir, "admin", Path(tmp) / "rogue")
        try:
            yield proc, ports, str(tls_dir / "ca.pem"), {"admin": admin, "nobody": nobody, "rogue": rogue}
        finally:
            proc.terminate()
            proc.wait(10)


def tls_client(port: int, ca: str, cert: tuple[str, str] | None) -> RawClient:
    client = RawClient(("127.0.0.1", port))
    context = ssl.create_default_context(cafile=ca)
    if cert is not None:
        context.load_cert_chain(*cert)
    client.sock = context.wrap_socket(client.sock, server_hostname="127.0.0.1")
    return client


def create_topic(client: RawClient, name: str) -> int:
    answer = client.request(19, 5, {"topics": [{"name": name, "num_partitions": 1, "replication_factor": 1,
                                                "assignments": [], "configs": []}],
                                    "timeout_ms": 5000, "validate_only": False})
    return answer.topics[0].error_code


def closed(sock: socket.socket) -> bool:
    sock.settimeout(10)
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, ssl.SSLError):
        return True


def test_the_mtls_principal_is_the_certificate_subject(tls_broker):
    proc, ports, ca, certs = tls_broker
    admin = tls_client(ports["SSL"], ca, certs["admin"])  # User:CN=admin is a super user
    assert create_topic(admin, "by-admin") == ErrorCode.NONE
    nobody = tls_client(ports["SSL"], ca, certs["nobody"])  # User:CN=nobody has no ACLs
    assert create_topic(nobody, "by-nobody") == ErrorCode.TOPIC_AUTHORIZATION_FAILED
    anonymous = RawClient(("127.0.0.1", ports["PLAINTEXT"]))
    assert create_topic(anonymous, "by-anonymous") == ErrorCode.TOPIC_AUTHORIZATION_FAILED
    for client in (admin, nobody, anonymous):
        client.close()


def test_untrusted_or_missing_client_certificates_are_refused(tls_broker):
    proc, ports, ca, certs = tls_broker
    for cert in (certs["rogue"], None):
        try:
            client = tls_client(ports["SSL"], ca, cert)
            client.sock.sendall(struct.pack(">ihhih", 10, 18, 0, 1, 0))
            assert closed(client.sock)  # TLS 1.3: the refusal arrives after the client's handshake
        except (ssl.SSLError, ConnectionResetError):
            pass
    with pytest.raises(ssl.SSLCertVerificationError):  # a client that does not trust the broker's CA
        tls_client(ports["SSL"], ensure_generated(Path(certs["rogue"][0]).parent / "rogue", [])[2], None)
    assert proc.poll() is None


def test_garbage_on_each_listener_closes_only_that_connection(tls_broker):
    proc, ports, ca, certs = tls_broker
    client_hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64)
    for port, data in ((ports["PLAINTEXT"], client_hello), (ports["SSL"], struct.pack(">ihhih", 10, 18, 0, 1, 0)),
                       (ports["SASL_SSL"], b"GET / HTTP/1.1\r\n\r\n" * 10), (ports["SSL"], os.urandom(4096))):
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(data)
            assert closed(sock)
    sasl_ssl = tls_client(ports["SASL_SSL"], ca, None)  # SASL_SSL asks for no certificate
    sasl_ssl.sock.sendall(struct.pack(">i", 1 << 20) + b"\0" * 1000)  # oversized before authentication
    assert closed(sasl_ssl.sock)
    healthy = tls_client(ports["SASL_SSL"], ca, None)
    answer = healthy.request(17, 1, {"mechanism": "PLAIN"})
    assert answer.error_code == 0
    assert healthy.request(36, 2, {"auth_bytes": b"\0alice\0alice-secret"}).error_code == 0
    assert healthy.request(3, 9, {"topics": None, "allow_auto_topic_creation": False}).brokers[0].port == \
        ports["SASL_SSL"]  # each listener advertises its own address
    assert proc.poll() is None

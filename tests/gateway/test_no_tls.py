"""gateway.no_tls: `ottla serve` without TLS listeners never loads OpenSSL (ssl is a stand-in that asyncio and uvloop
import), serves as before, and a broker with a TLS listener or the HTTP server gets the real ssl."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys

import pytest

from gateway import no_tls
from gateway.cli import parser, serve_config


def _config(*flags: str):
    argv = ["serve", *flags]
    return serve_config(parser(tools=False).parse_args(argv), argv)


def test_the_stand_in_has_what_asyncio_and_uvloop_read_and_refuses_any_use():
    module = no_tls._module()
    for name in ("SSLContext", "MemoryBIO", "SSLSocket", "SSLError", "SSLWantReadError", "SSLSyscallError",
                 "SSLZeroReturnError", "CertificateError", "create_default_context"):
        assert hasattr(module, name), name
    assert (module.SSL_ERROR_WANT_READ, module.SSL_ERROR_WANT_WRITE, module.SSL_ERROR_SYSCALL) == (
        ssl.SSL_ERROR_WANT_READ, ssl.SSL_ERROR_WANT_WRITE, ssl.SSL_ERROR_SYSCALL)
    assert issubclass(module.SSLWantReadError, module.SSLError) and issubclass(module.SSLError, OSError)
    with socket.socket() as sock:
        assert not isinstance(sock, module.SSLSocket) and not isinstance(None, module.SSLContext)
    with pytest.raises(no_tls.TlsNotLoaded, match="no SSL or SASL_SSL listener"):
        module.SSLContext(2)
    with pytest.raises(no_tls.TlsNotLoaded):
        module.create_default_context()
    with pytest.raises(AttributeError, match=r"serves no TLS .*: no ssl\.PROTOCOL_TLS_SERVER"):
        module.PROTOCOL_TLS_SERVER
    assert getattr(module, "OP_NO_SSLv2", "absent") == "absent"
    assert module.STANDIN is True and getattr(ssl, "STANDIN", False) is False


def test_only_a_broker_without_tls_listeners_or_http_server_goes_without():
    assert no_tls.needs_tls(_config()) is False
    assert no_tls.needs_tls(_config("--listener", "SASL_PLAINTEXT://127.0.0.1:9093", "--user", "a:b")) is False
    assert no_tls.needs_tls(_config("--listener", "SSL://127.0.0.1:9093")) is True
    assert no_tls.needs_tls(_config("--listener", "SASL_SSL://127.0.0.1:9093", "--user", "a:b")) is True
    assert no_tls.needs_tls(_config("--set", "listeners=INTERNAL://127.0.0.1:9093",
                                    "--set", "listener.security.protocol.map=INTERNAL:SSL")) is True
    assert no_tls.needs_tls(_config("--http-port", "0")) is True


def test_not_installed_where_ssl_or_asyncio_is_already_imported():
    import asyncio  # noqa: F401  (as in this test process: the real ssl stays)

    real = sys.modules["ssl"]
    assert no_tls.install(_config()) is False
    assert sys.modules["ssl"] is real and no_tls.installed() is False


# `ottla serve` (gateway.cli.main) in a fresh interpreter, asked by a client thread for ApiVersions, Metadata and a
# Produce; then what the process has loaded
SERVE = r'''
import json, os, signal, sys, threading
from gateway.cli import main

port, tls_port = int(sys.argv[2]), int(sys.argv[3])  # tls_port 0: no TLS listener
report = {}


def client():
    try:
        from tests.gateway.rawclient import RawClient
        from wire.records import build_batch
        raw = RawClient.once_listening(("127.0.0.1", port))
        report["api_versions"] = raw.request(18, 3, {"client_software_name": "t", "client_software_version": "1"}).error_code
        report["brokers"] = len(raw.request(3, 12, {"topics": None, "allow_auto_topic_creation": False,
                                                     "include_topic_authorized_operations": False}).brokers)
        produced = raw.request(0, 9, {"transactional_id": None, "acks": -1, "timeout_ms": 5000, "topic_data": [
            {"name": "t", "partition_data": [{"index": 0, "records": build_batch([(None, b"v", [], 1)])}]}]})
        report["produce"] = produced.responses[0].partition_responses[0].error_code
        import asyncio.sslproto, gateway.no_tls
        report["openssl"] = sorted(m for m in ("_ssl", "_hashlib") if m in sys.modules)
        report["standin"] = gateway.no_tls.installed()
        report["asyncio_holds_it"] = asyncio.sslproto.ssl is sys.modules["ssl"]
        import asyncio, threading
        frames = [sys._current_frames()[threading.main_thread().ident]]
        while frames[-1].f_back is not None:
            frames.append(frames[-1].f_back)
        values = [v for f in frames for v in f.f_locals.values()]
        values += [getattr(v, "_loop", None) for v in values]  # asyncio.Runner's (uvloop.run runs one)
        loops = {type(v).__module__ for v in values if isinstance(v, asyncio.AbstractEventLoop)}
        report["loop"] = sorted(loops)
        raw.sock.close()
        if tls_port:  # ApiVersions v0 over the SSL listener, trusting the CA the broker generated
            import socket, ssl, struct
            context = ssl.create_default_context(cafile=os.path.join(sys.argv[1], "tls", "ca.pem"))
            with context.wrap_socket(socket.create_connection(("127.0.0.1", tls_port), timeout=30),
                                     server_hostname="localhost") as sock:
                payload = struct.pack(">hhih", 18, 0, 1, 4) + b"test"
                sock.sendall(struct.pack(">i", len(payload)) + payload)
                answer = b""
                while len(answer) < 10:
                    answer += sock.recv(65536)
                report["tls_api_versions"] = struct.unpack_from(">h", answer, 8)[0]
    finally:
        print(json.dumps(report), flush=True)
        os.kill(os.getpid(), signal.SIGTERM)


threading.Thread(target=client, daemon=True).start()
flags = ["--listener", "PLAINTEXT://127.0.0.1:%d" % port, "--listener", "SSL://127.0.0.1:%d" % tls_port] if tls_port else ["--port", str(port)]
sys.exit(main(["serve", *flags, "--topic", "t:1", "--data-dir", sys.argv[1], "--log-level", "warning"]))
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(tmp_path, tls: bool) -> dict:
    out = subprocess.run([sys.executable, "-c", SERVE, str(tmp_path / "data"), str(_free_port()),
                          str(_free_port() if tls else 0)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_ottla_serve_without_tls_listeners_serves_on_uvloop_without_openssl(tmp_path):
    report = _serve(tmp_path, tls=False)
    assert report["api_versions"] == 0 and report["brokers"] == 1 and report["produce"] == 0
    assert report["openssl"] == [] and report["standin"] is True and report["asyncio_holds_it"] is True
    assert report["loop"] == ["uvloop"]


def test_ottla_serve_with_a_tls_listener_has_the_real_ssl(tmp_path):
    report = _serve(tmp_path, tls=True)
    assert report["api_versions"] == 0 and report["brokers"] == 1 and report["produce"] == 0
    assert report["tls_api_versions"] == 0
    assert "_ssl" in report["openssl"] and report["standin"] is False and report["asyncio_holds_it"] is True
    assert report["loop"] == ["uvloop"]

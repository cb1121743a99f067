"""One secured Ottla for the security compat tests: every listener kind, users, the generated CA, client
certificates (one signed by the broker's CA, one by a CA the broker does not trust)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from compat_tests.conftest import Broker, free_port

USER, PASSWORD = "alice", "alice-secret"
LISTENERS = ("PLAINTEXT", "SASL_PLAINTEXT", "SSL", "SASL_SSL", "MTLS")


@dataclass
class Tls:
    ca: str  # the broker's generated CA
    client_cert: str  # CN=client, signed by it
    client_key: str
    rogue_ca: str  # a CA the broker does not know
    rogue_cert: str  # a client certificate signed by the rogue CA
    rogue_key: str


class SecureBroker(Broker):
    def __init__(self, root: Path, *extra: str) -> None:
        self.extra = list(extra)
        self.ports = {name: free_port() for name in LISTENERS}
        super().__init__("127.0.0.1", self.ports["PLAINTEXT"], data_dir=root / "data", log_path=root / "broker.log")
        self.root = root
        self.tls: Tls | None = None

    def command(self) -> list[str]:
        command = [arg for arg in super().command() if arg not in ("--host", "127.0.0.1", "--port", str(self.port))]
        for name, port in self.ports.items():
            command += ["--listener", f"{name}://127.0.0.1:{port}"]
        return command + [
            "--set", "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,"
                     "SASL_SSL:SASL_SSL,MTLS:SSL",
            "--set", "listener.name.mtls.ssl.client.auth=required",
            "--ssl-client-auth", "requested",
            "--user", f"{USER}:{PASSWORD}", "--user", "bob:bob-secret", *self.extra,
        ]

    def address(self, listener: str) -> str:
        return f"127.0.0.1:{self.ports[listener]}"

    def make_client_certificates(self) -> Tls:
        from gateway.security.tls import ensure_generated, issue_client_certificate

        tls_dir = self.data_dir / "tls"
        client_cert, client_key = issue_client_certificate(tls_dir, "client", self.root / "client")
        rogue_dir = self.root / "rogue"
        ensure_generated(rogue_dir, [])  # a second CA, unknown to the broker
        rogue_cert, rogue_key = issue_client_certificate(rogue_dir, "rogue", self.root / "rogue-client")
        self.tls = Tls(str(tls_dir / "ca.pem"), client_cert, client_key, str(rogue_dir / "ca.pem"), rogue_cert,
                       rogue_key)
        return self.tls


def external() -> bool:
    return bool(os.environ.get("KAFKA_BOOTSTRAP"))

"""A broker with SASL_PLAINTEXT users and the authorizer on, for the ACL tests (Ottla-started only:
an external broker's users and authorizer are its own)."""

from __future__ import annotations

import importlib.util
import os
import signal

import pytest

from compat_tests.conftest import Broker, free_port

ADMIN, ALICE, BOB = ("admin", "admin-secret"), ("alice", "alice-secret"), ("bob", "bob-secret")


class SecuredBroker(Broker):
    def command(self) -> list[str]:
        base = super().command()
        return base + ["--listener", f"SASL_PLAINTEXT://{self.host}:{self.port}", "--authorizer",
                       "--super-user", "User:admin", "--no-auto-create-topics",
                       *[f"--user={name}:{password}" for name, password in (ADMIN, ALICE, BOB)]]


def secured_broker(tmp_path_factory):
    if os.environ.get("KAFKA_BOOTSTRAP"):
        pytest.skip("the ACL tests start their own broker with SASL users and the authorizer on")
    if importlib.util.find_spec("gateway.security.flags") is None:  # SASL listeners (the auth engineer's)
        pytest.skip("this Ottla has no SASL listeners yet")
    root = tmp_path_factory.mktemp("ottla-acl")
    broker = SecuredBroker("127.0.0.1", free_port(), data_dir=root / "data", log_path=root / "broker.log")
    broker.data_dir.mkdir()
    broker.start()
    return broker


@pytest.fixture(scope="module")
def acl_broker(tmp_path_factory):
    """A SASL_PLAINTEXT broker with the authorizer on, for one test module."""
    broker = secured_broker(tmp_path_factory)
    yield broker
    broker.stop(signal.SIGTERM)


def sasl(user) -> dict:
    """confluent-kafka settings for SASL_PLAINTEXT PLAIN as `user`."""
    return {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN", "sasl.username": user[0],
            "sasl.password": user[1]}


"""The pytest plugin (entry point `pytest11: ottla`): fixtures `kafka_broker` and `kafka_cluster`.

`kafka_broker` is a fresh Ottla broker per test with pytest-kafka-broker's KafkaBrokerContext API
(`bootstrap_server`, `config()`, `admin()`, `producer()`, `consumer()`, `aio_producer()`,
`aio_consumer()`), so tests written for that plugin run unchanged, plus Ottla's own (`restart()`,
`kill()`, `fault(...)`, `trace()` ...: see ottla.testing). `kafka_cluster` is the same with N
brokers (`ottla serve --brokers N`, default 3) and `stop_broker(n)`, `move_leader(...)` & co.

    @pytest.mark.ottla(brokers=5, args=["--default-partitions", "3"])   # per test
    [pytest] ottla_broker_args = --default-partitions 3                  # every broker
    pytest --kafka-bootstrap HOST:PORT   # (or $KAFKA_BOOTSTRAP) the same tests against any Kafka: the
                                         # clients work there, tests calling Ottla-only methods skip

Nothing heavy is imported until a fixture is used.
"""

from __future__ import annotations

import os

import pytest

ENV_BOOTSTRAP = "KAFKA_BOOTSTRAP"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ottla", "Ottla (kafka_broker, kafka_cluster fixtures)")
    group.addoption("--kafka-bootstrap", metavar="HOST:PORT", default=None,
                    help=f"use this Kafka for kafka_broker/kafka_cluster instead of starting Ottla (default: "
                         f"${ENV_BOOTSTRAP}); tests needing Ottla's own features (faults, restart, kill) skip")
    parser.addini("ottla_broker_args", type="args", default=[], help="extra `ottla serve` flags for every broker")
    parser.addini("ottla_cluster_brokers", default="3", help="brokers in kafka_cluster (default 3)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "ottla(brokers=N, args=[...], memory=False): how kafka_broker/kafka_cluster "
                                       "start Ottla for this test")


def _external(config: pytest.Config) -> str | None:
    return config.getoption("--kafka-bootstrap") or os.environ.get(ENV_BOOTSTRAP) or None


def _start(request: pytest.FixtureRequest, tmp_path, brokers: int):
    from ottla.testing import ExternalKafka, OttlaBroker, OttlaOnly

    bootstrap = _external(request.config)
    if bootstrap:
        class SkippingKafka(ExternalKafka):
            def __getattr__(self, name):
                if name in OttlaBroker.OTTLA_ONLY:
                    def skip(*args, **kwargs):
                        pytest.skip(f"{name}() needs Ottla (running against {bootstrap})")
                    return skip
                raise AttributeError(name)

        return SkippingKafka(bootstrap)
    marker = request.node.get_closest_marker("ottla")
    options = dict(marker.kwargs) if marker else {}
    brokers = options.pop("brokers", brokers)
    args = list(request.config.getini("ottla_broker_args")) + list(options.pop("args", ()))
    broker = OttlaBroker(tmp_path / "ottla", brokers=brokers, args=args, **options)
    try:
        broker.start()
    except OttlaOnly as exc:
        pytest.skip(str(exc))
    return broker


def _finish(broker) -> None:
    if getattr(broker, "is_ottla", False):
        broker.kill()  # its data dies with tmp_path: no need to wait for a clean shutdown


@pytest.fixture
def kafka_broker(request: pytest.FixtureRequest, tmp_path):
    """A fresh Ottla broker for this test (or the --kafka-bootstrap Kafka)."""
    broker = _start(request, tmp_path, 1)
    yield broker
    _finish(broker)


@pytest.fixture
def kafka_cluster(request: pytest.FixtureRequest, tmp_path):
    """A fresh N-broker Ottla cluster for this test (ini ottla_cluster_brokers, default 3)."""
    broker = _start(request, tmp_path, int(request.config.getini("ottla_cluster_brokers")))
    yield broker
    _finish(broker)

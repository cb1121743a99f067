"""The shared client options of every verb, and the Kafka clients built from them.

`--bootstrap-server HOST:PORT[,...]` (Kafka's flag; else env KAFKA_BOOTSTRAP_SERVERS, else the config file's
bootstrap.servers, else 127.0.0.1:9092), `--command-config FILE` (Kafka's client properties: security.protocol,
sasl.mechanism, sasl.jaas.config, ssl.truststore.* ...), `--output table|json`, `--timeout SECONDS`.

The clients are confluent-kafka's (librdkafka): imported here, inside the functions, never at module import.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from typing import Any

from gateway.tools._output import CliError, exit_code_for, kafka_error_name, usage

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
ENV_BOOTSTRAP = "KAFKA_BOOTSTRAP_SERVERS"

# Java client settings that mean nothing to librdkafka (serializers are the tool's business)
_JAVA_ONLY = {"key.serializer", "value.serializer", "key.deserializer", "value.deserializer", "sasl.jaas.config",
              "ssl.truststore.location", "ssl.truststore.type", "ssl.truststore.password", "ssl.keystore.type",
              "sasl.login.callback.handler.class", "sasl.client.callback.handler.class", "interceptor.classes",
              "partitioner.class", "metric.reporters", "ssl.protocol", "ssl.enabled.protocols",
              "ssl.keymanager.algorithm", "ssl.trustmanager.algorithm", "default.api.timeout.ms"}
_JAAS = re.compile(r'(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"')


def _client_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("client options")
    group.add_argument("--bootstrap-server", metavar="HOST:PORT[,...]",
                       help=f"the cluster (default: ${ENV_BOOTSTRAP}, else bootstrap.servers of --command-config, "
                            f"else {DEFAULT_BOOTSTRAP})")
    group.add_argument("--command-config", metavar="FILE",
                       help="a Kafka client properties file (security.protocol, sasl.*, ssl.*, client.id ...)")
    group.add_argument("--output", "-o", choices=("table", "json"), default="table", help="default: table")
    group.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                       help="how long to wait for the cluster (default: 30)")
    return options


CLIENT_OPTIONS = _client_options()


def add_verb(verbs, name: str, help_text: str, func: Callable[[argparse.Namespace], int], client: bool = True,
             **kwargs) -> argparse.ArgumentParser:
    """A verb's parser, with the shared client options unless client=False; `func(args)` runs it."""
    parser = verbs.add_parser(name, help=help_text, description=help_text, parents=[CLIENT_OPTIONS] if client else [],
                              **kwargs)
    parser.set_defaults(func=func)
    return parser


def client_config(args: argparse.Namespace) -> dict[str, Any]:
    """librdkafka settings from the shared options (Kafka's client property names translated where they differ)."""
    props: dict[str, str] = {}
    if getattr(args, "command_config", None):
        from gateway.java_properties import read_properties

        try:
            with open(args.command_config, encoding="utf-8") as f:
                props = read_properties(f.read())
        except OSError as error:
            raise usage(f"cannot read --command-config {args.command_config}: {error.strerror}") from None
    config = translate(props)
    bootstrap = args.bootstrap_server or os.environ.get(ENV_BOOTSTRAP) or config.get("bootstrap.servers")
    config["bootstrap.servers"] = bootstrap or DEFAULT_BOOTSTRAP
    config.setdefault("client.id", "ottla-cli")
    config["log_level"] = 0  # librdkafka's own connection complaints: the tool reports failures itself, once
    config["error_cb"] = _remember_error
    return config


_AUTH_ERRORS: list = []  # what librdkafka's error_cb said about authentication, the cause behind a _TRANSPORT
_CLIENTS: list = []  # the AdminClients made, whose error callbacks translate_error serves


def _remember_error(kafka_error) -> None:
    if kafka_error.name() in ("_AUTHENTICATION", "SASL_AUTHENTICATION_FAILED", "_SSL"):
        _AUTH_ERRORS.append(kafka_error)


def translate(props: dict[str, str]) -> dict[str, Any]:
    """Kafka's (Java) client properties -> librdkafka's: same names mostly; JAAS, PEM truststores and
    the endpoint identification algorithm spelled librdkafka's way; Java-only settings dropped."""
    config: dict[str, Any] = {k: v for k, v in props.items() if k not in _JAVA_ONLY}
    jaas = props.get("sasl.jaas.config")
    if jaas:
        fields = dict(_JAAS.findall(jaas))
        if "username" in fields:
            config.setdefault("sasl.username", fields["username"])
        if "password" in fields:
            config.setdefault("sasl.password", fields["password"])
    truststore = props.get("ssl.truststore.location")
    if truststore:
        kind = props.get("ssl.truststore.type", "JKS").upper()
        if kind != "PEM":
            raise usage(f"ssl.truststore.type {kind} is Java-only: give a PEM file (ssl.truststore.type=PEM "
                        f"or ssl.ca.location)")
        config.setdefault("ssl.ca.location", truststore)
    if props.get("ssl.keystore.location") and props.get("ssl.keystore.type", "PKCS12").upper() == "JKS":
        raise usage("ssl.keystore.type JKS is Java-only: give a PKCS12 or PEM keystore")
    if "ssl.endpoint.identification.algorithm" in config and not config["ssl.endpoint.identification.algorithm"]:
        config["ssl.endpoint.identification.algorithm"] = "none"  # Kafka's empty value switches it off
    return config


def translate_error(kafka_error) -> CliError:
    """A confluent_kafka.KafkaError as a CliError with Kafka's error name and the matching exit code."""
    if kafka_error.name() in ("_TRANSPORT", "_TIMED_OUT", "_ALL_BROKERS_DOWN", "_MSG_TIMED_OUT"):
        refused = auth_failure()
        if refused is not None:
            return refused
    code = kafka_error.code()
    name = kafka_error_name(code, kafka_error.name())
    message = kafka_error.str()
    return CliError(message, name=name, exit_code=exit_code_for(name))


def auth_failure() -> CliError | None:
    """The broker refused our credentials (seen by librdkafka's error_cb), as a CliError; else None.

    A failed SASL/TLS handshake reaches a call only as _TRANSPORT or a timeout; its cause is an error event,
    which each client's poll() serves. The tool is failing when this is asked, so consuming is harmless."""
    for client in _CLIENTS:
        client.poll(0)
    if not _AUTH_ERRORS:
        return None
    error = _AUTH_ERRORS[-1]
    return CliError(error.str(), name=error.name(), exit_code=exit_code_for(error.name()))


def admin(args: argparse.Namespace):
    from confluent_kafka.admin import AdminClient

    config = client_config(args)
    config.setdefault("socket.connection.setup.timeout.ms", int(max(args.timeout, 1) * 1000))
    return _make(AdminClient, config, "client")


def producer(args: argparse.Namespace, extra: dict[str, Any]):
    from confluent_kafka import Producer

    return _make(Producer, {**client_config(args), **extra}, "producer")


def consumer(args: argparse.Namespace, extra: dict[str, Any]):
    from confluent_kafka import Consumer

    return _make(Consumer, {**client_config(args), **extra}, "consumer")


def _make(cls, config: dict[str, Any], what: str):
    from confluent_kafka import KafkaException

    try:
        client = cls(config)
    except KafkaException as error:
        raise usage(f"bad {what} config: {error.args[0].str()}") from None
    except (ValueError, TypeError) as error:
        raise usage(f"bad {what} config: {error}") from None
    _CLIENTS.append(client)
    return client


def call(args: argparse.Namespace, fn: Callable, *a, **kw):
    """Run one blocking client call, turning a KafkaException into a CliError."""
    from confluent_kafka import KafkaException

    try:
        return fn(*a, **kw)
    except KafkaException as error:
        raise translate_error(error.args[0]) from None


def result(args: argparse.Namespace, future):
    """Wait for one admin future (at most --timeout); its KafkaException as a CliError."""
    from concurrent.futures import TimeoutError as FutureTimeout

    from confluent_kafka import KafkaException

    try:
        return future.result(timeout=args.timeout)
    except KafkaException as error:
        raise translate_error(error.args[0]) from None
    except FutureTimeout:
        raise auth_failure() or CliError(f"no answer within {args.timeout:g} s", name="REQUEST_TIMED_OUT") from None


def results(args: argparse.Namespace, futures: dict) -> tuple[dict, dict[Any, CliError]]:
    """Every future of a dict: (key -> value, key -> CliError)."""
    done, failed = {}, {}
    for key, future in futures.items():
        try:
            done[key] = result(args, future)
        except CliError as error:
            failed[key] = error
    return done, failed


def metadata(args: argparse.Namespace, client, topic: str | None = None):
    """ClusterMetadata (every topic, or one), failing with exit 3 when no broker answers in --timeout."""
    return call(args, client.list_topics, topic=topic, timeout=args.timeout)


def partitions(args: argparse.Namespace, client, topic: str) -> list[int]:
    """A topic's partition ids by DescribeTopics (a Metadata lookup that never auto-creates the topic)."""
    from confluent_kafka import TopicCollection

    future = client.describe_topics(TopicCollection([topic]), request_timeout=args.timeout)[topic]
    return sorted(p.id for p in result(args, future).partitions)

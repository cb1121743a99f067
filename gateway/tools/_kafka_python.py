"""kafka-python's KafkaAdminClient for the admin APIs confluent-kafka 2.16 lacks (ListTransactions,
DescribeTransactions, OffsetDelete), built from the same shared options (librdkafka's names translated to
kafka-python's keyword arguments), its errors as CliErrors with Kafka's names."""

from __future__ import annotations

from gateway.tools import _client, _output
from gateway.tools._output import CliError

_KAFKA_PYTHON = {"bootstrap.servers": "bootstrap_servers", "client.id": "client_id",
                 "security.protocol": "security_protocol", "sasl.mechanism": "sasl_mechanism",
                 "sasl.mechanisms": "sasl_mechanism", "sasl.username": "sasl_plain_username",
                 "sasl.password": "sasl_plain_password", "ssl.ca.location": "ssl_cafile",
                 "ssl.certificate.location": "ssl_certfile", "ssl.key.location": "ssl_keyfile",
                 "ssl.key.password": "ssl_password"}


def admin(args):
    config = _client.client_config(args)
    kwargs = {_KAFKA_PYTHON[k]: v for k, v in config.items() if k in _KAFKA_PYTHON}
    kwargs["bootstrap_servers"] = kwargs["bootstrap_servers"].split(",")
    if config.get("ssl.endpoint.identification.algorithm") == "none":
        kwargs["ssl_check_hostname"] = False
    kwargs["request_timeout_ms"] = int(args.timeout * 1000)
    from kafka.admin import KafkaAdminClient
    from kafka.errors import KafkaError, KafkaTimeoutError

    try:
        return KafkaAdminClient(**kwargs)
    except KafkaTimeoutError:
        raise CliError(f"no broker answered at {config['bootstrap.servers']}", name="_TRANSPORT") from None
    except KafkaError as error:
        raise translate(error) from None


def translate(error) -> CliError:
    errno = getattr(error, "errno", None)
    name = _output.kafka_error_name(errno) if isinstance(errno, int) else type(error).__name__
    return CliError(str(error) or name, name=name)


def call(fn, *a, **kw):
    from kafka.errors import KafkaError

    try:
        return fn(*a, **kw)
    except KafkaError as error:
        raise translate(error) from None

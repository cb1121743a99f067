"""`ottla serve`'s security flags (listeners, users, TLS), added to the serve parser in one call."""

from __future__ import annotations

import argparse

from gateway.config import Config


def parse_user(text: str) -> tuple[str, str]:
    name, sep, password = text.partition(":")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"--user needs NAME:PASSWORD, not {text!r}")
    return name, password


def add_security_flags(serve: argparse.ArgumentParser) -> None:
    group = serve.add_argument_group("listeners and security (README.md, Security)")
    group.add_argument("--listener", dest="listener_specs", action="append", default=[], metavar="NAME://HOST:PORT",
                       help="a listener (repeatable; NAME maps to a protocol by listener.security.protocol.map: "
                            "PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL); replaces --host/--port")
    group.add_argument("--user", dest="users", action="append", type=parse_user, default=[], metavar="NAME:PASSWORD",
                       help="a SASL user: PLAIN and SCRAM-SHA-256/512 credentials (repeatable)")
    group.add_argument("--ssl-cert", help="the server certificate (PEM); without it a CA and a certificate are "
                                          "generated under <data-dir>/tls/")
    group.add_argument("--ssl-key", help="the server certificate's private key (PEM)")
    group.add_argument("--ssl-ca", help="CA certificates (PEM) client certificates must chain to")
    group.add_argument("--ssl-client-auth", choices=("none", "requested", "required"), default=Config.ssl_client_auth,
                       help="SSL listeners: ask clients for a certificate (Kafka's ssl.client.auth)")
    group.add_argument("--connections-max-reauth-ms", type=int, default=Config.connections_max_reauth_ms,
                       help="KIP-368: SASL sessions last this long, then the client re-authenticates (0: never)")


def finish_fields(fields: dict, given: set[str]) -> None:
    """Flags take precedence over the properties file: --host/--port without --listener is the shorthand."""
    if "listener_specs" not in given and ({"host", "port"} & given):
        fields["listener_specs"] = ()
    for name in ("listener_specs", "users", "sasl_enabled_mechanisms"):
        if name in fields:
            fields[name] = tuple(fields[name])

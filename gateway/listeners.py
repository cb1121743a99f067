"""Listeners as Kafka writes them: `NAME://HOST:PORT`, each with a security protocol and its own
advertised address.

- `--listener NAME://HOST:PORT` (repeatable) or `listeners=` in the properties file. NAME is the
  listener name; its security protocol comes from `listener.security.protocol.map` (Kafka's default
  maps each protocol name to itself: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL).
- `advertised.listeners=NAME://HOST:PORT,...` gives a listener another address to advertise; a
  listener not named there advertises its own (a port of 0 advertises the port the OS picked).
- `--host/--port` (`--advertised-host/--advertised-port`) are the one-PLAINTEXT-listener shorthand.

Each Node (gateway/node.py) gets one Endpoint per listener (at port + i for broker i of --brokers N);
Metadata, FindCoordinator, DescribeCluster answer with the address of the listener the client connected
through (`node.address(ctx.listener_name)`), as Kafka does. The server (gateway/server.py) wraps SSL
and SASL_SSL listeners in TLS and gives SASL listeners' connections the SASL pipeline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
DEFAULT_PROTOCOL_MAP = {p: p for p in PROTOCOLS}
_LISTENER = re.compile(r"([A-Za-z0-9_]+)://(\[[^\]]*\]|[^:,\s]*):([0-9]+)")


class ListenerError(ValueError):
    pass


@dataclass(frozen=True)
class Listener:
    """One listener: its name, security protocol, bound and advertised address."""

    name: str
    security_protocol: str
    host: str
    port: int
    advertised_host: str
    advertised_port: int

    @property
    def tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @property
    def sasl(self) -> bool:
        return self.security_protocol in ("SASL_PLAINTEXT", "SASL_SSL")

    def uri(self, advertised: bool = False) -> str:
        host, port = (self.advertised_host, self.advertised_port) if advertised else (self.host, self.port)
        return f"{self.name}://{host}:{port}"


def parse_protocol_map(text: str | None) -> dict[str, str]:
    """listener.security.protocol.map: "NAME:PROTOCOL,..." (Kafka's names are upper case)."""
    if not text:
        return dict(DEFAULT_PROTOCOL_MAP)
    mapping = {}
    for item in text.split(","):
        if not item.strip():
            continue
        name, sep, protocol = item.strip().partition(":")
        protocol = protocol.strip().upper()
        if not sep or protocol not in PROTOCOLS:
            raise ListenerError(f"Invalid value {text} for configuration listener.security.protocol.map: "
                                f"{item.strip()!r} does not map a listener name to one of {', '.join(PROTOCOLS)}")
        mapping[name.strip().upper()] = protocol
    return mapping


def parse_uris(text: str, config_name: str = "listeners") -> list[tuple[str, str, int]]:
    """"NAME://HOST:PORT,..." as (NAME, host, port); an empty host stays empty (all interfaces)."""
    uris = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        match = _LISTENER.fullmatch(item)
        if not match:
            raise ListenerError(f"Invalid value {text} for configuration {config_name}: expected "
                                f"NAME://HOST:PORT, not {item!r}")
        uris.append((match.group(1).upper(), match.group(2).strip("[]"), int(match.group(3))))
    names = [u[0] for u in uris]
    if len(set(names)) != len(names):
        raise ListenerError(f"Invalid value {text} for configuration {config_name}: each listener must have a "
                            "different name")
    return uris


def build(uris: list[tuple[str, str, int]], protocol_map: dict[str, str],
          advertised: list[tuple[str, str, int]] = (), advertised_host: str | None = None,
          advertised_port: int | None = None) -> tuple[Listener, ...]:
    """The listeners, each with its protocol and the address it advertises."""
    by_name = {name: (host, port) for name, host, port in advertised}
    unknown = set(by_name) - {u[0] for u in uris}
    if unknown:
        raise ListenerError(f"advertised.listeners names listeners that do not exist: {', '.join(sorted(unknown))}")
    listeners = []
    for name, host, port in uris:
        protocol = protocol_map.get(name)
        if protocol is None:
            raise ListenerError(f"No security protocol defined for listener {name} "
                                "(listener.security.protocol.map)")
        adv_host, adv_port = by_name.get(name, (advertised_host or host or "0.0.0.0",
                                                 advertised_port if advertised_port and len(uris) == 1 else port))
        listeners.append(Listener(name, protocol, host or "0.0.0.0", port, adv_host, adv_port))
    return tuple(listeners)


def build_from_config(config) -> tuple[Listener, ...]:
    """Config.listeners: `listener_specs` (--listener or listeners=) with the properties' protocol map and
    advertised.listeners; without specs, the one PLAINTEXT listener of --host/--port."""
    props = dict(config.properties)
    protocol_map = parse_protocol_map(props.get("listener.security.protocol.map"))
    if not config.listener_specs:
        return (Listener("PLAINTEXT", "PLAINTEXT", config.host, config.port, config.advertised_host or config.host,
                         config.advertised_port or config.port),)
    uris = parse_uris(",".join(config.listener_specs), "listeners")
    if props.get("advertised.listeners"):  # by name; the listeners it does not name advertise their own address
        return build(uris, protocol_map, parse_uris(props["advertised.listeners"], "advertised.listeners"))
    return build(uris, protocol_map, [], config.advertised_host, config.advertised_port)


def advertised(ctx) -> tuple[str, int]:
    """The address this connection's listener advertises (Kafka answers with the listener the client used)."""
    node = ctx.node
    if node is not None:
        return node.address(ctx.listener_name)
    return ctx.broker.host, ctx.broker.port

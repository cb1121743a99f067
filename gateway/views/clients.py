"""Connected clients: every live connection, with the software ApiVersions named (KIP-511) and, where
the client pushed them, its KIP-714 metrics. When gateway/clients.py (the registry of live
connections) exists its entries are shown instead, as it knows more (client id, APIs used)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClientView:
    connection_id: str
    peer: str
    listener: str
    principal: str
    software_name: str | None
    software_version: str | None
    client_id: str | None = None
    extra: dict | None = None  # what the registry adds (APIs used, connected_at ...)


@dataclass(frozen=True)
class TelemetryClientView:
    client_instance_id: str
    attributes: dict[str, str]
    metrics: list[str]  # the subscribed metric prefixes
    push_interval_ms: int
    last_push_ms: int
    last_push_bytes: int


def _registry_entries(broker) -> list[ClientView] | None:
    registry = getattr(broker, "clients", None)
    entries = getattr(registry, "entries", None) or getattr(registry, "connections", None)
    if entries is None:
        return None
    entries = entries() if callable(entries) else entries
    entries = entries.values() if isinstance(entries, dict) else entries
    views = []
    for e in entries:
        d = e if isinstance(e, dict) else {k: v for k, v in vars(e).items() if not k.startswith("_")}
        known = {"connection_id", "id", "peer", "listener", "listener_name", "principal", "software_name",
                 "client_software_name", "software_version", "client_software_version", "client_id"}
        views.append(ClientView(
            str(d.get("connection_id", d.get("id", ""))), str(d.get("peer", "")),
            str(d.get("listener", d.get("listener_name", ""))), str(d.get("principal", "")),
            d.get("software_name", d.get("client_software_name")),
            d.get("software_version", d.get("client_software_version")), d.get("client_id"),
            {k: v for k, v in d.items() if k not in known} or None))
    return views


def list_clients(broker) -> list[ClientView]:
    registered = _registry_entries(broker)
    if registered is not None:
        return sorted(registered, key=lambda v: v.connection_id)
    software = broker.telemetry.software
    views = []
    for connection in list(broker.connections):
        pipeline = getattr(connection, "pipeline", None)
        if pipeline is None or pipeline.closed:
            continue
        name, version = software.get(pipeline.connection_id, (None, None))
        views.append(ClientView(pipeline.connection_id, pipeline.peer, pipeline.listener_name, pipeline.principal,
                                name, version))
    return sorted(views, key=lambda v: v.connection_id)


def telemetry_clients(broker) -> list[TelemetryClientView]:
    views = []
    for instance_id, client in broker.telemetry.clients.items():
        latest = client.latest
        views.append(TelemetryClientView(
            instance_id.hex(), dict(client.attributes), list(client.metrics), client.push_interval_ms,
            latest.received_ms if latest is not None else -1, len(latest.metrics) if latest is not None else 0))
    return views

"""The per-client compatibility report, built from trace lines (gateway/trace.py) wherever they come from.

For each client software and version seen (KIP-511: what ApiVersions v3+ named; a client that sends an
older ApiVersions is listed by its client id, with its software "not sent"): the APIs and versions it
used and how often, the features it exercised (idempotence, transactions, compression codecs of its
produced batches, group protocol and assignors, fetch sessions, isolation levels, SASL mechanisms,
client telemetry), the errors it was answered, and the requests Ottla refused and why (a closed
connection for an API, version or body it could not serve, or an answer saying the request's form is
not accepted: REFUSAL_CODES).

`Compatibility.add(line)` takes one trace line (a dict); the broker feeds it live (gateway/clients.py,
GET /v1/clients) and `from_trace_files` replays a trace file, so both give the same report.
`to_markdown(report)` renders the JSON form (what /v1/clients serves under "report") for `ottla report`.

Bounded: at most MAX_CLIENTS software entries (later ones are counted under one "other clients" entry),
MAX_CLIENT_IDS client ids and MAX_REFUSALS refusal reasons per entry; the rest are per API, version and
error code, which the protocol bounds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

MAX_CLIENTS = 1000
MAX_CLIENT_IDS = 20
MAX_REFUSALS = 50
MAX_CONNECTIONS_COUNTED = 100_000  # distinct connection ids remembered per entry (then the count stops)
REFUSAL_CODES = frozenset({
    "UNSUPPORTED_VERSION", "INVALID_REQUEST", "UNSUPPORTED_COMPRESSION_TYPE", "UNSUPPORTED_FOR_MESSAGE_FORMAT",
    "UNSUPPORTED_SASL_MECHANISM", "CORRUPT_MESSAGE", "INVALID_RECORD", "INCONSISTENT_GROUP_PROTOCOL",
    "UNSUPPORTED_ASSIGNOR", "UNSUPPORTED_ENDPOINT_TYPE", "INVALID_REQUIRED_ACKS", "MESSAGE_TOO_LARGE",
    "RECORD_LIST_TOO_LARGE", "INVALID_TIMESTAMP", "INVALID_PRODUCER_ID_MAPPING",
})
NOT_SENT = "not sent"
OTHER = ("other clients", "beyond MAX_CLIENTS")


@dataclass
class ClientStats:
    software_name: str | None
    software_version: str | None
    client_ids: set[str] = field(default_factory=set)
    connections: set[str] = field(default_factory=set)
    requests: int = 0
    first_seen: str | None = None
    last_seen: str | None = None
    apis: dict[str, dict[int, int]] = field(default_factory=dict)
    features: set[str] = field(default_factory=set)
    codecs: set[str] = field(default_factory=set)
    group_protocols: set[str] = field(default_factory=set)
    assignors: set[str] = field(default_factory=set)
    isolation_levels: set[str] = field(default_factory=set)
    fetch_sessions: set[bool] = field(default_factory=set)
    sasl_mechanisms: set[str] = field(default_factory=set)
    errors: dict[str, dict[str, int]] = field(default_factory=dict)
    error_messages: dict[str, str] = field(default_factory=dict)  # "API ERROR" -> the first message
    refused: dict[tuple[str, int, str], int] = field(default_factory=dict)

    def add(self, line: dict) -> None:
        self.requests += 1
        when = line.get("time")
        if when is not None:
            self.first_seen = self.first_seen or when
            self.last_seen = when
        if line.get("client_id") is not None and len(self.client_ids) < MAX_CLIENT_IDS:
            self.client_ids.add(line["client_id"])
        if line.get("connection") and len(self.connections) < MAX_CONNECTIONS_COUNTED:
            self.connections.add(line["connection"])
        api, version = line.get("api") or f"key {line.get('api_key')}", line.get("version")
        by_version = self.apis.setdefault(api, {})
        by_version[version] = by_version.get(version, 0) + 1
        request = line.get("request") or {}
        self.features.update(request.get("features") or ())
        self.codecs.update(request.get("codecs") or ())
        self.assignors.update(a for a in request.get("assignors") or () if a)
        for key, into in (("group_protocol", self.group_protocols), ("isolation_level", self.isolation_levels),
                          ("sasl_mechanism", self.sasl_mechanisms)):
            if request.get(key):
                into.add(request[key])
        if "fetch_session" in request:
            self.fetch_sessions.add(bool(request["fetch_session"]))
        messages = line.get("error_messages") or {}
        for error, count in (line.get("errors") or {}).items():
            by_error = self.errors.setdefault(api, {})
            by_error[error] = by_error.get(error, 0) + count
            if error in messages:
                self.error_messages.setdefault(f"{api} {error}", messages[error])
            if error in REFUSAL_CODES:
                self._refuse(api, version, f"{error}: {messages[error]}" if error in messages else error)
        if line.get("refused"):
            self._refuse(api, version, line["refused"])

    def _refuse(self, api: str, version, reason: str) -> None:
        key = (api, version, reason)
        if key in self.refused or len(self.refused) < MAX_REFUSALS:
            self.refused[key] = self.refused.get(key, 0) + 1

    def as_json(self) -> dict:
        return {
            "software_name": self.software_name or NOT_SENT, "software_version": self.software_version or NOT_SENT,
            "software_sent": self.software_name is not None, "client_ids": sorted(self.client_ids),
            "connections": len(self.connections), "requests": self.requests,
            "first_seen": self.first_seen, "last_seen": self.last_seen,
            "apis": {api: {str(v): n for v, n in sorted(by_version.items(), key=lambda kv: (kv[0] is None, kv[0]))}
                     for api, by_version in sorted(self.apis.items())},
            "features": sorted(self.features), "codecs": sorted(self.codecs),
            "group_protocols": sorted(self.group_protocols), "assignors": sorted(self.assignors),
            "isolation_levels": sorted(self.isolation_levels),
            "fetch_sessions": None if not self.fetch_sessions else (True in self.fetch_sessions),
            "sasl_mechanisms": sorted(self.sasl_mechanisms),
            "errors": {api: dict(sorted(by_error.items())) for api, by_error in sorted(self.errors.items())},
            "error_messages": dict(sorted(self.error_messages.items())),
            "refused": [{"api": api, "version": version, "reason": reason, "count": count}
                        for (api, version, reason), count in sorted(self.refused.items(), key=str)],
        }


class Compatibility:
    def __init__(self) -> None:
        self.clients: dict[tuple, ClientStats] = {}
        self.lines = 0
        self.skipped = 0  # lines that were not trace lines (from_trace_files)

    def add(self, line: dict) -> None:
        self.lines += 1
        name, version = line.get("client_software_name"), line.get("client_software_version")
        key = (name, version) if name else (None, None, line.get("client_id"))
        stats = self.clients.get(key)
        if stats is None:
            if len(self.clients) >= MAX_CLIENTS:
                key = OTHER
                stats = self.clients.get(key)
            if stats is None:
                stats = self.clients[key] = ClientStats(*key[:2]) if key != OTHER else ClientStats(*OTHER)
        stats.add(line)

    def report(self) -> dict:
        entries = sorted(self.clients.values(), key=lambda s: (s.software_name is None, s.software_name or "",
                                                                s.software_version or "", sorted(s.client_ids)))
        return {"clients": [s.as_json() for s in entries], "requests": self.lines}


def from_trace_files(path: str | Path) -> Compatibility:
    """Replay a trace: FILE.1 (the rotated part, older) first if present, then FILE."""
    path = Path(path)
    compat = Compatibility()
    files = [p for p in (path.with_name(path.name + ".1"), path) if p.exists()]
    if not files:
        raise FileNotFoundError(f"no trace at {path}")
    for file in files:
        with open(file, encoding="utf-8", errors="replace") as f:
            for text in f:
                try:
                    line = json.loads(text)
                except ValueError:
                    compat.skipped += 1  # a line cut by a kill -9, or not a trace at all
                    continue
                if isinstance(line, dict) and "api_key" in line:
                    compat.add(line)
                else:
                    compat.skipped += 1
    return compat


def _join(items: Iterable, empty: str = "none") -> str:
    items = [str(i) for i in items]
    return ", ".join(items) if items else empty


def to_markdown(report: dict, source: str = "") -> str:
    clients = report.get("clients", [])
    out = ["# Client compatibility report", ""]
    out.append(f"{len(clients)} client software version(s), {report.get('requests', 0)} requests"
               + (f", from {source}" if source else "") + ".")
    for c in clients:
        title = f"{c['software_name']} {c['software_version']}" if c["software_sent"] else \
            f"client id {_join(c['client_ids'], '(none)')} (software name and version {NOT_SENT})"
        out += ["", f"## {title}", ""]
        out.append(f"- client ids: {_join(c['client_ids'], '(none)')}; connections: {c['connections']}; "
                   f"requests: {c['requests']}; seen {c['first_seen']} to {c['last_seen']}")
        sessions = {None: "no Fetch", True: "used", False: "not used (full fetches)"}[c["fetch_sessions"]]
        out.append(f"- features: {_join(c['features'])}")
        out.append(f"- compression codecs produced: {_join(c['codecs'])}")
        out.append(f"- group protocols: {_join(c['group_protocols'])}; assignors: {_join(c['assignors'])}")
        out.append(f"- isolation levels: {_join(c['isolation_levels'])}; fetch sessions: {sessions}")
        if c["sasl_mechanisms"]:
            out.append(f"- SASL mechanisms: {_join(c['sasl_mechanisms'])}")
        out += ["", "| API | versions (requests) | errors answered |", "|---|---|---|"]
        for api, versions in c["apis"].items():
            errors = c["errors"].get(api, {})
            out.append(f"| {api} | {', '.join(f'v{v} ({n})' for v, n in versions.items())} | "
                       f"{_join((f'{e} x{n}' for e, n in errors.items()), '')} |")
        if c["error_messages"]:
            out += ["", "Error messages (the first of each):", ""]
            out += [f"- {what}: {_md(message)}" for what, message in c["error_messages"].items()]
        out += [""]
        if c["refused"]:
            out += ["Refused by Ottla:", "", "| API | version | why | requests |", "|---|---|---|---|"]
            out += [f"| {r['api']} | {r['version']} | {_md(r['reason'])} | {r['count']} |" for r in c["refused"]]
        else:
            out.append("Refused by Ottla: nothing.")
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")

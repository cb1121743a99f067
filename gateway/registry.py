"""The handler registry: which API keys and versions this broker serves, and by which function.

ApiVersions answers from the static table (gateway/handlers/__init__.py TABLE), never from a
hand-written list in a handler. A handler module is imported on the first request of one of its
keys (`lookup`), and registers itself with `@handles`, which checks it against the table; iterating
`HANDLERS` (tests, tools, the cluster's coordination wrappers) imports every handler first.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from gateway.handlers import TABLE
from wire.lazy import LoadingDict

if TYPE_CHECKING:
    from construct import Container

    from gateway.broker import Broker
    from wire.schema import Api


class CloseConnection(Exception):
    """Raised by a handler whose request gets no response but must not pass silently (Produce acks=0
    that failed): the pipeline logs `event` with `fields` and closes the connection in the request's
    turn, after the responses before it, as Kafka's RequestChannel.closeConnection does."""

    def __init__(self, event: str, **fields) -> None:
        super().__init__(event)
        self.event, self.fields = event, fields


@dataclass(slots=True)
class RequestContext:
    """What a handler is given with a request: the broker, the header and the connection."""

    broker: "Broker"
    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None
    log: Any  # a structlog logger bound to client id, api and version
    peer: str = ""  # "host:port" of the client
    connection_id: str = ""  # Kafka's form: "localhost:port-peerhost:port-index", unique per broker run
    principal: str = "User:ANONYMOUS"  # who the connection authenticated as (no security yet)
    listener_name: str = "PLAINTEXT"
    throttle_ms: int = 0  # set by quota enforcement before the handler runs (gateway.quota_enforcement)
    node: Any = None  # gateway.node.Node serving the connection (None: outside a server, e.g. unit tests)
    sasl: Any = None  # the connection's gateway.security.sasl.SaslSession on a SASL listener, else None

    # authorization (gateway.security.authorizer): True at once when no authorizer is configured
    def authorize(self, operation: int, resource_type: int, name: str, log: bool = True) -> bool:
        authorizer = self.broker.authorizer
        if authorizer is None:
            return True
        from gateway.security.acls import host_of

        if authorizer.authorize(self.principal, host_of(self.peer), operation, resource_type, name):
            return True
        if log:
            authorizer.denied_log(self, operation, resource_type, name)
        return False

    def authorized(self, operation: int, resource_type: int, names) -> set:
        """The names among `names` the principal may perform `operation` on (Kafka's filterByAuthorized)."""
        authorizer = self.broker.authorizer
        if authorizer is None:
            return set(names)
        from gateway.security.acls import host_of

        principal, host = self.principal, host_of(self.peer)
        return {n for n in names if authorizer.authorize(principal, host, operation, resource_type, n)}

    def denied(self, operation: int, resource_type: int, names) -> set:
        """The names among `names` the principal may NOT perform `operation` on (empty at once with no
        authorizer); each refusal is logged."""
        if self.broker.authorizer is None:
            return _NOTHING
        return {n for n in names if n is not None and not self.authorize(operation, resource_type, n)}

    def authorize_cluster(self, operation: int, log: bool = True) -> bool:
        return self.authorize(operation, 4, "kafka-cluster", log)  # ResourceType.CLUSTER, CLUSTER_NAME

    def authorize_by_resource_type(self, operation: int, resource_type: int) -> bool:
        authorizer = self.broker.authorizer
        if authorizer is None:
            return True
        from gateway.security.acls import host_of

        return authorizer.authorize_by_resource_type(self.principal, host_of(self.peer), operation, resource_type)

    def authorized_operations(self, resource_type: int, name: str, requested: bool) -> int:
        """KIP-430's bit set for a resource (INT32_MIN when the client did not ask)."""
        from gateway.authorized_operations import authorized_operations

        return authorized_operations(self, resource_type, name, requested)


_NOTHING: frozenset = frozenset()
Handler = Callable[["RequestContext", "Container"], Awaitable[dict | None]]


@dataclass(frozen=True)
class Registration:
    """A handler's entry in the API table: the API, its versions and how it runs."""

    api: "Api"
    served_min: int  # below this the handler answers UNSUPPORTED_VERSION itself
    max_version: int
    advertised_min: int
    handler: Handler


# api key -> Registration of the handlers imported so far: reading a key imports its module; iterating,
# len() and .items() import every handler first; `in` answers from TABLE
HANDLERS: dict[int, Registration] = LoadingDict(TABLE, lambda api_key: load(api_key), lambda: load_all())


def load(api_key: int) -> Registration | None:
    """Import the module that handles api_key (its `@handles` registers it); None if no module does."""
    entry = TABLE.get(api_key)
    if entry is None:
        return None
    importlib.import_module(f"gateway.handlers.{entry[0]}")
    registration = dict.get(HANDLERS, api_key)
    if registration is None:
        raise RuntimeError(f"gateway.handlers.{entry[0]} did not register api key {api_key} (gateway.handlers.TABLE)")
    return registration


def load_all() -> None:
    """Import every handler module (the test fork server, the cluster's coordination wrappers, tools)."""
    for module in sorted({entry[0] for entry in TABLE.values()}):
        importlib.import_module(f"gateway.handlers.{module}")


def handles(api_key: int, min_version: int, max_version: int, *, advertised_min: int | None = None):
    """Register `async def handle_x(ctx, request) -> dict | None` for api_key at these versions.

    `advertised_min` lets ApiVersions advertise lower than we serve (Kafka advertises Produce v0 for
    librdkafka's sake and rejects v0-2); the handler then answers those versions itself. The key,
    module and versions must be gateway.handlers.TABLE's (ApiVersions answers from the table).
    """

    def register(handler: Handler) -> Handler:
        from gateway.security.acls_requests import guard
        from wire.messages import APIS

        if dict.__contains__(HANDLERS, api_key):
            raise ValueError(f"api key {api_key} registered twice")
        api = APIS[api_key]
        low = min_version if advertised_min is None else advertised_min
        for version in (low, max_version):
            if not (api.request.decodable(version) and api.response.decodable(version)):
                raise ValueError(f"{api.name} v{version} is not declared")
        module = handler.__module__.rsplit(".", 1)[-1]
        if TABLE.get(api_key) != (module, low, min_version, max_version):
            raise ValueError(f"{api.name} (key {api_key}) registered as {(module, low, min_version, max_version)} "
                             f"but gateway.handlers.TABLE says {TABLE.get(api_key)}: update the table")
        dict.__setitem__(HANDLERS, api_key, Registration(api, min_version, max_version, low, guard(api_key, handler)))
        return handler

    return register


def lookup(api_key: int, api_version: int) -> Registration | None:
    """The registration serving this key and version (its module imported on the key's first request)."""
    registration = dict.get(HANDLERS, api_key)
    if registration is None:
        entry = TABLE.get(api_key)
        if entry is None or not entry[1] <= api_version <= entry[3]:
            return None
        registration = load(api_key)
    if not registration.advertised_min <= api_version <= registration.max_version:
        return None
    return registration


_SUPPORTED = [{"api_key": key, "min_version": entry[1], "max_version": entry[3]} for key, entry in sorted(TABLE.items())]


def supported_versions() -> list[dict]:
    """ApiVersions' api_keys, from the table: no handler is imported to answer it."""
    return [dict(entry) for entry in _SUPPORTED]

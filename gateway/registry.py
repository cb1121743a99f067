"""The handler registry: which API keys and versions this broker serves, and by which function.

ApiVersions answers from here, never from a hand-written list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from construct import Container

from gateway.authorized_operations import authorized_operations
from gateway.security.acls import host_of
from gateway.security.acls_requests import guard
from wire.messages import APIS
from wire.schema import Api

if TYPE_CHECKING:
    from gateway.broker import Broker


class CloseConnection(Exception):
    """Raised by a handler whose request gets no response but must not pass silently (Produce acks=0
    that failed): the pipeline logs `event` with `fields` and closes the connection in the request's
    turn, after the responses before it, as Kafka's RequestChannel.closeConnection does."""

    def __init__(self, event: str, **fields) -> None:
        super().__init__(event)
        self.event, self.fields = event, fields


@dataclass(slots=True)
class RequestContext:
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
        if authorizer is None or authorizer.authorize(self.principal, host_of(self.peer), operation, resource_type,
                                                      name):
            return True
        if log:
            authorizer.denied_log(self, operation, resource_type, name)
        return False

    def authorized(self, operation: int, resource_type: int, names) -> set:
        """The names among `names` the principal may perform `operation` on (Kafka's filterByAuthorized)."""
        authorizer = self.broker.authorizer
        if authorizer is None:
            return set(names)
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
        return authorizer is None or authorizer.authorize_by_resource_type(self.principal, host_of(self.peer),
                                                                           operation, resource_type)

    def authorized_operations(self, resource_type: int, name: str, requested: bool) -> int:
        """KIP-430's bit set for a resource (INT32_MIN when the client did not ask)."""
        return authorized_operations(self, resource_type, name, requested)


_NOTHING: frozenset = frozenset()
Handler = Callable[[RequestContext, Container], Awaitable[dict | None]]


@dataclass(frozen=True)
class Registration:
    api: Api
    served_min: int  # below this the handler answers UNSUPPORTED_VERSION itself
    max_version: int
    advertised_min: int
    handler: Handler


HANDLERS: dict[int, Registration] = {}


def handles(api_key: int, min_version: int, max_version: int, *, advertised_min: int | None = None):
    """Register `async def handle_x(ctx, request) -> dict | None` for api_key at these versions.

    `advertised_min` lets ApiVersions advertise lower than we serve (Kafka advertises Produce v0 for
    librdkafka's sake and rejects v0-2); the handler then answers those versions itself.
    """

    def register(handler: Handler) -> Handler:
        if api_key in HANDLERS:
            raise ValueError(f"api key {api_key} registered twice")
        api = APIS[api_key]
        low = min_version if advertised_min is None else advertised_min
        for version in (low, max_version):
            if not (api.request.decodable(version) and api.response.decodable(version)):
                raise ValueError(f"{api.name} v{version} is not declared")
        HANDLERS[api_key] = Registration(api, min_version, max_version, low, guard(api_key, handler))
        return handler

    return register


def lookup(api_key: int, api_version: int) -> Registration | None:
    registration = HANDLERS.get(api_key)
    if registration is None or not registration.advertised_min <= api_version <= registration.max_version:
        return None
    return registration


def supported_versions() -> list[dict]:
    return [
        {"api_key": key, "min_version": r.advertised_min, "max_version": r.max_version}
        for key, r in sorted(HANDLERS.items())
    ]

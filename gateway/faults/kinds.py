"""The fault model's records: a `Fault` (what to do to which requests, and how often it fired), the `Decision` of the
faults that fired on one request, and the `RequestFacts` the matchers look at (gateway/faults/model.py). Apart from
model.py so that a broker with no fault set does not build these classes at start-up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from wire.errors import ErrorCode
from wire.messages import APIS


@dataclass(eq=False)
class Fault:
    id: int
    api_key: int | None  # None: every API
    error: ErrorCode | None = None
    message: str | None = None  # the error_message, where the response has one
    count: int | None = None  # fire at most this many times (None: unbounded)
    probability: float | None = None  # each matching request fires with this chance (None: always)
    delay_ms: int = 0
    drop_connection: bool = False
    broker: int | None = None
    topic: str | None = None
    partition: int | None = None
    group: str | None = None
    client_id: str | None = None
    fired: int = 0
    _waiters: list[tuple[int, Callable[[], None]]] = field(default_factory=list, repr=False)

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.fired >= self.count

    @property
    def api(self) -> str | None:
        return None if self.api_key is None else APIS[self.api_key].name

    def to_json(self) -> dict:
        return {
            "id": self.id, "api": self.api, "error": self.error.name if self.error is not None else None,
            "message": self.message, "count": self.count, "probability": self.probability,
            "delay_ms": self.delay_ms, "drop_connection": self.drop_connection, "broker": self.broker,
            "topic": self.topic, "partition": self.partition, "group": self.group, "client_id": self.client_id,
            "fired": self.fired, "exhausted": self.exhausted,
        }


@dataclass(frozen=True)
class Decision:
    """What the faults that fired on one request want done (several may fire at once)."""

    faults: tuple[Fault, ...]
    error: ErrorCode | None
    message: str | None
    delay_ms: int
    drop_connection: bool


@dataclass(frozen=True)
class RequestFacts:
    """What the matchers look at in one request (gateway.faults.requests extracts it)."""

    api_key: int
    broker: int
    client_id: str | None
    topics: dict[str, frozenset[int] | None]  # topic -> partitions named (None: the topic as a whole)
    groups: frozenset[str]

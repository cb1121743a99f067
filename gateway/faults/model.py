"""The fault model: what to do to which requests, and how often it happened (sans-IO: no asyncio, no clock).

A `Fault` matches requests by API and optional matchers (the broker serving the connection, a topic,
a partition, a group, a client id) and then does one or more of: answer with an error code (a
well-formed response for that API and version: gateway.faults.responses), delay the request by
`delay_ms` before it is handled, or drop the connection without answering. `count` bounds how often
it fires (then it is exhausted and stays listed), `probability` makes each matching request fire
with that chance (a seeded random source, so a run can be repeated). Every fault counts `fired`, and
`FaultSet.on_fired` lets a front end wait for "fired n times" without polling.

The front ends (HTTP control API, the `ottla fault` CLI, ottla.testing, `--faults FILE`) all build
faults from the same JSON-shaped spec through `FaultSet.add(spec)`.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import TYPE_CHECKING

from wire.errors import ErrorCode
from wire.lazy import exports
from wire.messages import APIS

if TYPE_CHECKING:
    from gateway.faults.kinds import Decision, Fault, RequestFacts

# the records (dataclasses: ~2 ms of start-up to build) live in gateway.faults.kinds, imported with the first fault
# added or decided; `from gateway.faults.model import Fault` still works (PEP 562)
__getattr__ = exports(__name__, {name: "gateway.faults.kinds" for name in ("Decision", "Fault", "RequestFacts")})

SPEC_KEYS = frozenset({"api", "error", "count", "probability", "delay_ms", "drop_connection", "broker", "topic",
                       "partition", "group", "client_id", "message"})
MAX_FAULTS = 10_000  # faults held at once (each request walks them while any is armed): ARCHITECTURE.md
MAX_DELAY_MS = 3_600_000
_API_BY_NAME: dict = {}  # api name in lower case -> Api, built on the first fault spec by name (loads every declaration)


class FaultSpecError(ValueError):
    """A fault spec that cannot be built (unknown API or error, bad type): the front end says 400."""


def api_key_of(name: str | int | None) -> int | None:
    """An API by Kafka's name ("Produce", "OffsetCommit"; any case, '_' and ' ' ignored) or key; None: any."""
    if name is None or name == "*":
        return None
    if isinstance(name, bool):
        raise FaultSpecError(f"api: {name!r} is not an API name")
    if isinstance(name, int) or (isinstance(name, str) and name.isdigit()):
        if int(name) not in APIS:
            raise FaultSpecError(f"api: no API has key {name}")
        return int(name)
    if not _API_BY_NAME:
        _API_BY_NAME.update((api.name.lower(), api) for api in APIS.values())
    api = _API_BY_NAME.get(str(name).replace("_", "").replace(" ", "").lower())
    if api is None:
        raise FaultSpecError(f"api: unknown API {name!r}")
    return api.key


def error_code_of(error: str | int | None) -> ErrorCode | None:
    if error is None:
        return None
    try:
        if isinstance(error, int) and not isinstance(error, bool):
            return ErrorCode(error)
        if isinstance(error, str):
            return ErrorCode(int(error)) if error.lstrip("-").isdigit() else ErrorCode[error.upper()]
    except (KeyError, ValueError):
        pass
    raise FaultSpecError(f"error: unknown error code {error!r}")


def _optional(spec: dict, key: str, kind: type):
    value = spec.get(key)
    if value is None:
        return None
    if kind is int and isinstance(value, str) and value.lstrip("-").isdigit():
        value = int(value)
    if kind is float and isinstance(value, (int, str)) and not isinstance(value, bool):
        try:
            value = float(value)
        except ValueError:
            pass
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise FaultSpecError(f"{key}: expected {kind.__name__}, got {value!r}")
    return value


class FaultSet:
    """Every fault of one cluster. `armed` is the one attribute the request path reads when no fault is set."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.faults: dict[int, Fault] = {}
        self.armed = False  # some fault can still fire
        self._rng = rng if rng is not None else random.Random(0)
        self._next_id = 1
        self.wrapped: dict = {}  # api key -> (registration, the faulted registration): gateway.faults.serve

    @classmethod
    def from_file(cls, path: str | None) -> "FaultSet":
        """The faults of `--faults FILE` (none without one)."""
        faults = cls()
        for spec in load_faults_file(path) if path else ():
            faults.add(spec)
        return faults

    # the front ends ---------------------------------------------------------------------------

    def add(self, spec: dict) -> Fault:
        if not isinstance(spec, dict):
            raise FaultSpecError("a fault is a JSON object")
        if len(self.faults) >= MAX_FAULTS:
            raise FaultSpecError(f"at most {MAX_FAULTS} faults at once: remove some first")
        unknown = sorted(set(spec) - SPEC_KEYS)
        if unknown:
            raise FaultSpecError(f"unknown fault keys: {', '.join(unknown)}")
        error = error_code_of(spec.get("error"))
        delay_ms = _optional(spec, "delay_ms", int) or 0
        drop = bool(_optional(spec, "drop_connection", bool))
        if error is None and not delay_ms and not drop:
            raise FaultSpecError("a fault needs an error, delay_ms or drop_connection")
        if error == ErrorCode.NONE:
            raise FaultSpecError("error: NONE is no fault")
        count = _optional(spec, "count", int)
        probability = _optional(spec, "probability", float)
        if count is not None and count < 1:
            raise FaultSpecError("count: at least 1")
        if probability is not None and not 0.0 < probability <= 1.0:
            raise FaultSpecError("probability: in (0, 1]")
        if delay_ms < 0 or delay_ms > MAX_DELAY_MS:
            raise FaultSpecError(f"delay_ms: 0 to {MAX_DELAY_MS}")
        from gateway.faults.kinds import Fault

        fault = Fault(
            id=self._next_id, api_key=api_key_of(spec.get("api")), error=error, message=_optional(spec, "message", str),
            count=count, probability=probability, delay_ms=delay_ms, drop_connection=drop,
            broker=_optional(spec, "broker", int), topic=_optional(spec, "topic", str),
            partition=_optional(spec, "partition", int), group=_optional(spec, "group", str),
            client_id=_optional(spec, "client_id", str),
        )
        if fault.partition is not None and fault.topic is None:
            raise FaultSpecError("partition: needs topic")
        self._next_id += 1
        self.faults[fault.id] = fault
        self._rearm()
        return fault

    def remove(self, fault_id: int) -> Fault | None:
        fault = self.faults.pop(fault_id, None)
        self._rearm()
        return fault

    def clear(self) -> None:
        self.faults.clear()
        self._rearm()

    def get(self, fault_id: int) -> Fault | None:
        return self.faults.get(fault_id)

    def list(self) -> list[dict]:
        return [f.to_json() for f in self.faults.values()]

    def on_fired(self, fault_id: int, times: int, callback: Callable[[], None]) -> bool:
        """Call `callback` once the fault has fired `times` times; False if there is no such fault.
        Already there: called at once."""
        fault = self.faults.get(fault_id)
        if fault is None:
            return False
        if fault.fired >= times:
            callback()
        else:
            fault._waiters.append((times, callback))
        return True

    def cancel_wait(self, fault_id: int, callback: Callable[[], None]) -> None:
        fault = self.faults.get(fault_id)
        if fault is not None:
            fault._waiters = [(n, cb) for n, cb in fault._waiters if cb is not callback]

    # the request path -------------------------------------------------------------------------

    def wants(self, api_key: int) -> bool:
        """Whether any live fault could match a request of this API (checked before decoding facts)."""
        return any(not f.exhausted and (f.api_key is None or f.api_key == api_key) for f in self.faults.values())

    def decide(self, facts: RequestFacts) -> Decision | None:
        """Fire every live fault matching this request; None when none fired."""
        fired = []
        for fault in self.faults.values():
            if fault.exhausted or not _matches(fault, facts):
                continue
            if fault.probability is not None and self._rng.random() >= fault.probability:
                continue
            fault.fired += 1
            fired.append(fault)
        if not fired:
            return None
        for fault in fired:
            due = [cb for n, cb in fault._waiters if fault.fired >= n]
            if due:
                fault._waiters = [(n, cb) for n, cb in fault._waiters if fault.fired < n]
                for cb in due:
                    cb()
        if any(f.exhausted for f in fired):
            self._rearm()
        erroring = next((f for f in fired if f.error is not None), None)
        from gateway.faults.kinds import Decision

        return Decision(
            faults=tuple(fired), error=erroring.error if erroring else None,
            message=erroring.message if erroring else None,
            delay_ms=max(f.delay_ms for f in fired), drop_connection=any(f.drop_connection for f in fired),
        )

    def _rearm(self) -> None:
        self.armed = any(not f.exhausted for f in self.faults.values())


def _matches(fault: Fault, facts: RequestFacts) -> bool:
    if fault.api_key is not None and fault.api_key != facts.api_key:
        return False
    if fault.broker is not None and fault.broker != facts.broker:
        return False
    if fault.client_id is not None and fault.client_id != facts.client_id:
        return False
    if fault.group is not None and fault.group not in facts.groups:
        return False
    if fault.topic is not None:
        if fault.topic not in facts.topics:
            return False
        partitions = facts.topics[fault.topic]
        if fault.partition is not None and partitions is not None and fault.partition not in partitions:
            return False
    return True


def load_faults_file(path: str) -> list[dict]:
    """`--faults FILE`: a JSON list of fault specs (or {"faults": [...]}), as POST /v1/faults takes them."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if isinstance(data, dict):
        data = data.get("faults")
    if not isinstance(data, list):
        raise FaultSpecError(f"{path}: expected a JSON list of faults or {{\"faults\": [...]}}")
    return data

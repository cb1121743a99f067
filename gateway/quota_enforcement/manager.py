"""Quota resolution and throttling (Kafka's ClientQuotaManager with its DefaultQuotaCallback).

The quota applying to (user, client-id) is the first of these entities that sets it (the user is the
principal's name, "ANONYMOUS" without authentication; a None name is the type's default entity):

    user + client-id, user + default client-id, user,
    default user + client-id, default user + default client-id, default user,
    client-id, default client-id

and the rate is measured per matched entity, with the actual names in place of defaults (so a
default-user quota meters each user on its own, and a user quota meters all that user's clients
together). Kinds: producer_byte_rate (Produce request bytes), consumer_byte_rate (Fetch response
bytes), request_percentage (time serving requests, 100 = one thread all the time); the IP entity's
connection_creation_rate is applied when connections are accepted (ip, then the default ip).

Throttle = (rate - quota) / quota * window, at most quota.window.size.seconds * quota.window.num.
With no quota stored at all, `active` is False and the pipeline does nothing more per request.
"""

from __future__ import annotations

from gateway.quota_enforcement.rate import SampledRate

PRODUCE, FETCH, REQUEST = "producer_byte_rate", "consumer_byte_rate", "request_percentage"
CONNECTIONS = "connection_creation_rate"
USER, CLIENT_ID, IP = "user", "client-id", "ip"
MAX_SENSORS = 100_000  # bound on metered entities kept (oldest dropped first; ARCHITECTURE.md)


def _candidates(user: str, client_id: str) -> tuple:
    """(entity as ClientQuotas keys it, metric tags (user, client-id)) in Kafka's precedence order."""
    u, c = user, client_id
    return (
        (((CLIENT_ID, c), (USER, u)), (u, c)),
        (((CLIENT_ID, None), (USER, u)), (u, c)),
        (((USER, u),), (u, "")),
        (((CLIENT_ID, c), (USER, None)), (u, c)),
        (((CLIENT_ID, None), (USER, None)), (u, c)),
        (((USER, None),), (u, "")),
        (((CLIENT_ID, c),), ("", c)),
        (((CLIENT_ID, None),), ("", c)),
    )


class QuotaManager:
    def __init__(self, quotas, samples: int = 11, window_s: int = 1, clock=None) -> None:
        import time

        self.quotas = quotas  # gateway.configs.quotas.ClientQuotas
        self.samples, self.window_ms = samples, window_s * 1000
        self.max_throttle_ms = samples * window_s * 1000
        self._clock = clock or (lambda: time.monotonic() * 1000)
        self._sensors: dict[tuple, SampledRate] = {}
        self._resolved: dict[tuple, tuple] = {}
        self._version = -1

    @property
    def active(self) -> bool:
        return bool(self.quotas.entities)

    def now_ms(self) -> float:
        return self._clock()

    def quota(self, kind: str, user: str, client_id: str):
        """(bound, metric tags) of the entity whose `kind` quota applies, or None."""
        if self._version != self.quotas.version:
            self._resolved.clear()
            self._version = self.quotas.version
        key = (kind, user, client_id)
        found = self._resolved.get(key, False)
        if found is False:
            found = None
            entities = self.quotas.entities
            for entity, tags in _candidates(user, client_id):
                values = entities.get(entity)
                if values is not None and kind in values:
                    found = (values[kind], tags)
                    break
            if len(self._resolved) > MAX_SENSORS:
                self._resolved.clear()
            self._resolved[key] = found
        return found

    def _sensor(self, kind: str, tags, now: float) -> SampledRate:
        key = (kind, tags)
        sensor = self._sensors.get(key)
        if sensor is None:
            if len(self._sensors) >= MAX_SENSORS:
                del self._sensors[next(iter(self._sensors))]
            sensor = self._sensors[key] = SampledRate(self.samples, self.window_ms, now)
        return sensor

    def record(self, kind: str, user: str, client_id: str, value: float, now: float | None = None) -> int:
        """Record `value` against the applicable quota; the throttle time in ms (0: within quota)."""
        found = self.quota(kind, user, client_id)
        if found is None:
            return 0
        bound, tags = found
        now = self._clock() if now is None else now
        sensor = self._sensor(kind, tags, now)
        sensor.record(value, now)
        return min(self.max_throttle_ms, round(sensor.throttle_ms(bound, now)))

    def unrecord(self, kind: str, user: str, client_id: str, value: float, now: float | None = None) -> None:
        """Take back a recorded value (a throttled Fetch sends no data: Kafka's unrecordQuotaSensor)."""
        found = self.quota(kind, user, client_id)
        if found is not None:
            now = self._clock() if now is None else now
            self._sensor(kind, found[1], now).record(-value, now)

    def connection_throttle_ms(self, ip: str, now: float | None = None) -> int:
        """A new connection from `ip` under connection_creation_rate (ip entity, then the default ip)."""
        entities = self.quotas.entities
        for entity in (((IP, ip),), ((IP, None),)):
            values = entities.get(entity)
            if values is not None and CONNECTIONS in values:
                now = self._clock() if now is None else now
                sensor = self._sensor(CONNECTIONS, ("ip", ip), now)
                sensor.record(1, now)
                return min(self.max_throttle_ms, round(sensor.throttle_ms(values[CONNECTIONS], now)))
        return 0


def user_of(principal: str) -> str:
    """The quota entity's user: the principal's name ("User:alice" -> "alice")."""
    return principal.partition(":")[2] or principal


def for_config(quotas, config) -> QuotaManager:
    """The broker's manager, with quota.window.num and quota.window.size.seconds from its properties."""
    props = dict(config.properties)
    return QuotaManager(quotas, int(props.get("quota.window.num", 11)), int(props.get("quota.window.size.seconds", 1)))

"""Connection caps: `max.connections`, `max.connections.per.ip`, and the process's file descriptor limit.

A connection beyond a cap is accepted and closed at once (logged, at most once a second per cause),
so a client sees a clean close, never a hang in the listen backlog. Kafka closes a connection over
the per-IP cap the same way; over `max.connections` Kafka stops accepting until one closes, which
leaves new clients hanging, so Ottla refuses them too.

The file descriptor limit: at start-up the soft RLIMIT_NOFILE is raised to the hard limit, and
`max.connections` is held below it with room for storage files and the listener, so the broker
never reaches EMFILE (where asyncio would stop accepting for a second at a time and clients hang).
"""

from __future__ import annotations

import collections
import time

import structlog

log = structlog.get_logger("ottla.admission")
KAFKA_UNLIMITED = 2**31 - 1  # Kafka's default for both caps (Integer.MAX_VALUE)
FD_RESERVE_MAX = 1024  # descriptors kept for RocksDB files, the listener, logs, subprocesses
LOG_INTERVAL_S = 1.0


def raise_fd_limit() -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit; returns the (soft, hard) now in force."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:  # a platform that refuses (macOS caps at OPEN_MAX)
            log.warning("fd_limit_not_raised", soft=soft, hard=hard, error=str(exc))
    return soft, hard


def fd_connection_limit(fd_soft_limit: int) -> int:
    """How many client connections fit under this descriptor limit, leaving room for everything else."""
    reserve = min(FD_RESERVE_MAX, max(16, fd_soft_limit // 4))
    return max(1, fd_soft_limit - reserve)


class Admission:
    """Counts live connections in total and per IP address; `admit` refuses beyond either cap."""

    def __init__(self, max_connections: int = KAFKA_UNLIMITED, max_connections_per_ip: int = KAFKA_UNLIMITED,
                 clock=time.monotonic) -> None:
        self.max_connections = max_connections
        self.max_connections_per_ip = max_connections_per_ip
        self.per_ip_overrides: dict[str, int] = {}  # max.connections.per.ip.overrides: address -> cap
        self.total = 0
        self.per_ip: collections.Counter[str] = collections.Counter()
        self.refused = 0
        self._clock = clock
        self._last_logged: dict[str, float] = {}
        self._unlogged: collections.Counter[str] = collections.Counter()

    def admit(self, ip: str) -> bool:
        if self.total >= self.max_connections:
            self._refuse("max_connections", ip, self.max_connections)
            return False
        per_ip = self.per_ip_overrides.get(ip, self.max_connections_per_ip)
        if self.per_ip[ip] >= per_ip:
            self._refuse("max_connections_per_ip", ip, per_ip)
            return False
        self.total += 1
        self.per_ip[ip] += 1
        return True

    def release(self, ip: str) -> None:
        self.total -= 1
        self.per_ip[ip] -= 1
        if self.per_ip[ip] <= 0:
            del self.per_ip[ip]

    def _refuse(self, cap: str, ip: str, limit: int) -> None:
        self.refused += 1
        now = self._clock()
        if now - self._last_logged.get(cap, -LOG_INTERVAL_S) < LOG_INTERVAL_S:
            self._unlogged[cap] += 1
            return
        self._last_logged[cap] = now
        log.warning("connection_refused", cap=cap, limit=limit, peer_ip=ip, connections=self.total,
                    from_ip=self.per_ip[ip], also_refused_since_last=self._unlogged.pop(cap, 0))

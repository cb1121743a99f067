"""Sample records (keys, values, headers, explicit timestamps) and the rows a consumer must return."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

TIMESTAMP_STEP_MS = 1000


@dataclass(frozen=True)
class Sample:
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]
    timestamp: int


def base_timestamp() -> int:
    """Ten minutes ago, on a whole second: far from any retention or future-timestamp limit."""
    return (int(time.time() * 1000) - 600_000) // 1000 * 1000


def make_samples(count: int, tag: str = "", base_ts: int | None = None) -> list[Sample]:
    """`count` keyed records with two headers each and strictly increasing CreateTime timestamps."""
    base_ts = base_timestamp() if base_ts is None else base_ts
    run = tag or uuid.uuid4().hex[:6]
    return [
        Sample(
            key=f"key-{i % 3}".encode(),
            value=f"value-{i}-{run}-\u00fc\u20ac".encode(),
            headers=(("index", str(i).encode()), ("run", run.encode())),
            timestamp=base_ts + i * TIMESTAMP_STEP_MS,
        )
        for i in range(count)
    ]


def expected_rows(samples: list[Sample], first_offset: int = 0) -> list[tuple]:
    """(offset, key, value, headers, timestamp) per sample, offsets counting from `first_offset`."""
    return [
        (first_offset + i, s.key, s.value, list(s.headers), s.timestamp) for i, s in enumerate(samples)
    ]


def unique_name(prefix: str) -> str:
    """A topic or group name no other test (or earlier run against the same broker) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"

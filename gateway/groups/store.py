"""Where group state persists: a tiny bytes key-value interface, and the in-memory one tests use.

The broker backs `GroupStore` with its storage engine (RocksDB by default); the key layouts written
through it live in `gateway.groups.offsets` (prefix "O") and `gateway.groups.group_metadata` ("G").
A write must be durable once `put`/`delete` return.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import Protocol


class GroupStore(Protocol):
    def put(self, key: bytes, value: bytes) -> None:
        """Store value under key, replacing any previous value."""

    def put_many(self, items: list[tuple[bytes, bytes]]) -> None:
        """Store several values at once, atomically (one OffsetCommit is one write)."""

    def delete(self, key: bytes) -> None:
        """Remove key; deleting a missing key is not an error."""

    def scan(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Every (key, value) whose key starts with prefix, in ascending key order."""


class MemoryGroupStore:
    """A `GroupStore` in a dict: for tests and for `--memory` brokers."""

    def __init__(self) -> None:
        self._data: dict[bytes, bytes] = {}
        self._keys: list[bytes] = []  # sorted

    def put(self, key: bytes, value: bytes) -> None:
        if key not in self._data:
            bisect.insort(self._keys, key)
        self._data[key] = bytes(value)

    def put_many(self, items: list[tuple[bytes, bytes]]) -> None:
        for key, value in items:
            self.put(key, value)

    def delete(self, key: bytes) -> None:
        if self._data.pop(key, None) is not None:
            del self._keys[bisect.bisect_left(self._keys, key)]

    def scan(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        start = bisect.bisect_left(self._keys, prefix)
        found = []
        for key in self._keys[start:]:
            if not key.startswith(prefix):
                break
            found.append((key, self._data[key]))
        return iter(found)  # a snapshot: callers may put/delete while they iterate

    def __len__(self) -> int:
        return len(self._data)

"""The typed read API: what the console pages render and the JSON endpoints serve.

One small module per noun (topics, groups, cluster, messages, shares, transactions, throughput),
each a set of plain functions of the broker returning dataclasses or dicts. They only read: every
change goes through the Kafka handlers (gateway.http.actions). `as_json` turns any of them into
what `json.dumps` takes (dataclasses to dicts, bytes to hex).
"""

from __future__ import annotations

import dataclasses
from typing import Any


def as_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_json(v) for v in value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return value

"""The message browser: records of a partition from an offset, a timestamp, the oldest or the newest,
with an optional text or JSON-path filter. Control batches (transaction markers) are never records.

Bounded: one call decodes at most SCAN_RECORDS records and SCAN_BYTES bytes of batches (whichever
comes first); the result says where it stopped (`next_offset`) so a page can go on from there.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from wire.records import iter_batches, iter_records

SCAN_RECORDS = 10_000  # records one browse decodes at most (a filter that matches little stops here)
SCAN_BYTES = 8 << 20  # bytes of stored batches one browse reads at most
MAX_LIMIT = 500  # records one browse returns at most
SHOWN_BYTES = 64 * 1024  # a key or value is shown up to this many bytes (its size says the rest)
STARTS = ("newest", "oldest", "offset", "timestamp")


@dataclass(frozen=True)
class Bytes:
    size: int  # -1: null
    text: str | None  # UTF-8 text, if it is text
    json: str | None  # pretty-printed, if it is JSON
    hex: str
    truncated: bool


@dataclass(frozen=True)
class MessageView:
    partition: int
    offset: int
    timestamp_ms: int
    key: Bytes
    value: Bytes
    headers: list[tuple[str, Bytes]]


@dataclass(frozen=True)
class BrowseResult:
    topic: str
    partitions: list[int]
    messages: list[MessageView]
    scanned: int  # records decoded
    next_offsets: dict[int, int]  # partition -> where a following page starts
    error: str | None = None


def _bytes(data) -> Bytes:
    if data is None:
        return Bytes(-1, None, None, "", False)
    data = bytes(data)
    shown = data[:SHOWN_BYTES]
    try:
        text = shown.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    pretty = None
    if text is not None and len(shown) == len(data) and text.lstrip()[:1] in ("{", "["):
        try:
            pretty = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            pretty = None
    return Bytes(len(data), text, pretty, shown.hex(" "), len(data) > len(shown))


_PATH_STEP = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]|\[\"([^\"]*)\"\]")
_PATH_EXPR = re.compile(r"^\s*(\$[^=!<>]*?)\s*(?:(==|!=)\s*(.+?))?\s*$")


def parse_json_path(expr: str):
    """`$.a.b[0]` (the record's JSON value has it) or `$.a == <json literal>` / `!=`: a predicate on a
    parsed JSON value. ValueError for anything else."""
    match = _PATH_EXPR.match(expr)
    if match is None:
        raise ValueError(f"not a JSON path: {expr!r} (try $.field.sub[0] or $.field == \"x\")")
    path, op, literal = match.groups()
    steps, pos = [], 1
    while pos < len(path):
        step = _PATH_STEP.match(path, pos)
        if step is None:
            raise ValueError(f"not a JSON path: {path!r} at {path[pos:]!r}")
        steps.append(step.group(1) if step.group(1) is not None else
                     int(step.group(2)) if step.group(2) is not None else step.group(3))
        pos = step.end()
    if op is not None:
        try:
            wanted = json.loads(literal)
        except ValueError:
            wanted = literal.strip("'")  # a bare word: a string
    missing = object()

    def select(value):
        for step in steps:
            if isinstance(step, int) and isinstance(value, list) and step < len(value):
                value = value[step]
            elif isinstance(step, str) and isinstance(value, dict) and step in value:
                value = value[step]
            else:
                return missing
        return value

    def predicate(value) -> bool:
        found = select(value)
        if op is None:
            return found is not missing
        return (found == wanted) if op == "==" else (found is not missing and found != wanted)

    return predicate


def _matcher(text: str | None, json_path: str | None):
    tests = []
    if text:
        needle = text.encode("utf-8")
        tests.append(lambda r: needle in (r.key or b"") or needle in (r.value or b"")
                     or any(needle in (v or b"") or needle in k.encode() for k, v in r.headers))
    if json_path:
        predicate = parse_json_path(json_path)

        def json_test(r) -> bool:
            try:
                return predicate(json.loads(bytes(r.value or b"")))
            except ValueError:
                return False

        tests.append(json_test)
    return (lambda r: all(t(r) for t in tests)) if tests else None


def _start(log, start: str, offset: int | None, timestamp_ms: int | None, span: int) -> int:
    low, high = log.log_start_offset, log.high_watermark
    if start == "oldest":
        return low
    if start == "offset":
        return min(max(offset or 0, low), high)
    if start == "timestamp":
        found = log.offset_for_timestamp(timestamp_ms or 0)
        return found[0] if found is not None else high
    return max(low, high - span)  # newest


def _scan(log, position: int, limit: int, matches, budget: list[int]) -> tuple[list, int]:
    """Records from `position` (matching, up to limit), and where the scan stopped."""
    found = []
    high = log.high_watermark
    while position < high and len(found) < limit and budget[0] > 0 and budget[1] > 0:
        blob = log.read(position, 1 << 20)
        if not blob:
            break
        budget[1] -= len(blob)
        for header, batch in iter_batches(blob):
            if header.is_control:
                position = max(position, header.last_offset + 1)
                continue
            for record in iter_records(batch):
                if record.offset < position:
                    continue
                budget[0] -= 1
                position = record.offset + 1
                if matches is None or matches(record):
                    found.append(record)
                    if len(found) >= limit:
                        return found, position
            position = max(position, header.last_offset + 1)
    return found, position


def browse(broker, topic: str, partition: int | None = None, *, start: str = "newest", offset: int | None = None,
           timestamp_ms: int | None = None, limit: int = 50, text: str | None = None,
           json_path: str | None = None) -> BrowseResult | None:
    """Up to `limit` records (None when the topic does not exist). newest: the last ones (with a filter:
    the last matches among the newest SCAN_RECORDS offsets per partition)."""
    t = broker.logs.get(topic)
    if t is None:
        return None
    limit = max(1, min(limit, MAX_LIMIT))
    partitions = [partition] if partition is not None else list(range(len(t.partitions)))
    if start not in STARTS:
        return BrowseResult(topic, partitions, [], 0, {}, f"start must be one of {', '.join(STARTS)}")
    if any(t.partition(p) is None for p in partitions):
        return BrowseResult(topic, partitions, [], 0, {}, f"{topic} has no partition {partition}")
    try:
        matches = _matcher(text, json_path)
    except ValueError as exc:
        return BrowseResult(topic, partitions, [], 0, {}, str(exc))
    budget = [SCAN_RECORDS, SCAN_BYTES]
    records, next_offsets = [], {}
    for p in partitions:
        log = t.partition(p)
        span = limit if matches is None else SCAN_RECORDS // max(1, len(partitions))
        position = _start(log, start, offset, timestamp_ms, span)
        found, next_offsets[p] = _scan(log, position, limit if start != "newest" else SCAN_RECORDS, matches, budget)
        if start == "newest":
            found = found[-limit:]
        records.extend((p, r) for r in found)
    if start == "newest":
        records.sort(key=lambda pr: (pr[1].timestamp, pr[0], pr[1].offset))
        records = records[-limit:]
    elif len(partitions) > 1:
        records.sort(key=lambda pr: (pr[1].timestamp, pr[0], pr[1].offset))
        records = records[:limit]
    messages = [MessageView(p, r.offset, r.timestamp, _bytes(r.key), _bytes(r.value),
                            [(k, _bytes(v)) for k, v in r.headers]) for p, r in records]
    return BrowseResult(topic, partitions, messages, SCAN_RECORDS - budget[0], next_offsets)

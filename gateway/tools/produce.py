"""`ottla produce TOPIC`: lines from stdin or a file (or `--count N` synthetic records) as records, through
confluent-kafka's Producer. A progress bar with rates on a terminal when the total is known (a file,
--count); a summary (records, bytes, seconds, rates) at the end, as JSON with --output json."""

from __future__ import annotations

import os
import sys
import time

from gateway.tools import _client, _output
from gateway.tools._output import CliError, Output

ACKS = {"0": "0", "1": "1", "all": "all", "-1": "all"}
PROGRESS_EVERY_S = 0.2


def register(commands) -> None:
    p = _client.add_verb(commands, "produce", "write records: one per line of stdin or --file, or --count synthetic ones",
                         run)
    p.add_argument("topic", metavar="TOPIC")
    p.add_argument("--file", "-f", metavar="FILE", help="read lines from FILE instead of stdin")
    p.add_argument("--key-separator", "-K", metavar="SEP", help="each line is KEY SEP VALUE (Kafka's parse.key)")
    p.add_argument("--header", "-H", action="append", default=[], metavar="KEY=VALUE",
                   help="a header on every record (repeatable)")
    p.add_argument("--partition", "-p", type=int, help="every record to this partition (default: the partitioner)")
    p.add_argument("--compression", "-z", choices=("none", "gzip", "snappy", "lz4", "zstd"), default="none")
    p.add_argument("--acks", choices=sorted(ACKS), default="all", help="default: all")
    p.add_argument("--linger-ms", type=int, default=5)
    p.add_argument("--count", "-n", type=int, metavar="N", help="instead of reading lines, send N synthetic records")
    p.add_argument("--record-size", type=int, default=100, metavar="BYTES", help="a synthetic record's value size")
    p.add_argument("--producer-property", "-X", action="append", default=[], metavar="KEY=VALUE",
                   help="any producer setting (librdkafka's names), repeatable")
    p.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                   help="the progress bar on stderr (auto: when stderr is a terminal and the total is known)")


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise _output.usage(f"{flag} needs KEY=VALUE, not {item!r}")
        pairs[key] = value
    return pairs


class Progress:
    """`[#####.....]  45%  12,345 records  1.2 MB  10,000 records/s  1.0 MB/s` on stderr, redrawn in place."""

    def __init__(self, total: int | None, unit: str, enabled: bool):
        self.total, self.unit, self.enabled = total, unit, enabled
        self.started = time.monotonic()
        self.drawn = 0.0

    def update(self, done: int, records: int, nbytes: int, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self.drawn < PROGRESS_EVERY_S):
            return
        self.drawn = now
        elapsed = max(now - self.started, 1e-6)
        bar = ""
        if self.total:
            fraction = min(done / self.total, 1.0)
            filled = int(fraction * 30)
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {fraction * 100:3.0f}%  "
        sys.stderr.write(f"\r{bar}{records:,} records  {nbytes / 1e6:.1f} MB  {records / elapsed:,.0f} records/s  "
                         f"{nbytes / 1e6 / elapsed:.2f} MB/s ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def _lines(stream):
    """Each line of a binary stream without its newline (a last line without one counts too)."""
    for line in stream:
        yield line[:-1] if line.endswith(b"\n") else line


def run(args) -> int:
    headers = list(_pairs(args.header, "--header").items())
    extra = {"acks": ACKS[args.acks], "compression.type": args.compression, "linger.ms": args.linger_ms,
             **_pairs(args.producer_property, "--producer-property")}
    if args.count is not None and (args.file or args.key_separator):
        raise _output.usage("--count sends synthetic records: no --file or --key-separator with it")
    source, total, done_of = _source(args)
    producer = _client.producer(args, extra)
    progress = Progress(total, "bytes" if args.file else "records",
                        args.progress == "always" or (args.progress == "auto" and total is not None
                                                      and sys.stderr.isatty()))
    state = {"delivered": 0, "bytes": 0, "failed": 0, "error": None}

    def delivered(error, message) -> None:
        if error is not None:
            state["failed"] += 1
            state["error"] = state["error"] or _client.translate_error(error)
        else:
            state["delivered"] += 1
            state["bytes"] += len(message.value() or b"") + len(message.key() or b"")

    sep = args.key_separator.encode() if args.key_separator else None
    sent = 0
    started = time.monotonic()
    try:
        for value in source:
            key = None
            if sep is not None:
                key, found, rest = value.partition(sep)
                if not found:
                    raise _output.usage(f"line {sent + 1} has no key separator {args.key_separator!r}")
                value = rest
            kwargs = {"partition": args.partition} if args.partition is not None else {}
            while True:
                try:
                    producer.produce(args.topic, value=value, key=key, headers=headers or None,
                                     on_delivery=delivered, **kwargs)
                    break
                except BufferError:  # librdkafka's queue is full: let deliveries drain
                    producer.poll(0.1)
            sent += 1
            producer.poll(0)
            progress.update(done_of(sent), state["delivered"], state["bytes"])
            if state["error"] is not None:
                break
        deadline = time.monotonic() + max(args.timeout, 1)
        while producer.flush(0.2) > 0 and time.monotonic() < deadline:
            progress.update(done_of(sent), state["delivered"], state["bytes"])
    finally:
        progress.update(done_of(sent), state["delivered"], state["bytes"], force=True)
        progress.close()
    elapsed = time.monotonic() - started
    left = len(producer)
    summary = {"topic": args.topic, "records": state["delivered"], "bytes": state["bytes"], "failed": state["failed"],
               "undelivered": left, "seconds": round(elapsed, 3),
               "records_per_s": round(state["delivered"] / elapsed, 1) if elapsed else None,
               "mb_per_s": round(state["bytes"] / 1e6 / elapsed, 3) if elapsed else None}
    out = Output(args)
    if out.json:
        out.emit(summary)
    else:
        print(f"produced {summary['records']:,} records ({summary['bytes'] / 1e6:.2f} MB) to {args.topic} in "
              f"{elapsed:.2f} s: {summary['records_per_s'] or 0:,.0f} records/s, {summary['mb_per_s'] or 0:.2f} MB/s",
              file=sys.stderr)
    if state["error"] is not None:
        raise state["error"]
    if left:
        raise _client.auth_failure() or CliError(f"{left} records not delivered within {args.timeout:g} s", name="REQUEST_TIMED_OUT")
    return 0


def _source(args):
    """(values, the total to show progress against or None, sent -> progress so far)."""
    if args.count is not None:
        size = max(args.record_size, 0)

        def synthetic():
            pad = os.urandom(size // 2 + 1).hex().encode()[:size]
            for i in range(args.count):
                tag = b"%d " % i
                yield (tag + pad)[:max(size, len(tag))]
        return synthetic(), args.count, lambda sent: sent
    if args.file:
        try:
            stream = open(args.file, "rb")
        except OSError as error:
            raise _output.usage(f"cannot read {args.file}: {error.strerror}") from None
        total = os.fstat(stream.fileno()).st_size
        return _lines(stream), total, lambda sent: stream.tell()
    return _lines(sys.stdin.buffer), None, lambda sent: sent

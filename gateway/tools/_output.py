"""Output for the tools: aligned tables or JSON (`--output table|json`), colour only on a TTY, one-line errors
with Kafka's error name, and the exit codes.

Exit codes (README, "The ottla command"):
    0  done
    1  the cluster refused: a Kafka error (its name is printed), or some of several items failed
    2  usage: bad flags or arguments, an unreadable --command-config or input file
    3  no broker answered within --timeout (cannot connect, or the request timed out)
    4  not found: the topic, group, transactional id or resource asked for does not exist
    5  not allowed: authentication failed or the principal is not authorized
  130  interrupted (Ctrl-C)
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any

OK, REFUSED, USAGE, UNREACHABLE, NOT_FOUND, NOT_ALLOWED, INTERRUPTED = 0, 1, 2, 3, 4, 5, 130
EXIT_CODES = {OK: "done", REFUSED: "the cluster refused (a Kafka error)", USAGE: "usage error",
              UNREACHABLE: "no broker answered in time", NOT_FOUND: "not found", NOT_ALLOWED: "not allowed",
              INTERRUPTED: "interrupted"}

_NOT_FOUND = {"UNKNOWN_TOPIC_OR_PARTITION", "UNKNOWN_TOPIC_ID", "GROUP_ID_NOT_FOUND", "RESOURCE_NOT_FOUND",
              "TRANSACTIONAL_ID_NOT_FOUND", "RESOURCE_NOT_FOUND", "_UNKNOWN_TOPIC", "_UNKNOWN_PARTITION",
              "UNKNOWN_TOPIC_OR_PART", "_NOENT"}
_UNREACHABLE = {"_TRANSPORT", "_TIMED_OUT", "_ALL_BROKERS_DOWN", "_RESOLVE", "_MSG_TIMED_OUT", "REQUEST_TIMED_OUT",
                "NETWORK_EXCEPTION", "COORDINATOR_NOT_AVAILABLE", "BROKER_NOT_AVAILABLE"}


def exit_code_for(error_name: str) -> int:
    if error_name in _NOT_FOUND:
        return NOT_FOUND
    if error_name in _UNREACHABLE:
        return UNREACHABLE
    if error_name.endswith("AUTHORIZATION_FAILED") or error_name in ("SASL_AUTHENTICATION_FAILED",
                                                                     "_AUTHENTICATION", "ILLEGAL_SASL_STATE", "_SSL"):
        return NOT_ALLOWED
    return REFUSED


def kafka_error_name(code: int, fallback: str = "") -> str:
    """Kafka's name for an error code (wire.errors.ErrorCode), librdkafka's for its local (negative) ones."""
    if code >= -1:
        from wire.errors import ErrorCode

        try:
            return ErrorCode(code).name
        except ValueError:
            pass
    return fallback or f"ERROR_{code}"


class CliError(Exception):
    """A failure to print in one line and exit with `exit_code`."""

    def __init__(self, message: str, name: str = "", exit_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.name = name
        self.exit_code = exit_code if exit_code is not None else (exit_code_for(name) if name else REFUSED)


def usage(message: str) -> CliError:
    return CliError(message, exit_code=USAGE)


_COLOURS = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


def colour_on(stream) -> bool:
    return stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def paint(text: str, colour: str, stream=None) -> str:
    if not colour_on(stream or sys.stdout):
        return text
    return f"\033[{_COLOURS[colour]}m{text}\033[0m"


def report_error(error: CliError, json_mode: bool = False) -> int:
    """One line on stderr: `ottla: NAME: message` (JSON with --output json); returns the exit code."""
    if json_mode:
        print(json.dumps({"error": error.name or None, "message": error.message, "exit_code": error.exit_code}),
              file=sys.stderr)
    else:
        name = paint(error.name, "red", sys.stderr) + ": " if error.name else ""
        print(f"ottla: {name}{error.message}", file=sys.stderr)
    return error.exit_code


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ",".join(cell(v) for v in value) or "-"
    return str(value)


class Output:
    """Where a verb writes its answer: `table(...)` and `record(...)` print as a table or as JSON."""

    def __init__(self, args, stream=None):
        self.json = getattr(args, "output", "table") == "json"
        self.stream = stream or sys.stdout

    def table(self, rows: Sequence[dict], columns: Sequence[str], title: str | None = None,
              json_value: Any = None, highlight: dict[str, str] | None = None) -> None:
        """Rows (dicts) as an aligned table of `columns`; with --output json, `json_value` (default: rows)."""
        if self.json:
            self.emit(rows if json_value is None else json_value)
            return
        if title:
            print(paint(title, "bold", self.stream), file=self.stream)
        for line in format_table(rows, columns, colour=colour_on(self.stream), highlight=highlight or {}):
            print(line, file=self.stream)

    def record(self, fields: dict, json_value: Any = None) -> None:
        """One thing's fields, one `name: value` a line (JSON: the dict)."""
        if self.json:
            self.emit(fields if json_value is None else json_value)
            return
        width = max((len(k) for k in fields), default=0)
        for key, value in fields.items():
            print(f"{paint(key.ljust(width), 'bold', self.stream)}  {cell(value)}", file=self.stream)

    def emit(self, value: Any) -> None:
        print(json.dumps(value, default=str, indent=None if not self.stream.isatty() else 2), file=self.stream)

    def line(self, text: str) -> None:
        """A human sentence (table mode only: --output json prints only JSON)."""
        if not self.json:
            print(text, file=self.stream)


def format_table(rows: Iterable[dict], columns: Sequence[str], colour: bool = False,
                 highlight: dict[str, str] | None = None) -> list[str]:
    """Left-aligned columns two spaces apart, numbers right-aligned; a header row in capitals."""
    rows = list(rows)
    text = [[cell(row.get(c)) for c in columns] for row in rows]
    headers = [c.upper().replace("_", "-") for c in columns]
    widths = [max([len(headers[i])] + [len(r[i]) for r in text]) for i in range(len(columns))]
    numeric = [all(_is_number(r[i]) for r in text) and bool(text) for i in range(len(columns))]

    def fmt(values: list[str], header: bool = False, row: dict | None = None) -> str:
        cells = []
        for i, value in enumerate(values):
            padded = value.rjust(widths[i]) if numeric[i] else value.ljust(widths[i])
            if colour and header:
                padded = f"\033[1m{padded}\033[0m"
            elif colour and row is not None and highlight and columns[i] in highlight:
                wanted = highlight[columns[i]]
                if row.get(columns[i]) not in (None, "", 0, "NONE", False) and wanted in _COLOURS:
                    padded = f"\033[{_COLOURS[wanted]}m{padded}\033[0m"
            cells.append(padded)
        return "  ".join(cells).rstrip()

    return [fmt(headers, header=True)] + [fmt(values, row=row) for values, row in zip(text, rows)]


def _is_number(text: str) -> bool:
    return text == "-" or text.lstrip("-").isdigit()


def describe_each(args, names, describe_one, show_one) -> int:
    """`describe_one(name)` for each name (a CliError is reported in one line and the rest still run); table
    mode shows each with `show_one(out, info)`, JSON prints the list; the first failure's exit code."""
    out = Output(args)
    found, failure = [], None
    for name in names:
        try:
            info = describe_one(name)
        except CliError as error:
            failure = failure or error
            report_error(error, out.json)
            continue
        found.append(info)
        if not out.json:
            show_one(out, info)
    if out.json:
        out.emit(found)
    return failure.exit_code if failure else OK

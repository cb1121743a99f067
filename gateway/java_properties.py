"""Java's Properties.load for the subset Kafka's files use (server.properties, a client's --command-config).

key=value or key: value, # and ! comments, backslash continuations and escapes. Imports only `re`, so the
CLI tools can read a client config without loading the broker's config machinery.
"""

from __future__ import annotations

import re


def read_properties(text: str) -> dict[str, str]:
    """Java's Properties.load for the subset server.properties files use."""
    props: dict[str, str] = {}
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.lstrip() if pending else raw.strip()
        pending = ""
        if not line or line[0] in "#!":
            continue
        if _continues(line):
            pending = line[:-1]
            continue
        match = re.match(r"((?:\\.|[^=:\s\\])+)\s*[=:\s]\s*(.*)$", line)
        key, value = (match.group(1), match.group(2)) if match else (line, "")
        props[_unescape(key)] = _unescape(value.rstrip())
    if pending:
        key, _, value = pending.partition("=")
        props[_unescape(key.strip())] = _unescape(value.strip())
    return props


def _continues(line: str) -> bool:
    backslashes = len(line) - len(line.rstrip("\\"))
    return backslashes % 2 == 1


_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _unescape(text: str) -> str:
    def one(match: re.Match) -> str:
        escaped = match.group(1)
        if escaped[0] == "u" and len(escaped) == 5:
            return chr(int(escaped[1:], 16))
        return _ESCAPES.get(escaped, escaped)
    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", one, text)

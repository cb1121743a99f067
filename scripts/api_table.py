"""Print the supported APIs and versions as a Markdown table, from the handler registry (for the README)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway.registry import HANDLERS  # noqa: E402  (iterating it imports every handler)

BEGIN, END = "<!-- api-table:begin -->", "<!-- api-table:end -->"


def table() -> str:
    rows = ["| API | key | versions served | advertised |", "|---|---|---|---|"]
    for key, reg in sorted(HANDLERS.items()):
        served = f"{reg.served_min}-{reg.max_version}"
        rows.append(f"| {reg.api.name} | {key} | {served} | {reg.advertised_min}-{reg.max_version} |")
    return "\n".join(rows)


def handlers_table() -> str:
    """gateway/handlers/__init__.py's TABLE rows, from the registrations (after a handler's versions change)."""
    rows = []
    for key, reg in sorted(HANDLERS.items()):
        module = getattr(reg.handler, "__wrapped__", reg.handler).__module__.rsplit(".", 1)[-1]
        rows.append(f'    {key}: ("{module}", {reg.advertised_min}, {reg.served_min}, {reg.max_version}),  # {reg.api.name}')
    return "\n".join(rows)


def render(readme: str) -> str:
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


if __name__ == "__main__":
    path = Path(__file__).resolve().parent.parent / "README.md"
    if sys.argv[1:] == ["--write"]:
        path.write_text(render(path.read_text()))
    elif sys.argv[1:] == ["--handlers-table"]:
        print(handlers_table())
    else:
        print(table())

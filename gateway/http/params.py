"""Query and form parameters shared by the console pages and their JSON twins."""

from __future__ import annotations

from aiohttp import web


class BadParameter(ValueError):
    pass


def optional_int(value: str | None, name: str) -> int | None:
    if value is None or value.strip() == "":
        return None
    try:
        return int(value.strip())
    except ValueError:
        raise BadParameter(f"{name} must be an integer, not {value!r}") from None


def browse_args(query) -> dict:
    """gateway.views.messages.browse keyword arguments from ?partition=&start=&offset=&timestamp=&limit=&q=&jsonpath="""
    return {
        "partition": optional_int(query.get("partition"), "partition"),
        "start": query.get("start") or "newest",
        "offset": optional_int(query.get("offset"), "offset"),
        "timestamp_ms": optional_int(query.get("timestamp"), "timestamp"),
        "limit": optional_int(query.get("limit"), "limit") or 50,
        "text": query.get("q") or None,
        "json_path": query.get("jsonpath") or None,
    }


def headers_from_text(text: str) -> list[tuple[str, bytes]]:
    """Record headers from lines of `name: value` (or name=value)."""
    headers = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        sep = ":" if ":" in line else "="
        name, found, value = line.partition(sep)
        if not found or not name.strip():
            raise BadParameter(f"a header is 'name: value', not {line!r}")
        headers.append((name.strip(), value.strip().encode("utf-8")))
    return headers


def configs_from_text(text: str) -> dict[str, str]:
    """Topic configs from lines of key=value."""
    configs = {}
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        name, found, value = line.partition("=")
        if not found or not name.strip():
            raise BadParameter(f"a config is 'name=value', not {line!r}")
        configs[name.strip()] = value.strip()
    return configs


def bad_request(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)

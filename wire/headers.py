"""Request headers v0-v2 and response headers v0/v1 (ApiVersions responses always use v0)."""

from __future__ import annotations

import io
import struct
from typing import NamedTuple

from wire.codec import ProtocolError, read_uvarint
from wire.messages import APIS

API_VERSIONS_KEY = 18
_V1 = struct.Struct(">hhih")
_INT32 = struct.Struct(">i")
_FLEXIBLE_HEADER = struct.Struct(">ib")  # correlation id, no tagged fields
_FRAME_HEAD = struct.Struct(">ii")  # a response's size field and header v0 (response_frame_head)
_FRAME_HEAD_FLEXIBLE = struct.Struct(">iib")  # ... and header v1
_HEADER_SIZE, _FLEXIBLE_HEADER_SIZE = _INT32.size, _FLEXIBLE_HEADER.size  # (globals: no attribute read a response)


class RequestHeader(NamedTuple):
    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None
    body_offset: int  # where the request body starts in the frame


def request_is_flexible(api_key: int, api_version: int) -> bool:
    known = _FLEXIBLE.get((api_key, api_version))
    if known is not None:
        return known
    api = APIS.get(api_key)
    if api is None:
        return False
    if api_key == API_VERSIONS_KEY and api_version > api.request.valid_versions.high:
        return True  # a newer ApiVersions than we know is flexible too; we only answer it with v0
    flexible = api.request.is_flexible(api_version)
    if api.request.decodable(api_version):  # remembered for the versions we serve only: a bounded dict
        _FLEXIBLE[(api_key, api_version)] = flexible
    return flexible


_FLEXIBLE: dict[tuple[int, int], bool] = {}  # (api key, version) -> flexible: one lookup a request


def decode_request_header(frame: bytes) -> RequestHeader:
    """Header v1 (client id as a classic nullable string), plus the tagged fields of v2 when flexible."""
    if len(frame) < _V1.size:
        raise ProtocolError(f"request header needs {_V1.size} bytes, frame has {len(frame)}")
    api_key, api_version, correlation_id, client_id_len = _V1.unpack_from(frame)
    pos = _V1.size
    client_id = None
    if client_id_len >= 0:
        if pos + client_id_len > len(frame):
            raise ProtocolError("client id runs past the frame")
        try:
            client_id = frame[pos : pos + client_id_len].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("client id is not UTF-8") from exc
        pos += client_id_len
    elif client_id_len != -1:
        raise ProtocolError(f"client id length {client_id_len}")
    flexible = _FLEXIBLE.get((api_key, api_version))  # (request_is_flexible's cache, inline: once a request)
    if flexible is None:
        flexible = request_is_flexible(api_key, api_version)
    if flexible:
        pos = _skip_tagged_fields(frame, pos)
    return RequestHeader(api_key, api_version, correlation_id, client_id, pos)


def _skip_tagged_fields(frame: bytes, pos: int) -> int:
    if pos < len(frame) and frame[pos] == 0:  # no tagged fields: what every client sends
        return pos + 1
    return _read_past_tagged_fields(frame, pos)


def _read_past_tagged_fields(frame: bytes, pos: int) -> int:
    stream = io.BytesIO(frame)
    stream.seek(pos)
    for _ in range(read_uvarint(stream)):
        read_uvarint(stream)
        size = read_uvarint(stream)
        if stream.tell() + size > len(frame):
            raise ProtocolError("header tagged field runs past the frame")
        stream.seek(size, 1)
    return stream.tell()


def encode_request_header(api_key: int, api_version: int, correlation_id: int, client_id: str | None) -> bytes:
    """For tests and tools that speak to a broker."""
    raw = None if client_id is None else client_id.encode("utf-8")
    out = _V1.pack(api_key, api_version, correlation_id, -1 if raw is None else len(raw)) + (raw or b"")
    return out + b"\x00" if request_is_flexible(api_key, api_version) else out


def response_header(api_key: int, api_version: int, correlation_id: int) -> bytes:
    if api_key != API_VERSIONS_KEY and request_is_flexible(api_key, api_version):  # (ApiVersions: always v0)
        return _FLEXIBLE_HEADER.pack(correlation_id, 0)
    return _INT32.pack(correlation_id)


def response_frame_head(api_key: int, api_version: int, correlation_id: int, body_size: int) -> bytes:
    """A response's size field and its header (response_header's) in one pack: what goes before the body."""
    if api_key != API_VERSIONS_KEY:
        flexible = _FLEXIBLE.get((api_key, api_version))  # (request_is_flexible's cache, inline)
        if flexible or (flexible is None and request_is_flexible(api_key, api_version)):
            return _FRAME_HEAD_FLEXIBLE.pack(_FLEXIBLE_HEADER_SIZE + body_size, correlation_id, 0)
    return _FRAME_HEAD.pack(_HEADER_SIZE + body_size, correlation_id)


def response_header_size(api_key: int, api_version: int) -> int:
    """What a client must skip before the response body (for tests and tools)."""
    return len(response_header(api_key, api_version, 0))

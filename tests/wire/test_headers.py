"""Request headers v1/v2 and response headers v0/v1, with the ApiVersions exception."""

import struct

import pytest

from wire.codec import ProtocolError
from wire.headers import decode_request_header, encode_request_header, response_frame_head, response_header


def test_v1_header_with_client_id():
    raw = encode_request_header(18, 0, 42, "my-client")
    header = decode_request_header(raw + b"BODY")
    assert header[:4] == (18, 0, 42, "my-client")
    assert (raw + b"BODY")[header.body_offset :] == b"BODY"


def test_v2_header_skips_tagged_fields():
    raw = struct.pack(">hhih", 18, 3, 7, 1) + b"c" + bytes.fromhex("01" "05" "02" "abcd")
    header = decode_request_header(raw + b"\x00")
    assert header.client_id == "c" and header.body_offset == len(raw)


def test_null_client_id():
    header = decode_request_header(struct.pack(">hhih", 3, 1, 9, -1))
    assert header.client_id is None


@pytest.mark.parametrize("raw", [b"", b"\x00\x12\x00", struct.pack(">hhih", 18, 0, 1, 50) + b"short",
                                 struct.pack(">hhih", 18, 0, 1, -7)])
def test_bad_headers_raise_protocol_error(raw):
    with pytest.raises(ProtocolError):
        decode_request_header(raw)


def test_api_versions_response_header_is_always_v0():
    assert response_header(18, 3, 5) == struct.pack(">i", 5)
    assert response_header(18, 0, 5) == struct.pack(">i", 5)


@pytest.mark.parametrize("api_key, version", [(0, 8), (0, 9), (1, 11), (1, 12), (3, 9), (18, 0), (18, 3), (18, 4)])
def test_response_frame_head_is_the_size_field_then_the_response_header(api_key, version):
    for body_size in (0, 1, 70_000):
        header = response_header(api_key, version, -3)
        assert response_frame_head(api_key, version, -3, body_size) == \
            struct.pack(">i", len(header) + body_size) + header

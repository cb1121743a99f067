"""Random and mutated frames never make the decoders raise anything but the protocol's own error."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wire.codec import ProtocolError, decode, encode
from gateway.frame_buffer import FrameBuffer
from wire.frames import FrameError
from wire.headers import decode_request_header
from wire.messages import APIS

MESSAGES = [
    (message, version)
    for api in APIS.values()
    for message in (api.request, api.response)
    for version in range(message.valid_versions.low, message.valid_versions.high + 1)
]


def _decode_or_protocol_error(message, version, data):
    try:
        decode(message, version, data)
    except ProtocolError:
        pass


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.sampled_from(MESSAGES), st.binary(max_size=300))
def test_random_bodies(pick, data):
    _decode_or_protocol_error(*pick, data)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.sampled_from(MESSAGES), st.data())
def test_mutated_valid_bodies(pick, data):
    message, version = pick
    body = bytearray(encode(message, version, {}))
    for _ in range(data.draw(st.integers(1, 4))):
        if not body:
            break
        i = data.draw(st.integers(0, len(body) - 1))
        body[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(body)))
    _decode_or_protocol_error(message, version, bytes(body[:cut]))
    _decode_or_protocol_error(message, version, bytes(body))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_random_headers(data):
    try:
        decode_request_header(data)
    except ProtocolError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=8))
def test_random_frame_streams(chunks):
    decoder = FrameBuffer(max_size=1 << 16)
    try:
        for chunk in chunks:
            decoder.receive(chunk)
            while decoder.next_frame() is not None:
                pass
    except FrameError:
        pass

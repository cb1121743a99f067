"""The generated codecs (wire.fast_codec) against the construct codec, over generated values.

For every version of every message in FAST_APIS (and, with fewer samples, of every declared message,
so the generator is exercised on every shape the declarations have): the generated encoder's bytes
are construct's (with and without gather, Parts and big values included), the generated decoder's
Container is construct's (same keys in the same order, same values and types: views, tagged fields,
unknown tags); on malformed bytes (truncated, flipped, inserted bytes) and on values of wrong types
the generated functions raise exactly where construct raises, and `decode`/`encode` then give
construct's own error; WorkLimit comes at the same element counts.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from construct import Container

from wire import codec, fast_codec
from wire.codec import (
    FAST_APIS,
    GATHER_MIN_BYTES,
    VIEW_FROM,
    Parts,
    WorkLimit,
    construct_decode,
    construct_encode,
    decode,
    encode,
)
from wire.headers import decode_request_header
from wire.messages import APIS
from wire.schema import Field, Message

GOLDEN = sorted((Path(__file__).parent / "golden").glob("*.bin"))
INT_BITS = {"int8": 8, "int16": 16, "int32": 32, "int64": 64}


def _versions(message: Message) -> list[int]:
    legacy = message.legacy
    low = message.valid_versions.low
    if legacy != "none":
        low = min(low, int(legacy.split("-")[0]))
    return [v for v in range(low, message.valid_versions.high + 1) if message.decodable(v)]


def _cases(keys) -> list:
    return [pytest.param(api.request if kind == "request" else api.response, version,
                         id=f"{api.name}-{kind}-v{version}")
            for key in sorted(keys) for api in [APIS[key]] for kind in ("request", "response")
            for version in _versions(api.request if kind == "request" else api.response)]


HOT = _cases(FAST_APIS)
EVERY = _cases(APIS.keys())


class Values:
    """Random values for a message at a version, from its declaration."""

    def __init__(self, rng: random.Random, version: int, flexible: bool, *, big: bool = True,
                 parts: bool = False) -> None:
        self.rng, self.version, self.flexible, self.big, self.parts = rng, version, flexible, big, parts
        self.long = big  # arrays of 130 (a count of two varint bytes) and big byte values

    def string(self) -> str:
        rng = self.rng
        n = rng.choice((0, 1, 3, 8, 8, 130 if self.flexible else 40))
        return "".join(rng.choice("abcXYZ-._é你😀") for _ in range(n))

    def raw(self) -> bytes:
        rng = self.rng
        sizes = [0, 1, 7, 61, 200]
        if self.big:
            sizes += [GATHER_MIN_BYTES, VIEW_FROM + 3]
        return rng.randbytes(rng.choice(sizes))

    def scalar(self, kind: str):
        rng = self.rng
        if kind in INT_BITS:
            bits = INT_BITS[kind]
            return rng.choice((0, 1, -1, (1 << (bits - 1)) - 1, -(1 << (bits - 1)), rng.randrange(-99, 99)))
        if kind == "uint16":
            return rng.choice((0, 1, 65535, rng.randrange(65536)))
        if kind == "float64":
            return rng.choice((0.0, -1.5, 1e300, rng.random()))
        if kind == "bool":
            return rng.random() < 0.5
        if kind == "uuid":
            return rng.choice((b"\x00" * 16, rng.randbytes(16)))
        if kind == "string":
            return self.string()
        value = self.raw()
        if self.parts and kind in ("records", "bytes") and rng.random() < 0.3:
            return Parts([self.raw() for _ in range(rng.randrange(0, 4))])
        return value

    def field(self, field: Field):
        rng = self.rng
        nullable = self.version in field.nullable
        if nullable and rng.random() < 0.2:
            return None
        if field.is_array:
            n = rng.choice((0, 1, 2, 3, 130 if self.long and rng.random() < 0.1 else 2))
            if field.is_struct:
                return [self.struct(field.fields) for _ in range(n)]
            return [self.scalar(field.element_type) for _ in range(n)]
        if field.is_struct:
            return self.struct(field.fields)
        return self.scalar(field.type)

    def struct(self, fields) -> dict:
        rng = self.rng
        out = {}
        for field in fields:
            if not field.present_in(self.version):
                continue
            if field.tag is not None and self.flexible and rng.random() < 0.5:
                continue  # a tagged field at its default: not written
            if rng.random() < 0.05 and (field.default is not None or self.version in field.nullable):
                continue  # absent: encoded as its default
            out[field.name] = self.field(field)
        if self.flexible and rng.random() < 0.15:
            out["_unknown_tags"] = sorted((rng.randrange(40, 300), rng.randbytes(rng.randrange(0, 5)))
                                          for _ in range(rng.randrange(1, 3)))
        return out

    def message(self, message: Message) -> dict:
        return self.struct(message.fields)


def same(a, b) -> bool:
    """Equal values of the same types; Containers with the same keys in the same order."""
    if a.__class__ is not b.__class__:
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, memoryview):
        return a.tobytes() == b.tobytes() and a.readonly == b.readonly
    if isinstance(a, float):
        return a == b or (a != a and b != b)  # NaN from mutated bytes
    if isinstance(a, Parts):
        return [bytes(p) for p in a.parts] == [bytes(p) for p in b.parts]
    return a == b


def outcome(function, *args):
    try:
        return "ok", function(*args)
    except Exception as exc:  # noqa: BLE001 - which error is the point
        return "error", (exc.__class__, str(exc))


def generated_outcome(function, *args):
    """A generated function's own outcome: it raises (anything) where construct raises."""
    try:
        return "ok", function(*args)
    except WorkLimit as exc:
        return "error", (WorkLimit, str(exc))
    except Exception:  # noqa: BLE001
        return "error", None


def assert_same_outcome(generated, constructs):
    assert generated[0] == constructs[0], (generated, constructs)
    if generated[0] == "ok":
        assert same(generated[1], constructs[1]), (generated[1], constructs[1])
    elif generated[1] is not None:  # WorkLimit: same class and text
        assert generated[1] == constructs[1]


def _check_value(message: Message, version: int, value: dict, rng: random.Random) -> None:
    enc = fast_codec.encoder(message, version)
    dec = fast_codec.decoder(message, version)
    for gather in (False, True):
        want = outcome(construct_encode, message, version, value, None, gather)
        got = outcome(encode, message, version, value, None, gather)
        assert got[0] == want[0] and same(got[1], want[1]), (got, want)
        if want[0] == "ok":  # the generated function itself, not construct through the fallback
            holes = [] if gather else None
            pieces = enc(value, 1 << 62, holes)
            assert same(codec._gathered(pieces, holes) if holes else b"".join(pieces), want[1])
    data = bytes(construct_encode(message, version, value))
    prefix = rng.randbytes(rng.choice((0, 5)))
    framed = prefix + data
    for views in (False, True):
        want = construct_decode(message, version, framed, len(prefix), None, views)
        got = dec(framed, len(prefix), 1 << 62, views)
        assert same(got, want), (got, want)
        assert same(decode(message, version, framed, len(prefix), None, views), want)
    assert same(decode(message, version, bytearray(framed), len(prefix), None, True),
                construct_decode(message, version, bytearray(framed), len(prefix), None, True))
    # re-encoding what was decoded gives the bytes back (unknown tags included)
    assert bytes(encode(message, version, construct_decode(message, version, data))) == data


@pytest.mark.parametrize("message,version", HOT)
def test_hot_messages_round_trip_as_construct_does(message, version):
    rng = random.Random(f"{message.name}-{version}")
    for _ in range(40):
        values = Values(rng, version, message.is_flexible(version), parts=not message.name.endswith("Request"))
        _check_value(message, version, values.message(message), rng)


@pytest.mark.parametrize("message,version", EVERY)
def test_every_declared_message_round_trips_as_construct_does(message, version):
    rng = random.Random(f"every-{message.name}-{version}")
    for _ in range(6):
        values = Values(rng, version, message.is_flexible(version), big=False, parts=True)
        _check_value(message, version, values.message(message), rng)


def _mutations(rng: random.Random, data: bytes):
    yield b""
    for at in range(min(len(data), 80)):  # every byte of the start at the values lengths and markers turn on
        for byte in (0x00, 0x01, 0x7F, 0x80, 0xFF):
            yield data[:at] + bytes((byte,)) + data[at + 1:]
    for _ in range(12):
        yield data[:rng.randrange(len(data) + 1)]
    for _ in range(20):
        mutated = bytearray(data)
        for _ in range(rng.randrange(1, 4)):
            at = rng.randrange(len(mutated)) if mutated else 0
            action = rng.random()
            if action < 0.5 and mutated:
                mutated[at] = rng.choice((0, 0x7F, 0x80, 0xFF, rng.randrange(256)))
            elif action < 0.8:
                mutated[at:at] = rng.randbytes(rng.randrange(1, 6))
            elif mutated:
                del mutated[at]
        yield bytes(mutated)


def _check_malformed(message: Message, version: int, data: bytes, rng: random.Random) -> None:
    dec = fast_codec.decoder(message, version)
    for bad in _mutations(rng, data):
        limit = rng.choice((None, None, 0, 1, 3, 50))
        left = 1 << 62 if limit is None else limit
        want = outcome(construct_decode, message, version, bad, 0, limit, True)
        assert_same_outcome(generated_outcome(dec, bad, 0, left, True), want)
        got = outcome(decode, message, version, bad, 0, limit, True)  # the caller's view: construct's error
        assert got[0] == want[0] and (same(got[1], want[1]) if got[0] == "ok" else got[1] == want[1])


@pytest.mark.parametrize("message,version,samples", [(*case.values, 8) for case in HOT] + [
    (*case.values, 2) for case in EVERY], ids=[f"hot-{case.id}" for case in HOT] + [case.id for case in EVERY])
def test_generated_decoders_fail_where_construct_fails(message, version, samples):
    rng = random.Random(f"bad-{message.name}-{version}-{samples}")
    for _ in range(samples):
        value = Values(rng, version, message.is_flexible(version), big=False).message(message)
        _check_malformed(message, version, bytes(construct_encode(message, version, value)), rng)


WRONG = (None, 7, -1, 1 << 70, 1.5, "text", b"bytes", b"\x00" * 17, [], [1], {}, True, "x" * 40_000, Container(a=1),
         memoryview(b"view"), bytearray(b"mutable"))


def _paths(value, path=()):
    """Every place in a value (dict keys, list items) where a wrong value can go."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield path + (key,)
            yield from _paths(item, path + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield path + (i,)
            yield from _paths(item, path + (i,))


def _replaced(value, path, new):
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        out = dict(value)
    else:
        out = list(value)
    out[head] = _replaced(value[head], rest, new)
    return out


@pytest.mark.parametrize("message,version", HOT)
def test_hot_messages_refuse_wrong_values_where_construct_does(message, version):
    rng = random.Random(f"wrong-{message.name}-{version}")
    enc = fast_codec.encoder(message, version)
    for _ in range(4):
        value = Values(rng, version, message.is_flexible(version), big=False).message(message)
        paths = list(_paths(value))
        for path, wrong in [(path, rng.choice(WRONG)) for path in rng.sample(paths, min(len(paths), 40))]:
            bad = _replaced(value, path, wrong)
            limit = rng.choice((None, None, 2))
            want = outcome(construct_encode, message, version, bad, limit)
            got = generated_outcome(lambda: b"".join(enc(bad, 1 << 62 if limit is None else limit, None)))
            if got[0] == "error" and want[0] == "ok":
                pass  # a value construct converts (an int uuid, a bytearray one): it encodes, through the fallback
            else:
                assert_same_outcome(got, want)
            assert outcome(encode, message, version, bad, limit) == want


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden_captures_decode_as_construct_does(path):
    frame = path.read_bytes()
    header = decode_request_header(frame)
    message = APIS[header.api_key].request
    want = construct_decode(message, header.api_version, frame, header.body_offset, 500, True)
    got = fast_codec.decoder(message, header.api_version)(frame, header.body_offset, 500, True)
    assert same(got, want)
    assert encode(message, header.api_version, got) == frame[header.body_offset:]


def test_produce_and_fetch_take_the_generated_path():
    """The dispatch: a Produce/Fetch decode never reaches construct when the bytes are good."""
    frame = (Path(__file__).parent / "golden" / "librdkafka-0-v10.bin").read_bytes()
    header = decode_request_header(frame)
    calls = []
    saved = codec.construct_decode
    codec.construct_decode = lambda *a, **k: calls.append(a) or saved(*a, **k)
    try:
        decode(APIS[0].request, header.api_version, frame, header.body_offset)
        assert calls == []
        with pytest.raises(codec.ProtocolError):
            decode(APIS[0].request, header.api_version, frame[:header.body_offset + 4], header.body_offset)
        assert len(calls) == 1  # a bad frame: construct says what is wrong
    finally:
        codec.construct_decode = saved
    assert codec._FAST_DECODERS[(APIS[0].request, header.api_version)] is not None
    assert codec._FAST_DECODERS.get((APIS[3].request, 12)) is None  # Metadata: construct


def test_big_records_are_views_and_gathered_pieces():
    message = APIS[0].request
    records = bytes(range(256)) * 100
    body = {"transactional_id": None, "acks": 1, "timeout_ms": 5, "topic_data": [
        {"name": "t", "partition_data": [{"index": 0, "records": records}]}]}
    data = encode(message, 9, body)
    got = decode(message, 9, data, 0, 500, True)
    view = got["topic_data"][0]["partition_data"][0]["records"]
    assert isinstance(view, memoryview) and view.readonly and view.obj is data and view == records
    response = APIS[1].response
    parts = Parts([records * 3] * 8)
    body = {"responses": [{"topic": "t", "partitions": [{"partition_index": 0, "records": parts}]}]}
    gathered = encode(response, 11, body, 500, True)
    assert isinstance(gathered, Parts) and all(piece is parts.parts[0] for piece in gathered.parts[1:-1])
    assert bytes(gathered) == bytes(construct_encode(response, 11, body))


def test_the_generator_is_imported_at_the_first_produce_not_at_start():
    """Start-up (ApiVersions, Metadata) never imports wire.fast_codec; the first Produce does, and builds
    only the functions of the versions used (fresh interpreter: this one has imported everything)."""
    import json
    import subprocess
    import sys

    child = r'''
import json, sys
from wire import codec
from wire.messages import APIS
seen = {}
codec.decode(APIS[18].request, 3, codec.encode(APIS[18].request, 3, {"client_software_name": "a"}))
codec.decode(APIS[3].request, 12, codec.encode(APIS[3].request, 12, {"topics": None}))
seen["at_metadata"] = "wire.fast_codec" in sys.modules
body = codec.encode(APIS[0].request, 9, {"acks": 1, "timeout_ms": 1, "topic_data": []})
codec.decode(APIS[0].request, 9, body)
seen["after_produce"] = "wire.fast_codec" in sys.modules
seen["built"] = sorted((m.name, v) for (m, v), f in {**codec._FAST_DECODERS, **codec._FAST_ENCODERS}.items() if f)
print(json.dumps(seen))
'''
    out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2]).stdout
    seen = json.loads(out)
    assert seen == {"at_metadata": False, "after_produce": True, "built": [["ProduceRequest", 9]]}

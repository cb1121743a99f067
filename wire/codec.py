"""Codecs derived from the declarations: one construct per (message, version), built once and cached.

Kafka's encodings as construct classes: classic (int16/int32 length) and compact (unsigned varint
N+1) strings, bytes and arrays, nested structs, and the tagged-field block that ends every struct in a
flexible version. Array counts and lengths are checked against the bytes that remain before anything
is allocated, so a small frame cannot claim a huge array. `decode` raises `ProtocolError` and nothing
else on bad bytes.
"""

from __future__ import annotations

import io
import os
import struct
from functools import lru_cache
from operator import itemgetter
from typing import Any

from construct import (
    Bytes,
    Construct,
    ConstructError,
    Container,
    Flag,
    Float64b,
    FormatField,
    Int8sb,
    Int16sb,
    Int16ub,
    Int32sb,
    Int64sb,
    stream_read,
    stream_write,
)

from wire.schema import Field, Message


class ProtocolError(Exception):
    """The peer sent bytes that are not a valid Kafka message (a remote protocol error)."""


_INT16, _INT32 = struct.Struct(">h"), struct.Struct(">i")

UVARINT_MAX_BYTES = 5  # Kafka's unsigned varints here carry at most 32 bits


def read_uvarint(stream: io.BytesIO) -> int:
    result = 0
    for shift in range(0, 7 * UVARINT_MAX_BYTES, 7):
        byte = stream.read(1)
        if not byte:
            raise ProtocolError("truncated varint")
        b = byte[0]
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result
    raise ProtocolError("varint longer than 5 bytes")


_SMALL_UVARINTS = [bytes((i,)) for i in range(128)]


def uvarint_bytes(value: int) -> bytes:
    if 0 <= value < 128:
        return _SMALL_UVARINTS[value]
    if value < 0:
        raise ProtocolError(f"negative unsigned varint {value}")
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class WorkLimit(Exception):
    """More array elements than the caller's `max_elements`: the work is too big to do here (the
    gateway redoes it off the event loop). Not a protocol error: the bytes may be perfectly valid."""


class _Input(io.BytesIO):
    """The bytes being decoded, knowing their total length (so lengths are checked before reading),
    and how many more array elements this decode may read (see `decode(max_elements=)`)."""

    total = 0
    elements_left = 1 << 62
    source: bytes | None = None  # decode(views=True): the bytes that `records` fields are views of


class _Output(io.BytesIO):
    """Bytes being encoded, with how many more array elements this encode may write. With `holes` (a
    list: encode(gather=True)), bytes values of GATHER_MIN_BYTES or more are not copied in: their
    position and the value itself are noted there, and encode returns the pieces around them."""

    elements_left = 1 << 62
    holes: list | None = None


GATHER_MIN_BYTES = 8 * 1024  # below, one copy into the output costs less than a piece of its own
GATHER_TOTAL_MIN_BYTES = 512 * 1024  # a body whose big values total less is returned as one bytes


def _remaining(stream: _Input, context: Container) -> int:
    return stream.total - stream.tell()


class _Length(Construct):
    """A length prefix: int16/int32 with -1 for null, or a compact uvarint holding N+1 (0 for null)."""

    def __init__(self, compact: bool, wide: bool, nullable: bool, what: str) -> None:
        super().__init__()
        self.compact = compact
        self.prefix = Int32sb if wide else Int16sb
        self._classic = _INT32 if wide else _INT16  # the prefix's own struct: what Int32sb/Int16sb read
        self.nullable = nullable
        self.what = what

    def read_length(self, stream, context, path) -> int:
        if self.compact:
            n = read_uvarint(stream) - 1
        else:
            classic = self._classic
            (n,) = classic.unpack(stream_read(stream, classic.size, path))
        if n < -1 or (n == -1 and not self.nullable):
            raise ProtocolError(f"invalid {self.what} length {n} at {path}")
        if n > stream.total - stream.tell():
            raise ProtocolError(f"{self.what} length {n} exceeds the {_remaining(stream, context)} bytes left")
        return n

    def write_length(self, n: int, stream, context, path) -> None:
        if self.compact:
            stream.write(uvarint_bytes(n + 1))
        else:
            self.prefix._build(n, stream, context, path)


class KString(_Length):
    def __init__(self, compact: bool, nullable: bool) -> None:
        super().__init__(compact, False, nullable, "string")

    def _parse(self, stream, context, path):
        n = self.read_length(stream, context, path)
        if n == -1:
            return None
        try:
            return stream_read(stream, n, path).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(f"string at {path} is not UTF-8") from exc

    def _build(self, obj, stream, context, path):
        if obj is None:
            if not self.nullable:
                raise ProtocolError(f"null for a non-nullable string at {path}")
            self.write_length(-1, stream, context, path)
            return obj
        data = obj.encode("utf-8")
        self.write_length(len(data), stream, context, path)
        stream_write(stream, data, len(data), path)
        return obj


class Parts:
    """A bytes value given as consecutive parts (a Fetch's stored batches): encoded as their
    concatenation without joining them first (a copy of every batch less). len() and bool() are the
    concatenation's; `last` is the last part."""

    __slots__ = ("parts", "size")

    def __init__(self, parts: list[bytes]) -> None:
        self.parts = parts
        self.size = sum(map(len, parts))

    @property
    def last(self) -> bytes:
        return self.parts[-1] if self.parts else b""

    def __len__(self) -> int:
        return self.size

    def __bytes__(self) -> bytes:
        return b"".join(self.parts)


class KBytes(_Length):
    """Bytes, and the `records` type: record batches stay opaque bytes here (or `Parts` of them)."""

    def __init__(self, compact: bool, nullable: bool) -> None:
        super().__init__(compact, True, nullable, "bytes")

    def _parse(self, stream, context, path):
        n = self.read_length(stream, context, path)
        return None if n == -1 else stream_read(stream, n, path)

    def _build(self, obj, stream, context, path):
        if obj is None:
            if not self.nullable:
                raise ProtocolError(f"null for non-nullable bytes at {path}")
            self.write_length(-1, stream, context, path)
            return obj
        holes = stream.holes if stream.__class__ is _Output else None
        if obj.__class__ is Parts:
            self.write_length(obj.size, stream, context, path)
            if holes is not None:
                at = stream.tell()
                holes.extend((at, part) for part in obj.parts)
            else:
                for part in obj.parts:
                    stream_write(stream, part, len(part), path)
            return obj
        self.write_length(len(obj), stream, context, path)
        if holes is not None and len(obj) >= GATHER_MIN_BYTES:
            holes.append((stream.tell(), obj))
        else:
            stream_write(stream, obj, len(obj), path)
        return obj


class KRecords(KBytes):
    """The `records` type: bytes, or, decoding with views=True, from VIEW_FROM bytes a read-only view of
    the decoded bytes (no copy of a 1 MB Produce's batches; the view keeps the request's bytes alive
    while it lives). A small one is copied: that is cheaper than a view (~0.4 us a Produce)."""

    def _parse(self, stream, context, path):
        n = self.read_length(stream, context, path)
        if n == -1:
            return None
        source = stream.source
        if source is None or n < VIEW_FROM:
            return stream_read(stream, n, path)
        start = stream.tell()  # read_length checked that n bytes remain
        stream.seek(start + n)
        return memoryview(source)[start : start + n]


VIEW_FROM = 16 * 1024  # records of this many bytes or more are views with decode(views=True)


class KArray(_Length):
    def __init__(self, element: Construct, compact: bool, nullable: bool) -> None:
        super().__init__(compact, True, nullable, "array")
        self.element = element

    def _parse(self, stream, context, path):
        n = self.read_length(stream, context, path)  # every element takes at least one byte
        if n == -1:
            return None
        stream.elements_left -= n
        if stream.elements_left < 0:
            raise WorkLimit(f"more array elements than allowed at {path}")
        parse = self.element._parse
        return [parse(stream, context, path) for _ in range(n)]

    def _build(self, obj, stream, context, path):
        if obj.__class__ is Encoded:  # the whole array, its count included, built before (`encode_array`)
            stream.write(obj)
            return obj
        if obj is None:
            if not self.nullable:
                raise ProtocolError(f"null for a non-nullable array at {path}")
            self.write_length(-1, stream, context, path)
            return obj
        self.write_length(len(obj), stream, context, path)
        if stream.__class__ is _Output:
            stream.elements_left -= len(obj)
            if stream.elements_left < 0:
                raise WorkLimit(f"more array elements than allowed at {path}")
        element = self.element
        for item in obj:
            element._build(item, stream, context, path)
        return obj


_dict_update = dict.update


class KStruct(Construct):
    """A struct: its fields in order, then (in flexible versions) the tagged-field block.

    Parses to a flat `Container`; tagged fields absent from the bytes take their defaults, and
    unknown tags are kept under `_unknown_tags` so a re-encode preserves them. Builds from any
    mapping; a missing key takes the field's default.
    """

    def __init__(self, fields: list[tuple[str, Construct, Any]], tagged: dict[int, tuple[str, Construct, Any]] | None):
        super().__init__()
        self.fields = fields
        self.tagged = tagged

    def _parse(self, stream, context, path):
        obj = Container()
        for name, con, _ in self.fields:
            if name.__class__ is tuple:  # a FixedRun: several fields from one struct call
                _dict_update(obj, zip(name, con._parse(stream, context, path)))  # (Container.update loops in Python)
            else:
                obj[name] = con._parse(stream, context, path)
        if self.tagged is not None:
            for name, _, default in self.tagged.values():
                obj[name] = default
            first = stream.read(1)
            if first == b"\x00":  # no tagged fields, as almost always: one read (a request's every partition)
                return obj
            if first:
                stream.seek(-1, 1)
            count = read_uvarint(stream)
            if count > _remaining(stream, context):
                raise ProtocolError(f"{count} tagged fields in {_remaining(stream, context)} bytes")
            unknown = []
            for _ in range(count):
                tag = read_uvarint(stream)
                size = read_uvarint(stream)
                if size > _remaining(stream, context):
                    raise ProtocolError(f"tagged field {tag} of {size} bytes exceeds the frame")
                data = stream_read(stream, size, path)
                known = self.tagged.get(tag)
                if known is None:
                    unknown.append((tag, data))
                else:
                    obj[known[0]] = _parse_within(known[1], data, path)
            if unknown:
                obj["_unknown_tags"] = unknown
        return obj

    def _build(self, obj, stream, context, path):
        if obj.__class__ is Encoded:  # built before, at this version (a cached part of a response)
            stream.write(obj)
            return obj
        get = (obj if obj is not None else {}).get  # an absent non-nullable struct is an all-defaults one
        for name, con, default in self.fields:
            if name.__class__ is tuple:
                con._build([get(n, d) for n, d in zip(name, default)], stream, context, path)
            else:
                con._build(get(name, default), stream, context, path)
        if self.tagged is not None:
            entries = []
            for tag, (name, con, default) in self.tagged.items():
                value = get(name, default)
                if value != default:
                    entries.append((tag, _build_alone(con, value, path)))
            entries.extend(get("_unknown_tags") or ())
            if not entries:
                stream.write(b"\x00")
                return obj
            entries.sort(key=lambda entry: entry[0])
            out = bytearray(uvarint_bytes(len(entries)))
            for tag, data in entries:
                out += uvarint_bytes(tag) + uvarint_bytes(len(data)) + data
            stream_write(stream, bytes(out), len(out), path)
        return obj


class Encoded(bytes):
    """A struct's or a whole array's bytes, already encoded at the version being built: a response part
    a handler caches (see `encode_element`, `encode_array`) and hands back in place of the struct's
    dict or the array's list. The codec writes it as it is, without counting its elements."""


class FixedRun(Construct):
    """Consecutive fixed-size scalar fields, read and written with one `struct` call (the hot path's
    share of "compiled where it pays": a partition entry is one unpack, not one call per field)."""

    def __init__(self, formats: str) -> None:
        super().__init__()
        self.struct = struct.Struct(">" + formats)

    def _parse(self, stream, context, path):
        return self.struct.unpack(stream_read(stream, self.struct.size, path))

    def _build(self, obj, stream, context, path):
        try:
            data = self.struct.pack(*obj)
        except struct.error as exc:
            raise ProtocolError(f"cannot encode {obj} at {path}: {exc}") from exc
        stream_write(stream, data, len(data), path)
        return obj


class NullableStruct(Construct):
    """A single (non-array) nullable struct: an int8 marker, -1 for null and 1 for present, then the struct."""

    def __init__(self, struct: KStruct) -> None:
        super().__init__()
        self.struct = struct

    def _parse(self, stream, context, path):
        marker = Int8sb._parse(stream, context, path)
        if marker < 0:
            return None
        return self.struct._parsereport(stream, context, path)

    def _build(self, obj, stream, context, path):
        Int8sb._build(-1 if obj is None else 1, stream, context, path)
        if obj is not None:
            self.struct._build(obj, stream, context, path)
        return obj


def _parse_within(con: Construct, data: bytes, path: str) -> Any:
    stream = _Input(data)
    stream.total = len(data)
    return con._parsereport(stream, Container(), path)


def _build_alone(con: Construct, value: Any, path: str) -> bytes:
    stream = io.BytesIO()
    con._build(value, stream, Container(), path)
    return stream.getvalue()


_SCALARS: dict[str, Construct] = {
    "int8": Int8sb,
    "int16": Int16sb,
    "int32": Int32sb,
    "int64": Int64sb,
    "uint16": Int16ub,
    "float64": Float64b,
    "bool": Flag,
    "uuid": Bytes(16),
}


def _element(field: Field, version: int, flexible: bool) -> Construct:
    nullable = version in field.nullable
    kind = field.element_type
    if field.is_struct:
        return struct_for(field.fields, version, flexible)
    if kind == "string":
        return KString(flexible, nullable and not field.is_array)
    if kind == "records":
        return KRecords(flexible, nullable and not field.is_array)
    if kind == "bytes":
        return KBytes(flexible, nullable and not field.is_array)
    return _SCALARS[kind]


def wrapped(field: Field, version: int, flexible: bool, element, array, nullable_struct):
    """A field's codec from its element's, for every codec derived from the declarations: an array
    (nullable where the version says), a single nullable struct (a presence marker), or the element."""
    if field.is_array:
        return array(element, flexible, version in field.nullable)
    if field.is_struct and version in field.nullable:
        return nullable_struct(element)
    return element


def _field_codec(field: Field, version: int, flexible: bool) -> Construct:
    return wrapped(field, version, flexible, _element(field, version, flexible), KArray, NullableStruct)


_FIXED_FORMATS = {"int8": "b", "int16": "h", "int32": "i", "int64": "q", "uint16": "H", "float64": "d",
                  "bool": "?", "uuid": "16s"}


def field_groups(fields, version: int, flexible: bool) -> tuple[list, list[Field]]:
    """The layout of a struct at a version, for every codec derived from the declarations: its plain
    fields in order, a run of consecutive fixed-size scalars as one list (one `struct` call), and its
    tagged fields (flexible versions only) in tag order."""
    plain: list = []  # a Field, or a list of Fields (a run)
    tagged: dict[int, Field] = {}
    for field in fields:
        if not field.present_in(version):
            continue
        if field.tag is not None and flexible:
            tagged[field.tag] = field
        elif field.type in _FIXED_FORMATS:
            if not plain or plain[-1].__class__ is not list:
                plain.append([])
            plain[-1].append(field)
        else:
            plain.append(field)
    return plain, [tagged[tag] for tag in sorted(tagged)]


def run_struct(run: list[Field]) -> struct.Struct:
    return struct.Struct(">" + "".join(_FIXED_FORMATS[f.type] for f in run))


def struct_for(fields: tuple[Field, ...] | list[Field], version: int, flexible: bool) -> KStruct:
    plain, tagged = field_groups(fields, version, flexible)
    built: list[tuple[Any, Construct, Any]] = []
    for item in plain:
        if item.__class__ is list:  # consecutive fixed-size scalars, merged into one FixedRun
            built.append((tuple(f.name for f in item), FixedRun(run_struct(item).format[1:]),
                          tuple(f.default for f in item)))
        else:
            built.append((item.name, _field_codec(item, version, flexible), item.default))
    return KStruct(built, {f.tag: (f.name, _field_codec(f, version, flexible), f.default) for f in tagged}
                   if flexible else None)


@lru_cache(maxsize=None)
def codec_for(message: Message, version: int) -> KStruct:
    if not message.decodable(version):
        raise ProtocolError(f"{message.name} has no version {version}")
    return struct_for(message.fields, version, message.is_flexible(version))


def encode_element(message: Message, version: int, path: tuple[str, ...], obj: dict) -> Encoded:
    """One element of the struct array at `path` (field names from the top, e.g. ("topics",)),
    encoded alone at `version`; `encode` writes it as it is where such an element goes."""
    con: Construct = codec_for(message, version)
    for name in path:
        con = next(c for n, c, _ in con.fields if n == name)
        if isinstance(con, KArray):
            con = con.element
    return Encoded(_build_alone(con, obj, f"(building {'.'.join(path)})"))


@lru_cache(maxsize=None)
def _array_at(message: Message, version: int, path: tuple[str, ...]) -> KArray:
    con: Construct = codec_for(message, version)
    for i, name in enumerate(path):
        if i:
            con = con.element
        con = next(c for n, c, _ in con.fields if n == name)
    if not isinstance(con, KArray):
        raise TypeError(f"{'.'.join(path)} of {message.name} v{version} is not an array")
    return con


def array_count(message: Message, version: int, path: tuple[str, ...], count: int) -> bytes:
    """The count prefix of the array at `path` (field names from the top, e.g. ("topics", "partitions"))
    holding `count` elements: with `array_items`, an array encoded in slices."""
    stream = io.BytesIO()
    _array_at(message, version, path).write_length(count, stream, Container(), "(building)")
    return stream.getvalue()


_ROW_MEMO_MAX = 4096  # distinct scalar arrays (replica lists) a row encoder keeps encoded


@lru_cache(maxsize=None)
def _row_encoder(message: Message, version: int, path: tuple[str, ...]):
    """A faster encoder for the elements of the array at `path` when each is a struct of one run of
    fixed-size scalars, then arrays of fixed-size scalars, and no tagged fields (a partition of
    Metadata or DescribeTopicPartitions), else None. It takes the rows as dicts holding every field (a
    handler's); the arrays' bytes come from the generic codec, once per distinct content."""
    element = _array_at(message, version, path).element
    if not isinstance(element, KStruct) or element.tagged or not element.fields:
        return None
    names, run, _ = element.fields[0]
    if names.__class__ is not tuple:
        return None
    arrays = element.fields[1:]
    if not arrays or not all(isinstance(c, KArray) and isinstance(c.element, FormatField) for _, c, _ in arrays):
        return None

    def getter(fields):
        return itemgetter(*fields) if len(fields) > 1 else (lambda row, field=fields[0]: (row[field],))

    get_run, get_arrays = getter(names), getter([name for name, _, _ in arrays])
    pack = run.struct.pack
    codecs = [c for _, c, _ in arrays]
    tail = b"" if element.tagged is None else b"\x00"  # an empty tagged-field block
    where = f"(building {'.'.join(path)})"
    memo: dict = {}  # the arrays' contents -> their bytes and the tail

    def encode_rows(rows: list) -> bytes:
        if len(memo) > _ROW_MEMO_MAX:
            memo.clear()
        out = []
        append = out.append
        for row in rows:
            append(pack(*get_run(row)))
            key = tuple(map(tuple, get_arrays(row)))
            data = memo.get(key)
            if data is None:
                data = memo[key] = b"".join(_build_alone(c, list(v), where) for c, v in zip(codecs, key)) + tail
            append(data)
        return b"".join(out)

    return encode_rows


def array_items(message: Message, version: int, path: tuple[str, ...], items: list) -> bytes:
    """The elements of the array at `path`, encoded one after another (no count prefix)."""
    fast = _row_encoder(message, version, path)
    if fast is not None:
        try:
            return fast(items)
        except (KeyError, TypeError, struct.error):  # a field missing, or a bad value: the generic way
            pass                                       # (which takes defaults, or raises ProtocolError)
    element = _array_at(message, version, path).element
    stream = io.BytesIO()
    context, where = Container(), f"(building {'.'.join(path)})"
    for item in items:
        element._build(item, stream, context, where)
    return stream.getvalue()


def encode_array(message: Message, version: int, path: tuple[str, ...], items: list) -> Encoded:
    """The whole (non-null) array at `path`, count included, encoded alone at `version`; `encode`
    writes it as it is where that array goes."""
    return Encoded(array_count(message, version, path, len(items)) + array_items(message, version, path, items))


def decode(message: Message, version: int, data: bytes, offset: int = 0, max_elements: int | None = None,
           views: bool = False) -> Container:
    """Decode one message body from `data[offset:]`; trailing bytes are ignored, as Kafka does.
    With max_elements, raises WorkLimit past that many array elements (the caller decodes elsewhere).
    With views and `data` immutable bytes, `records` fields of VIEW_FROM bytes or more are read-only
    memoryviews of it, not copies (the broker's request path); a mutable buffer could change under a
    view, so it is copied from.

    A message in FAST_APIS is decoded by its generated function (wire.fast_codec); on anything that
    function does not take (malformed bytes), the construct codec below decodes and says what is wrong."""
    fast = _FAST_DECODERS.get((message, version), _UNBUILT)
    if fast is _UNBUILT:
        fast = _fast(message, version, _FAST_DECODERS, "decoder")
    if fast is not None and offset >= 0:
        if data.__class__ is not bytes:
            data, views = bytes(data), False  # a mutable buffer: no views of it (as below)
        try:
            return fast(data, offset, _NO_LIMIT if max_elements is None else max_elements, views)
        except WorkLimit:
            raise
        except Exception:  # noqa: BLE001 - the construct codec decides, with its own error
            pass
    return construct_decode(message, version, data, offset, max_elements, views)


def construct_decode(message: Message, version: int, data: bytes, offset: int = 0, max_elements: int | None = None,
                     views: bool = False) -> Container:
    """`decode` by the construct codec alone (what the generated decoders are tested against)."""
    codec = codec_for(message, version)
    stream = _Input(data)
    stream.total = len(data)
    stream.seek(offset)
    if views and type(data) is bytes:
        stream.source = data
    if max_elements is not None:
        stream.elements_left = max_elements
    try:
        return codec._parsereport(stream, Container(), "(parsing)")
    except (ProtocolError, WorkLimit):
        raise
    except (ConstructError, ValueError, OverflowError, MemoryError) as exc:
        raise ProtocolError(f"{message.name} v{version}: {exc}") from exc


def encode(message: Message, version: int, obj: dict, max_elements: int | None = None,
           gather: bool = False) -> bytes | Parts:
    """Encode one message body. With max_elements, raises WorkLimit past that many array elements.
    gather=True: a body with big bytes values (a Fetch's records) comes as Parts, those values in it
    as they are (never copied into one buffer: a transport's writelines sends the pieces).

    A message in FAST_APIS is encoded by its generated function (wire.fast_codec); on anything that
    function does not take (a value of a wrong type), the construct codec below encodes or raises."""
    fast = _FAST_ENCODERS.get((message, version), _UNBUILT)
    if fast is _UNBUILT:
        fast = _fast(message, version, _FAST_ENCODERS, "encoder")
    if fast is not None:
        holes = [] if gather else None
        try:
            out = fast(obj, _NO_LIMIT if max_elements is None else max_elements, holes)
            return _gathered(out, holes) if holes else b"".join(out)
        except WorkLimit:
            raise
        except Exception:  # noqa: BLE001 - the construct codec decides, with its own error
            pass
    return construct_encode(message, version, obj, max_elements, gather)


def construct_encode(message: Message, version: int, obj: dict, max_elements: int | None = None,
                     gather: bool = False) -> bytes | Parts:
    """`encode` by the construct codec alone (what the generated encoders are tested against)."""
    stream = _Output()
    if max_elements is not None:
        stream.elements_left = max_elements
    if gather:
        stream.holes = []
    codec_for(message, version)._build(obj, stream, Container(), "(building)")
    data = stream.getvalue()
    if not stream.holes:
        return data
    pieces, done, left_out = [], 0, 0
    for at, value in stream.holes:
        if at > done:
            pieces.append(data[done:at])
            done = at
        pieces.append(value)
        left_out += len(value)
    if done < len(data):
        pieces.append(data[done:])
    return Parts(pieces) if left_out >= GATHER_TOTAL_MIN_BYTES else b"".join(pieces)



# Generated codecs (wire.fast_codec): which messages use them is decided here, for every caller.
# Produce, Fetch: one small request each per partition from librdkafka; OffsetCommit, OffsetFetch and Heartbeat:
# what every consumer of a group sends again and again (a commit of 100 partitions: ~0.4 ms of construct).
# Not ApiVersions or Metadata: start-up to the first Metadata would pay 1-2 ms a function to build them.
FAST_APIS = frozenset({0, 1, 8, 9, 12})
_FAST_ON = os.environ.get("OTTLA_CODEC", "generated") != "construct"  # OTTLA_CODEC=construct: A/B, debugging
_NO_LIMIT = 1 << 62
_UNBUILT = object()
_FAST_CACHE_MAX = 4096
_FAST_DECODERS: dict = {}  # (message, version) -> generated function, or None (construct only)
_FAST_ENCODERS: dict = {}


def _fast(message: Message, version: int, cache: dict, kind: str):
    """The generated decoder/encoder of (message, version), built and kept at first use; None for a
    message outside FAST_APIS or a version it does not have (construct's codec_for refuses those)."""
    function = None
    if _FAST_ON and message.api_key in FAST_APIS and message.decodable(version):
        from wire import fast_codec

        function = getattr(fast_codec, kind)(message, version)
    if len(cache) < _FAST_CACHE_MAX:  # (message, version) pairs are bounded by the declarations; this bound by
        cache[(message, version)] = function  # a caller's own Message objects (tests)
    return function


def _gathered(out: list, holes: list) -> bytes | Parts:
    """encode(gather=True)'s pieces from a generated encoder's: the runs between left-out values joined."""
    pieces, start, left_out = [], 0, 0
    for at in holes:
        if at > start:
            run = b"".join(out[start:at])
            if run:
                pieces.append(run)
        value = out[at]
        pieces.append(value)
        left_out += len(value)
        start = at + 1
    if start < len(out):
        run = b"".join(out[start:])
        if run:
            pieces.append(run)
    return Parts(pieces) if left_out >= GATHER_TOTAL_MIN_BYTES else b"".join(pieces)

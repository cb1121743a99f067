"""Generated codecs: straight-line Python per (message, version), built at first use from the declarations.

`wire.codec` builds a construct tree per (message, version) from `wire.schema` declarations; this
module reads the SAME declarations, lays them out the same way (`struct_for`'s rules: consecutive
fixed-size scalars in one `struct` run, tagged fields in tag order in flexible versions) and writes
Python source for one decode and one encode function: precompiled `struct.Struct`s, `unpack_from`
with offsets, local variables, loops inlined for arrays of structs. The source is exec'd once and
cached per (message, version) by `wire.codec` (nothing is generated at import).

The contract (tests/wire/test_fast_codec.py): on the inputs where a generated function returns, it
returns what the construct codec returns (equal Containers in the same key order, the same bytes, the
same Parts); where the input is anything else (malformed bytes, a value of a wrong type, a string too
long for its prefix) it raises, and `wire.codec` then runs the construct codec, whose error (or
answer) is the one the caller sees. `WorkLimit` is raised at the same element count as construct's.
"""

from __future__ import annotations

import struct
from itertools import count as _counter

from construct import Container

from wire.codec import (
    _FIXED_FORMATS,
    GATHER_MIN_BYTES,
    VIEW_FROM,
    Encoded,
    Parts,
    WorkLimit,
    field_groups,
    run_struct,
    uvarint_bytes,
    wrapped,
)
from wire.schema import Field, Message


class Fallback(Exception):
    """The generated code met input it does not take: the construct codec decides (and says why)."""


# --- the layout: wire.codec.struct_for's rules, as data --------------------------------------------

class _Scalar:  # a fixed-size scalar outside a run: an array element or a tagged field
    def __init__(self, kind: str) -> None:
        self.kind, self.fmt = kind, _FIXED_FORMATS[kind]


class _Str:
    def __init__(self, kind: str, compact: bool, nullable: bool) -> None:
        self.kind, self.compact, self.nullable = kind, compact, nullable  # kind: string, bytes, records


class _Array:
    def __init__(self, element, compact: bool, nullable: bool) -> None:
        self.element, self.compact, self.nullable = element, compact, nullable


class _Nullable:  # a single nullable struct: an int8 presence marker, then the struct
    def __init__(self, struct_) -> None:
        self.struct = struct_


class _Struct:
    """plain: ("run", names, Struct, defaults) or ("one", name, codec, default), in order;
    tagged: [(tag, name, codec, default)] in tag order, or None when not flexible."""

    def __init__(self, plain: list, tagged: list | None) -> None:
        self.plain, self.tagged = plain, tagged


def _element(field: Field, version: int, flexible: bool):
    nullable = version in field.nullable
    kind = field.element_type
    if field.is_struct:
        return layout(field.fields, version, flexible)
    if kind in ("string", "records", "bytes"):
        return _Str(kind, flexible, nullable and not field.is_array)
    return _Scalar(kind)


def _field_codec(field: Field, version: int, flexible: bool):
    return wrapped(field, version, flexible, _element(field, version, flexible), _Array, _Nullable)


def layout(fields, version: int, flexible: bool) -> _Struct:
    """A struct at a version laid out by wire.codec's rules (the construct tree's layout)."""
    plain, tagged = field_groups(fields, version, flexible)
    items = []
    for item in plain:
        if item.__class__ is list:  # a run of fixed-size scalars
            items.append(("run", tuple(f.name for f in item), run_struct(item), tuple(f.default for f in item)))
        else:
            items.append(("one", item.name, _field_codec(item, version, flexible), item.default))
    return _Struct(items, [(f.tag, f.name, _field_codec(f, version, flexible), f.default) for f in tagged]
                   if flexible else None)


# --- helpers the generated code calls (the rare paths) ---------------------------------------------

def _uvarint(data, pos: int):
    """wire.codec.read_uvarint over bytes at pos: (value, next pos); raises past 5 bytes or the end."""
    result = 0
    for shift in (0, 7, 14, 21, 28):
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
    raise Fallback("varint longer than 5 bytes")


def _read_tags(data, pos: int, obj, known: dict) -> int:
    """A tagged-field block that is not the empty one: known tags decoded by their sub-decoder."""
    end = len(data)
    count, pos = _uvarint(data, pos)
    if count > end - pos:
        raise Fallback("tagged field count")
    unknown = []
    for _ in range(count):
        tag, pos = _uvarint(data, pos)
        size, pos = _uvarint(data, pos)
        if size > end - pos:
            raise Fallback("tagged field size")
        chunk = data[pos:pos + size]
        pos += size
        entry = known.get(tag)
        if entry is None:
            unknown.append((tag, chunk))
        else:
            obj[entry[0]] = entry[1](chunk)
    if unknown:
        obj["_unknown_tags"] = unknown
    return pos


def _write_tags(entries: tuple, unknown) -> bytes:
    """A tagged-field block with something in it: (tag, value, default, sub-encoder) per known field."""
    built = [(tag, encode_value(value)) for tag, value, default, encode_value in entries if value != default]
    built.extend(unknown or ())
    if not built:
        return b"\x00"
    built.sort(key=lambda entry: entry[0])
    out = bytearray(uvarint_bytes(len(built)))
    for tag, data in built:
        out += uvarint_bytes(tag) + uvarint_bytes(len(data)) + data
    return bytes(out)


def _pack_array(fmt: str, values) -> bytes:
    return struct.pack(">%d%s" % (len(values), fmt), *values)


def _uuids(data, pos: int, n: int) -> list:
    return [data[p:p + 16] for p in range(pos, pos + 16 * n, 16)]


def _bytes_parts(parts: list) -> list:
    for part in parts:
        if not isinstance(part, bytes):
            raise Fallback("a part that is not bytes")
    return parts


def _check_uuid(value) -> bytes:
    if value.__class__ is not bytes or len(value) != 16:  # construct's Bytes(16) takes more (ints): it decides
        raise Fallback("uuid")
    return value


_SMALL_UVARINTS = tuple(bytes((i,)) for i in range(128))
_NULL_CLASSIC = {False: b"\xff\xff", True: b"\xff\xff\xff\xff"}  # int16 / int32 -1
_EMPTY_GET = {}.get


# --- the generator ---------------------------------------------------------------------------------

class _Source:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 1
        self.names = _counter()
        self.env: dict = {"Container": Container, "Encoded": Encoded, "Parts": Parts, "WorkLimit": WorkLimit,
                          "Fallback": Fallback, "VIEW_FROM": VIEW_FROM, "GATHER_MIN_BYTES": GATHER_MIN_BYTES,
                          "_uvarint": _uvarint, "_read_tags": _read_tags, "_write_tags": _write_tags,
                          "_pack_array": _pack_array, "_uuids": _uuids, "_check_uuid": _check_uuid,
                          "_bytes_parts": _bytes_parts, "_UV": _SMALL_UVARINTS, "uvarint_bytes": uvarint_bytes,
                          "_EMPTY_GET": _EMPTY_GET, "memoryview": memoryview, "struct": struct}

    def __call__(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def var(self, stem: str) -> str:
        return f"{stem}{next(self.names)}"

    def const(self, value, stem: str = "K") -> str:
        if value is None or value.__class__ in (int, bool) or (value.__class__ in (str, bytes) and len(value) < 64):
            return repr(value)
        name = self.var(f"_{stem}")
        self.env[name] = value
        return name

    def block(self):
        source = self

        class _Block:
            def __enter__(self):
                source.depth += 1

            def __exit__(self, *exc):
                source.depth -= 1

        return _Block()

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


# decode: code that reads `data` from `pos` (bounded by `end`) and leaves the value in `target`

def _dec_length(s: _Source, compact: bool, wide: bool, n: str) -> None:
    if compact:
        s(f"{n} = data[pos]")
        s("pos += 1")
        s(f"if {n} > 127:")
        with s.block():
            s(f"{n}, pos = _uvarint(data, pos - 1)")
        s(f"{n} -= 1")
    else:
        fmt = s.const(struct.Struct(">i" if wide else ">h"), "L")
        s(f"{n}, = {fmt}.unpack_from(data, pos)")
        s(f"pos += {4 if wide else 2}")


def _dec_null_or(s: _Source, n: str, nullable: bool, target: str) -> None:
    """After a length: null (-1, when allowed) or an error; leaves an `else:` block open to the caller."""
    s(f"if {n} < 0:")
    with s.block():
        if nullable:
            s(f"if {n} != -1:")
            with s.block():
                s("raise Fallback")
            s(f"{target} = None")
        else:
            s("raise Fallback")
    s(f"elif {n} > end - pos:")
    with s.block():
        s("raise Fallback")


def _count(s: _Source, n: str, where: str) -> None:
    """An array's elements counted against `left` as wire.codec's KArray counts them (WorkLimit's text too)."""
    s(f"left -= {n}")
    s("if left < 0:")
    with s.block():
        s(f"raise WorkLimit('more array elements than allowed at {where}')")


def _dec_value(s: _Source, codec, target: str, counted: bool) -> None:
    if isinstance(codec, _Struct):
        _dec_struct(s, codec, target, counted)
    elif isinstance(codec, _Nullable):
        s("if data[pos] > 127:")  # int8 marker < 0: null (data[pos] raises past the end, as construct)
        with s.block():
            s("pos += 1")
            s(f"{target} = None")
        s("else:")
        with s.block():
            s("pos += 1")
            _dec_struct(s, codec.struct, target, counted)
    elif isinstance(codec, _Str):
        n = s.var("n")
        _dec_length(s, codec.compact, codec.kind != "string", n)
        _dec_null_or(s, n, codec.nullable, target)
        s("else:")
        with s.block():
            if codec.kind == "string":
                s(f"{target} = data[pos:pos + {n}].decode()")
            elif codec.kind == "records" and counted:  # counted: the request's own bytes (not a tag's copy)
                s(f"if views and {n} >= VIEW_FROM:")
                with s.block():
                    s(f"{target} = memoryview(data)[pos:pos + {n}]")
                s("else:")
                with s.block():
                    s(f"{target} = data[pos:pos + {n}]")
            else:
                s(f"{target} = data[pos:pos + {n}]")
            s(f"pos += {n}")
    elif isinstance(codec, _Array):
        n = s.var("n")
        _dec_length(s, codec.compact, True, n)
        _dec_null_or(s, n, codec.nullable, target)
        s("else:")
        with s.block():
            if counted:
                _count(s, n, "(parsing)")
            element = codec.element
            if isinstance(element, _Scalar) and element.kind == "uuid":
                s(f"if pos + 16 * {n} > end:")
                with s.block():
                    s("raise Fallback")
                s(f"{target} = _uuids(data, pos, {n})")
                s(f"pos += 16 * {n}")
            elif isinstance(element, _Scalar):
                size = struct.calcsize(">" + element.fmt)
                s(f"{target} = list(struct.unpack_from('>%d{element.fmt}' % {n}, data, pos))")
                s(f"pos += {size} * {n}")
            else:
                item, append = s.var("e"), s.var("add")
                s(f"{target} = []")
                s(f"{append} = {target}.append")
                s(f"for _ in range({n}):")
                with s.block():
                    _dec_value(s, element, item, counted)
                    s(f"{append}({item})")
    elif isinstance(codec, _Scalar):  # a tagged scalar
        if codec.kind == "uuid":
            s("if pos + 16 > end:")
            with s.block():
                s("raise Fallback")
            s(f"{target} = data[pos:pos + 16]")
            s("pos += 16")
        else:
            fmt = s.const(struct.Struct(">" + codec.fmt), "S")
            s(f"{target}, = {fmt}.unpack_from(data, pos)")
            s(f"pos += {fmt}.size")
    else:
        raise TypeError(codec)


def _dec_struct(s: _Source, codec: _Struct, target: str, counted: bool) -> None:
    s(f"{target} = Container()")
    for item in codec.plain:
        if item[0] == "run":
            _, names, run, _ = item
            fmt = s.const(run, "S")
            values = [s.var("v") for _ in names]
            s(f"{', '.join(values)}, = {fmt}.unpack_from(data, pos)")
            s(f"pos += {run.size}")
            for name, value in zip(names, values):
                s(f"{target}[{name!r}] = {value}")
        else:
            _, name, sub, _ = item
            value = s.var("v")
            _dec_value(s, sub, value, counted)
            s(f"{target}[{name!r}] = {value}")
    if codec.tagged is not None:
        known = {}
        for tag, name, sub, default in codec.tagged:
            s(f"{target}[{name!r}] = {s.const(default, 'D')}")
            known[tag] = (name, _sub_decoder(sub))
        s("if data[pos] == 0:")
        with s.block():
            s("pos += 1")
        s("else:")
        with s.block():
            s(f"pos = _read_tags(data, pos, {target}, {s.const(known, 'T')})")


def _sub_decoder(codec):
    """A tagged field's value from its own bytes: no element count, no views (wire.codec._parse_within)."""
    return _function("decode_tag(data)", "a tagged field", ["end = len(data)", "pos = 0"],
                     lambda s: _dec_value(s, codec, "value", False), "value")


# encode: code that appends `value`'s bytes to `out` (holes: indexes of pieces left as they are)

def _enc_length(s: _Source, compact: bool, wide: bool, n: str) -> None:
    if compact:
        s(f"add(_UV[{n} + 1] if {n} < 127 else uvarint_bytes({n} + 1))")
    else:
        fmt = s.const(struct.Struct(">i" if wide else ">h"), "L")
        s(f"add({fmt}.pack({n}))")


def _enc_null(s: _Source, compact: bool, wide: bool, nullable: bool) -> None:
    if nullable:
        null = b"\x00" if compact else _NULL_CLASSIC[wide]
        s(f"add({null!r})")
    else:
        s("raise Fallback")


def _enc_value(s: _Source, codec, value: str, counted: bool) -> None:
    if isinstance(codec, _Struct):
        _enc_struct(s, codec, value, counted)
    elif isinstance(codec, _Nullable):
        s(f"if {value} is None:")
        with s.block():
            s("add(b'\\xff')")
        s("else:")
        with s.block():
            s("add(b'\\x01')")
            _enc_struct(s, codec.struct, value, counted)
    elif isinstance(codec, _Str):
        wide = codec.kind != "string"
        n = s.var("n")
        s(f"if {value} is None:")
        with s.block():
            _enc_null(s, codec.compact, wide, codec.nullable)
        if codec.kind == "string":
            s("else:")
            with s.block():
                s(f"{value} = {value}.encode()")
                s(f"{n} = len({value})")
                _enc_length(s, codec.compact, False, n)
                s(f"add({value})")
            return
        s(f"elif {value}.__class__ is Parts:")
        with s.block():
            _enc_length(s, codec.compact, True, f"{value}.size")
            if counted:  # the message's own output: big values are left out as pieces (encode(gather=True))
                s("if holes is not None:")
                with s.block():
                    s(f"for part in {value}.parts:")
                    with s.block():
                        s("holes.append(len(out))")
                        s("add(part)")
                s("else:")
                with s.block():
                    s(f"out.extend(_bytes_parts({value}.parts))")
            else:
                s(f"out.extend(_bytes_parts({value}.parts))")
        s("else:")
        with s.block():
            s(f"{n} = len({value})")
            _enc_length(s, codec.compact, True, n)
            if counted:
                s(f"if holes is not None and {n} >= GATHER_MIN_BYTES:")
                with s.block():
                    s("holes.append(len(out))")
                s(f"elif not isinstance({value}, bytes):")
            else:
                s(f"if not isinstance({value}, bytes):")
            with s.block():
                s("raise Fallback")  # construct writes bytes only (a left-out piece is taken as it is)
            s(f"add({value})")
    elif isinstance(codec, _Array):
        n = s.var("n")
        s(f"if {value}.__class__ is Encoded:")
        with s.block():
            s(f"add({value})")
        s(f"elif {value} is None:")
        with s.block():
            _enc_null(s, codec.compact, True, codec.nullable)
        s("else:")
        with s.block():
            s(f"{n} = len({value})")
            _enc_length(s, codec.compact, True, n)
            if counted:
                _count(s, n, "(building)")
            element = codec.element
            if isinstance(element, _Scalar) and element.kind == "uuid":
                item = s.var("e")
                s(f"for {item} in {value}:")
                with s.block():
                    s(f"add(_check_uuid({item}))")
            elif isinstance(element, _Scalar):
                s(f"add(_pack_array({element.fmt!r}, {value}))")
            else:
                item = s.var("e")
                s(f"for {item} in {value}:")
                with s.block():
                    _enc_value(s, element, item, counted)
    elif isinstance(codec, _Scalar):  # a tagged scalar
        if codec.kind == "uuid":
            s(f"add(_check_uuid({value}))")
        else:
            s(f"add({s.const(struct.Struct('>' + codec.fmt), 'S')}.pack({value}))")
    else:
        raise TypeError(codec)


def _enc_struct(s: _Source, codec: _Struct, value: str, counted: bool) -> None:
    s(f"if {value}.__class__ is Encoded:")
    with s.block():
        s(f"add({value})")
    s("else:")
    with s.block():
        get = s.var("get")
        s(f"{get} = {value}.get if {value} is not None else _EMPTY_GET")
        for item in codec.plain:
            if item[0] == "run":
                _, names, run, defaults = item
                args = ", ".join(f"{get}({name!r}, {s.const(d, 'D')})" for name, d in zip(names, defaults))
                s(f"add({s.const(run, 'S')}.pack({args}))")
            else:
                _, name, sub, default = item
                field = s.var("f")
                s(f"{field} = {get}({name!r}, {s.const(default, 'D')})")
                _enc_value(s, sub, field, counted)
        if codec.tagged is not None:
            entries, tests = [], []
            for tag, name, sub, default in codec.tagged:
                field, d = s.var("t"), s.const(default, "D")
                s(f"{field} = {get}({name!r}, {d})")
                tests.append(f"{field} != {d}")
                entries.append(f"({tag}, {field}, {d}, {s.const(_sub_encoder(sub), 'E')})")
            unknown = s.var("u")
            s(f"{unknown} = {get}('_unknown_tags')")
            tests.append(unknown)
            s(f"if {' or '.join(tests)}:")
            with s.block():
                s(f"add(_write_tags(({''.join(e + ', ' for e in entries)}), {unknown}))")
            s("else:")
            with s.block():
                s("add(b'\\x00')")


def _sub_encoder(codec):
    """A tagged field's value alone: no element count, no pieces left out (wire.codec._build_alone)."""
    return _function("encode_tag(value)", "a tagged field", ["out = []", "add = out.append"],
                     lambda s: _enc_value(s, codec, "value", False), "b''.join(out)")


def _function(signature: str, what: str, prologue: list[str], body, result: str):
    """Compiles `def <signature>: <prologue> <body(source)> return <result>` and returns the function
    (its text in `.source`)."""
    s = _Source()
    s.lines.append(f"def {signature}:")
    for line in prologue:
        s(line)
    body(s)
    s(f"return {result}")
    name = signature.split("(")[0]
    exec(compile(s.text(), f"<wire.fast_codec {name} {what}>", "exec"), s.env)
    function = s.env[name]
    function.source = s.text()
    return function


def decoder(message: Message, version: int):
    """`decode(data: bytes, pos, left, views) -> Container`; `left`: array elements it may read."""
    codec = layout(message.fields, version, message.is_flexible(version))
    return _function("decode(data, pos, left, views)", f"{message.name} v{version}", ["end = len(data)"],
                     lambda s: _dec_struct(s, codec, "o", True), "o")


def encoder(message: Message, version: int):
    """`encode(obj, left, holes) -> list of pieces`; `holes`: None, or a list that gets the indexes of
    the pieces left out of the join (encode(gather=True))."""
    codec = layout(message.fields, version, message.is_flexible(version))
    return _function("encode(obj, left, holes)", f"{message.name} v{version}", ["out = []", "add = out.append"],
                     lambda s: _enc_struct(s, codec, "obj", True), "out")

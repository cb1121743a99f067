"""The methods @dataclass and namedtuple write as source text, compiled once and kept beside the bytecode.

`dataclasses` writes each class's `__init__`, `__repr__`, `__eq__` (and `__hash__`, `__setattr__`, `__delattr__`
for a frozen one) as text and exec's it; `collections.namedtuple` eval's its `__new__`. Compiling that text was
most of what a class costs: 12 ms of `ottla serve`'s ~90 ms of import CPU (116 functions of 26 dataclasses; 1.3 ms
for 29 named tuples), paid at every start, as nothing keeps it the way .pyc files keep the modules' own code.

`install()` (gateway.cli.main, before the broker's modules are imported) gives those two modules an `exec` and an
`eval`, and typing a `compile` for the string annotations of NamedTuple fields (module globals, found by their own
calls before the builtins), that run the code object compiled earlier
from the same text when `__pycache__/generated-code.<cache tag>.bin` has it, and compile it otherwise. The code is
what the builtins would run: compiled from the same text, with the same filename ("<string>") and flags (none
inherited: none of the three has a `__future__` import), executed with the same globals and locals; so each class
and function is the same with or without the file (tests/gateway/test_generated_code.py). A text is found by its
CRC-32 and then compared in full, so a collision only costs a compile.

`finish()` (the server, once its listeners are bound) ends it: when this start compiled a text the file lacked,
the file is rewritten with the entries this start used and the new ones (entries of since-changed classes do not
pile up), into a temporary file then renamed (a concurrent start reads the old file or the new); a __pycache__ that
cannot be written is left as it is, and so is the file when Python writes no bytecode (PYTHONDONTWRITEBYTECODE, -B:
scripts/bench_startup.py's untimed first start writes both). Then the builtins are back and the file's bytes are let go: classes made later
(a handler's on its first request) are compiled as without it. A file of another Python or -O level, or one that
does not parse, is ignored.
"""

from __future__ import annotations

import binascii
import builtins
import collections
import dataclasses
import marshal
import os
import sys
import typing
from importlib.util import MAGIC_NUMBER
from types import CodeType

MAX_ENTRIES = 4096  # the code base's dataclasses and named tuples have ~1,000 generated functions
PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__",
                    f"generated-code.{sys.implementation.cache_tag}.bin")
_HEADER = MAGIC_NUMBER + bytes((sys.flags.optimize,))

# The file: _HEADER, the index's length (4 bytes), the index (marshal: a list of (crc32 of the text, mode, text
# length, code length)), then each entry's text (UTF-8) and its code object (marshal), in the index's order. It is
# read as one bytes object and looked into in place: the broker holds no object per entry while it starts (holding
# one each left 0.2 MiB of freed heap behind).
_data = memoryview(b"")
_index: dict[int, list[tuple[str, int, int, int]]] = {}  # crc32 -> (mode, text start, text end = code start, end)
_used: dict[int, tuple[str, int, int, int]] = {}  # text start -> an entry this start took (kept by a rewrite)
_new: list[tuple[str, bytes, bytes]] = []  # (mode, text, code) compiled this start: the file is rewritten
_installed = False
counts = {"taken": 0, "compiled": 0}  # this start's texts found in the file / compiled (tests, the bench)


def _code(source: str, mode: str):
    text = source.encode()
    for entry in _index.get(binascii.crc32(text), ()):
        entry_mode, start, middle, end = entry
        if entry_mode == mode and _data[start:middle] == text:
            try:
                code = marshal.loads(_data[middle:end])
            except (ValueError, EOFError, TypeError):
                break
            if isinstance(code, CodeType):
                _used[start] = entry
                counts["taken"] += 1
                return code
            break
    code = compile(source, "<string>", mode, dont_inherit=True)
    counts["compiled"] += 1
    if _installed and len(_new) < MAX_ENTRIES:
        _new.append((mode, text, marshal.dumps(code)))
    return code


def _scopes(globals, locals):
    """exec's and eval's rule for omitted namespaces: the caller's (the caller of exec/eval, two frames up)."""
    if globals is None:
        caller = sys._getframe(2)
        return caller.f_globals, caller.f_locals if locals is None else locals
    return globals, locals


def cached_exec(source, globals=None, locals=None, /):
    globals, locals = _scopes(globals, locals)
    return builtins.exec(_code(source, "exec") if isinstance(source, str) else source, globals, locals)


def cached_eval(source, globals=None, locals=None, /):
    globals, locals = _scopes(globals, locals)
    return builtins.eval(_code(source, "eval") if isinstance(source, str) else source, globals, locals)


def cached_compile(source, filename, mode, flags=0, dont_inherit=False, optimize=-1):
    """typing's compile of a string annotation (ForwardRef: 119 at start-up); typing.py has no __future__ import,
    so what it inherits is nothing, as here."""
    if isinstance(source, str) and filename == "<string>" and mode == "eval" and not flags and optimize == -1:
        return _code(source, "eval")
    return builtins.compile(source, filename, mode, flags, True, optimize)


def _read(path: str) -> tuple[memoryview, dict]:
    """The file's bytes and its index; (empty, {}) for a missing, foreign (other Python or -O level) or bad file."""
    try:
        with open(path, "rb") as file:
            data = memoryview(file.read())
        at = len(_HEADER) + 4
        size = int.from_bytes(data[at - 4:at], "big")
        listed = marshal.loads(data[at:at + size]) if data[:len(_HEADER)] == _HEADER else []
        index: dict[int, list] = {}
        at += size
        for crc, mode, text_size, code_size in listed:
            if mode not in ("exec", "eval") or min(text_size, code_size) < 0:
                return memoryview(b""), {}
            index.setdefault(crc, []).append((mode, at, at + text_size, at + text_size + code_size))
            at += text_size + code_size
        if at > len(data):
            return memoryview(b""), {}
    except (OSError, ValueError, EOFError, TypeError):
        return memoryview(b""), {}
    return data, index


def install(path: str | None = None) -> None:
    """Read the file and route dataclasses' exec and namedtuple's eval through it (once per process)."""
    global _installed, _data, _index
    if _installed:
        return
    _installed = True
    _data, _index = _read(path or PATH)
    dataclasses.exec = cached_exec
    collections.eval = cached_eval
    typing.compile = cached_compile


def finish(path: str | None = None) -> bool:
    """Start-up is over: rewrite the file if this start compiled texts it did not have (True when written): the
    entries this start used and the new ones (so entries of classes since changed do not pile up); then let go of
    it and give dataclasses and collections back the builtins (what is made later compiles as without it)."""
    global _installed, _data, _index
    if not _installed:
        return False
    written = False
    if _new and not sys.dont_write_bytecode:  # PYTHONDONTWRITEBYTECODE / -B: no .pyc, and no file of this either
        kept = [(mode, bytes(_data[start:middle]), bytes(_data[middle:end])) for mode, start, middle, end in _used.values()]
        written = _write(path or PATH, (kept + _new)[:MAX_ENTRIES])
    _installed = False
    _data, _index = memoryview(b""), {}
    _used.clear()
    _new.clear()
    for module, name in ((dataclasses, "exec"), (collections, "eval"), (typing, "compile")):
        if module.__dict__.get(name) in (cached_exec, cached_eval, cached_compile):
            delattr(module, name)
    return written


def _write(path: str, entries: list[tuple[str, bytes, bytes]]) -> bool:
    index = marshal.dumps([(binascii.crc32(text), mode, len(text), len(code)) for mode, text, code in entries])
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as file:
            file.write(b"".join([_HEADER, len(index).to_bytes(4, "big"), index,
                                 *(part for _, text, code in entries for part in (text, code))]))
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False
    return True

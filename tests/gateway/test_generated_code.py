"""gateway.generated_code: dataclasses and named tuples made with the file are the same as without it (the same
code, annotations, defaults and behaviour); a second start takes every text from the file and compiles none; a
bad or foreign file is ignored; a rewrite keeps only what was used; finish() gives the builtins back. And the real
`ottla serve` (gateway.cli.main) writes the file at its first start and compiles nothing at its second."""

from __future__ import annotations

import collections
import dataclasses
import os
import subprocess
import sys
import types
import typing

import pytest

from gateway import generated_code

# the class bodies' annotations are strings here (the __future__ import); the generated __init__'s are not
SOURCE = '''
from __future__ import annotations
import dataclasses, typing

@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: int = 0
    tags: tuple = ()

@dataclasses.dataclass(order=True)
class Row:
    name: str
    items: list = dataclasses.field(default_factory=list)

class Pair(typing.NamedTuple):
    left: int
    right: str = "r"
'''
OTHER = '''
import dataclasses

@dataclasses.dataclass
class Other:
    a: int
    b: str = "b"
'''
_serial = iter(range(10**6))


@pytest.fixture
def table(tmp_path):
    generated_code.finish()  # not installed in the test process: nothing to do
    yield str(tmp_path / "generated-code.bin")
    generated_code.finish()
    assert "exec" not in vars(dataclasses) and "eval" not in vars(collections) and "compile" not in vars(typing)


def _module(source: str) -> types.ModuleType:
    module = types.ModuleType(f"ottla_generated_{next(_serial)}")
    sys.modules[module.__name__] = module  # dataclasses reads the module's globals
    exec(compile(source, f"<{module.__name__}>", "exec", dont_inherit=True), vars(module))
    return module


@pytest.fixture(autouse=True)
def bytecode_written(monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # as without PYTHONDONTWRITEBYTECODE (set in CI)


def _start(path: str, source: str = SOURCE) -> tuple[types.ModuleType, dict, bool]:
    generated_code.counts.update(taken=0, compiled=0)
    generated_code.install(path)
    module = _module(source)
    counts = dict(generated_code.counts)
    return module, counts, generated_code.finish(path)


def _functions(cls) -> dict:
    return {name: value for name, value in vars(cls).items() if isinstance(value, (types.FunctionType, staticmethod))}


def _same_functions(made, reference) -> None:
    got, expected, generated = _functions(made), _functions(reference), 0
    assert got.keys() == expected.keys() and got
    for name, function in expected.items():
        function = getattr(function, "__func__", function)
        other = getattr(got[name], "__func__", got[name])
        assert other.__code__ == function.__code__, name
        if hasattr(function, "__wrapped__"):  # __repr__: dataclasses' recursion guard around the generated one
            assert other.__wrapped__.__code__ == function.__wrapped__.__code__, name
            other, function = other.__wrapped__, function.__wrapped__
        assert other.__code__.co_filename == function.__code__.co_filename, name
        generated += function.__code__.co_filename == "<string>"  # the others are dataclasses' or collections' own
        assert other.__annotations__ == function.__annotations__, name
        assert (other.__defaults__, other.__kwdefaults__, other.__qualname__) == (
            function.__defaults__, function.__kwdefaults__, function.__qualname__.replace(
                function.__module__, other.__module__))
    assert generated >= 1


def _behaves(module) -> None:
    point = module.Point(1, tags=("a",))
    assert repr(point) == "Point(x=1, y=0, tags=('a',))" and point == module.Point(1, 0, ("a",))
    assert hash(point) == hash(module.Point(1, 0, ("a",)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 2
    assert module.Point.__init__.__annotations__ == {"x": "int", "y": "int", "tags": "tuple", "return": None}
    first, second = module.Row("a"), module.Row("b", [1])
    assert first < second and first.items == [] and module.Row("c").items is not first.items
    assert module.Pair(1) == (1, "r") and module.Pair(right="x", left=2).right == "x"
    assert [f.name for f in dataclasses.fields(module.Row)] == ["name", "items"]


def test_classes_made_with_the_file_are_the_classes_made_without_it(table):
    reference = _module(SOURCE)  # the builtins' exec and eval
    compiled, counts, written = _start(table)  # no file yet: compiled, then written
    assert counts["taken"] == 0 and counts["compiled"] >= 10 and written is True
    taken, again, rewritten = _start(table)  # every text from the file
    assert again == {"taken": counts["compiled"], "compiled": 0} and rewritten is False
    for module in (reference, compiled, taken):
        _behaves(module)
    for name in ("Point", "Row", "Pair"):
        _same_functions(getattr(compiled, name), getattr(reference, name))
        _same_functions(getattr(taken, name), getattr(reference, name))
    for module in (compiled, taken):  # NamedTuple's string annotations: typing's ForwardRefs, compiled the same
        refs, expected = module.Pair.__annotations__, reference.Pair.__annotations__
        assert [ref.__forward_arg__ for ref in refs.values()] == ["int", "str"]
        assert [ref.__forward_code__ for ref in refs.values()] == [ref.__forward_code__ for ref in expected.values()]
        assert typing.get_type_hints(module.Pair) == {"left": int, "right": str}


def test_finish_gives_back_the_builtins_and_what_is_made_after_compiles_as_before(table):
    generated_code.install(table)
    assert vars(dataclasses)["exec"] is generated_code.cached_exec
    assert vars(collections)["eval"] is generated_code.cached_eval
    generated_code.finish(table)
    assert "exec" not in vars(dataclasses) and "eval" not in vars(collections) and "compile" not in vars(typing)
    before = dict(generated_code.counts)
    _behaves(_module(SOURCE))
    assert generated_code.counts == before


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other python", "empty"])
def test_a_bad_or_foreign_file_is_ignored_and_rewritten(table, damage):
    _start(table)
    with open(table, "rb") as file:
        data = file.read()
    data = {"garbage": b"\x00not a table" * 50, "truncated": data[:len(data) // 2],
            "other python": b"\xff\xff" + data[2:], "empty": b""}[damage]
    with open(table, "wb") as file:
        file.write(data)
    module, counts, written = _start(table)
    _behaves(module)
    assert counts["taken"] == 0 and counts["compiled"] >= 10 and written is True
    assert _start(table)[1] == {"taken": counts["compiled"], "compiled": 0}


def test_a_rewrite_keeps_the_entries_used_and_drops_the_others(table):
    first = _start(table)[1]["compiled"]
    _, counts, written = _start(table, OTHER)  # SOURCE's classes not made this time
    assert counts["taken"] == 0 and written is True
    _, counts, written = _start(table, OTHER)
    assert counts == {"taken": counts["taken"], "compiled": 0} and counts["taken"] >= 3 and written is False
    _, counts, _ = _start(table)  # SOURCE's entries were dropped by the rewrite
    assert counts["taken"] < first and counts["compiled"] > 0


def test_nothing_is_written_when_python_writes_no_bytecode(table, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    module, counts, written = _start(table)
    _behaves(module)
    assert counts["compiled"] >= 10 and written is False
    assert not os.path.exists(table)


def test_omitted_namespaces_are_the_callers_as_with_the_builtins():
    local = 41
    assert generated_code.cached_eval("local + 1") == 42 == eval("local + 1")
    namespace: dict = {}
    generated_code.cached_exec("value = 7", namespace)
    assert namespace["value"] == 7
    assert generated_code.cached_eval("value * 2", namespace) == 14
    assert generated_code.cached_eval("value + extra", namespace, {"extra": 1}) == 8


CHILD = "import sys\nfrom gateway import generated_code\ngenerated_code.PATH = sys.argv[1]\n" \
        "from gateway.cli import main\nsys.exit(main(sys.argv[2:]))\n"


def _serve_once(path: str, data_dir: str) -> int:
    """`ottla serve` (gateway.cli.main) with its generated-code file at `path`, up to its first Metadata; the
    number of brokers that Metadata lists."""
    import signal
    import socket
    import struct

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    child = subprocess.Popen([sys.executable, "-c", CHILD, path, "serve", "--port", str(port), "--data-dir", data_dir,
                              "--log-level", "warning"], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""})  # unset: the file is written
    try:
        assert "ottla ready" in child.stdout.readline()  # printed once the server's finish() has run
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            payload = struct.pack(">hhih", 3, 1, 1, 4) + b"test" + struct.pack(">i", -1)  # Metadata v1, all topics
            sock.sendall(struct.pack(">i", len(payload)) + payload)
            answer = b""
            while len(answer) < 4 or len(answer) < 4 + struct.unpack(">i", answer[:4])[0]:
                answer += sock.recv(65536)
        return struct.unpack_from(">i", answer, 8)[0]
    finally:
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=60) == 0


def test_ottla_serve_writes_the_file_once_and_its_second_start_compiles_nothing(tmp_path):
    path, data_dir = str(tmp_path / "generated-code.bin"), str(tmp_path / "data")
    assert _serve_once(path, data_dir) == 1
    first = os.stat(path)
    with open(path, "rb") as file:
        written = file.read()
    assert len(written) > 50_000  # the broker's and structlog's start-up classes (264 texts)
    assert _serve_once(path, data_dir) == 1
    second = os.stat(path)  # a start that compiled anything rewrites it: a new file renamed over this one
    assert (second.st_ino, second.st_mtime_ns, second.st_size) == (first.st_ino, first.st_mtime_ns, first.st_size)

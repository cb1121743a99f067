"""gateway.generated_code: dataclasses and named tuples made with the file are the same as without it (the same
code, annotations, defaults and behaviour); a second start takes every text from the file and compiles none; a
bad or foreign file is ignored; a rewrite keeps only what was used; finish() gives the builtins back. And the real
`ottla serve` (gateway.cli.main) takes its start-up classes' code from the file on its second start."""

from __future__ import annotations

import collections
import dataclasses
import json
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


SERVE = r'''
import json, os, signal, socket, struct, sys, threading, time
from gateway import generated_code
from gateway.cli import main

generated_code.PATH = sys.argv[3]
port = int(sys.argv[2])
report = {}


def read(sock):
    data = b""
    while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
        data += sock.recv(65536)
    return data[4:]


def client():
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        payload = struct.pack(">hhih", 3, 1, 1, 4) + b"test" + struct.pack(">i", -1)  # Metadata v1, every topic
        sock.sendall(struct.pack(">i", len(payload)) + payload)
        report["metadata_brokers"] = struct.unpack_from(">i", read(sock), 4)[0]
        report.update(generated_code.counts)
        import dataclasses
        report["builtins_back"] = "exec" not in vars(dataclasses)
        sock.close()
    finally:
        print(json.dumps(report), flush=True)
        os.kill(os.getpid(), signal.SIGTERM)


threading.Thread(target=client, daemon=True).start()
sys.exit(main(["serve", "--port", str(port), "--data-dir", sys.argv[1], "--log-level", "warning"]))
'''


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ottla_serve_takes_its_start_up_classes_code_from_the_file_on_its_second_start(tmp_path):
    path, reports = str(tmp_path / "generated-code.bin"), []
    for run in range(2):
        out = subprocess.run([sys.executable, "-c", SERVE, str(tmp_path / "data"), str(_free_port()), path],
                             capture_output=True, text=True, timeout=120,
                             env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""})  # unset: the file is written
        assert out.returncode == 0, out.stderr
        reports.append(json.loads(out.stdout.strip().splitlines()[-1]))
    first, second = reports
    assert first["metadata_brokers"] == second["metadata_brokers"] == 1
    assert first["taken"] == 0 and first["compiled"] >= 100  # the broker's and structlog's start-up classes
    assert second == {**first, "taken": first["compiled"], "compiled": 0}
    assert first["builtins_back"] is True

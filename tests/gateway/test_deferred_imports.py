"""gateway.deferred_imports: a deferred module runs once, in place, at the first read of a missing attribute, also
when two threads read at once; a failing one is dropped from sys.modules as a failed import is."""

from __future__ import annotations

import sys
import threading
import types

import pytest

from gateway import deferred_imports
from gateway.deferred_imports import defer, is_deferred

SLOW = """
import time
RUNS.append(__name__)
time.sleep(0.2)  # a second thread reads while this runs
VALUE = 42
def double(x):
    return 2 * x
"""


@pytest.fixture
def module_dir(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [n for n in sys.modules if n.startswith("ottla_deferred_")]:
        del sys.modules[name]


def _write(module_dir, name: str, source: str) -> None:
    (module_dir / f"{name}.py").write_text(source)


def test_a_deferred_module_runs_at_its_first_attribute_read_in_the_same_object(module_dir, monkeypatch):
    runs: list[str] = []
    monkeypatch.setattr("builtins.RUNS", runs, raising=False)
    _write(module_dir, "ottla_deferred_a", SLOW)
    assert defer("ottla_deferred_a") is True
    import ottla_deferred_a as bound

    assert runs == [] and is_deferred("ottla_deferred_a")
    assert bound.__name__ == "ottla_deferred_a"  # what module_from_spec set: no run
    assert runs == []
    assert bound.double(2) == 4
    assert runs == ["ottla_deferred_a"] and not is_deferred("ottla_deferred_a")
    assert type(bound) is types.ModuleType and sys.modules["ottla_deferred_a"] is bound
    from ottla_deferred_a import VALUE

    assert VALUE == 42 and runs == ["ottla_deferred_a"]
    with pytest.raises(AttributeError):
        bound.missing


def test_two_threads_reading_first_see_the_whole_module_and_it_runs_once(module_dir, monkeypatch):
    runs: list[str] = []
    monkeypatch.setattr("builtins.RUNS", runs, raising=False)
    _write(module_dir, "ottla_deferred_b", SLOW)
    defer("ottla_deferred_b")
    module = sys.modules["ottla_deferred_b"]
    seen, errors = [], []

    def read():
        try:
            seen.append(module.VALUE)
        except Exception as exc:  # a half-run module would raise AttributeError here
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and seen == [42] * 4 and runs == ["ottla_deferred_b"]


def test_a_module_that_fails_is_dropped_like_a_failed_import(module_dir, monkeypatch):
    _write(module_dir, "ottla_deferred_c", "raise RuntimeError('broken')\n")
    defer("ottla_deferred_c")
    with pytest.raises(RuntimeError):
        sys.modules["ottla_deferred_c"].anything
    assert "ottla_deferred_c" not in sys.modules
    _write(module_dir, "ottla_deferred_c", "FIXED = True\n")
    import importlib

    importlib.invalidate_caches()
    assert importlib.import_module("ottla_deferred_c").FIXED is True


def test_imported_builtin_and_submodules_are_left_alone():
    assert defer("json") is False  # imported already
    assert defer("sys") is False
    assert defer("os.path") is False
    assert defer("no_such_module_anywhere") is False
    assert set(deferred_imports.UNUSED_AT_START) == {"pdb", "hashlib"}


def test_the_cli_help_formatter_is_as_wide_as_argparses(monkeypatch):
    import argparse

    from gateway.cli import HelpFormatter

    for columns in ("100", "57", None):
        if columns is None:
            monkeypatch.delenv("COLUMNS", raising=False)
        else:
            monkeypatch.setenv("COLUMNS", columns)
        assert HelpFormatter("ottla")._width == argparse.HelpFormatter("ottla")._width

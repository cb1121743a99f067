"""Loading on demand, for start-up: a dict that imports what a key needs the first time the key is read,
and a package's names resolved from their submodules on first use (PEP 562).

`LoadingDict` backs `wire.messages.APIS` (declarations) and `gateway.registry.HANDLERS` (handlers): a
present key is a plain dict lookup; a missing key in `known` calls `load(key)`, which must fill it;
iterating, len(), keys(), values() and items() call `load_all()` first, so whoever enumerates sees
everything, and `in` answers from `known` without loading.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Container


class LoadingDict(dict):
    def __init__(self, known: Container, load: Callable[[object], None], load_all: Callable[[], None]) -> None:
        super().__init__()
        self._known, self._load, self._load_all = known, load, load_all

    def __missing__(self, key):
        if key not in self._known:
            raise KeyError(key)
        self._load(key)
        return dict.__getitem__(self, key)

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key) -> bool:
        return key in self._known or dict.__contains__(self, key)

    def __iter__(self):
        self._load_all()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._load_all()
        return dict.__len__(self)

    def keys(self):
        self._load_all()
        return dict.keys(self)

    def values(self):
        self._load_all()
        return dict.values(self)

    def items(self):
        self._load_all()
        return dict.items(self)


def exports(package: str, names: dict[str, str]) -> Callable[[str], object]:
    """A package's module-level `__getattr__`: `names` maps each exported name to the submodule defining
    it, imported when the name is first read (then kept in the package), so importing one submodule of
    the package does not import the others."""

    def __getattr__(name: str):
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__

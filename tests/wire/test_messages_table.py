"""wire.messages.MODULES names, for every api key, the module that declares it; APIS loads by key."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import wire.messages
from wire.messages import APIS, MODULES
from wire.schema import Api


def test_modules_names_each_declaration():
    declared = {}
    for info in pkgutil.iter_modules(wire.messages.__path__):
        module = importlib.import_module(f"wire.messages.{info.name}")
        for value in vars(module).values():
            if isinstance(value, Api):
                assert declared.setdefault(value.key, info.name) == info.name, f"key {value.key} declared twice"
    assert declared == MODULES


def test_apis_holds_every_declaration():
    assert sorted(APIS) == sorted(MODULES)
    assert all(APIS[key].key == key for key in MODULES)
    assert APIS.get(-1) is None and 10_000 not in APIS


def test_a_key_loads_only_its_module():
    code = ("import sys\n"
            "from wire.messages import APIS\n"
            "assert APIS[3].name == 'Metadata' and APIS.get(18).name == 'ApiVersions'\n"
            "loaded = sorted(m for m in sys.modules if m.startswith('wire.messages.'))\n"
            "assert loaded == ['wire.messages.api_versions', 'wire.messages.metadata'], loaded\n")
    subprocess.run([sys.executable, "-c", code], check=True)

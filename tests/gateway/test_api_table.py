"""gateway.handlers.TABLE (what ApiVersions advertises, and where each key's handler module is) agrees
with the handlers' own @handles registrations; ApiVersions answers from it without importing handlers."""

from __future__ import annotations

import json
import subprocess
import sys

from gateway import registry
from gateway.handlers import TABLE
from wire.messages import APIS


def test_table_matches_every_registration():
    # in a fresh interpreter: this one's registrations may be wrapped (gateway.coordination, fault tests)
    code = ("import json\n"
            "from gateway import registry\n"
            "registry.load_all()\n"
            "print(json.dumps({key: (getattr(r.handler, '__wrapped__', r.handler).__module__.rsplit('.', 1)[-1],\n"
            "                        r.advertised_min, r.served_min, r.max_version)\n"
            "                  for key, r in dict.items(registry.HANDLERS)}))\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    registered = {int(key): tuple(entry) for key, entry in json.loads(out).items()}
    assert registered == TABLE


def test_every_table_key_is_a_declared_api():
    for key, (_module, advertised_min, served_min, max_version) in TABLE.items():
        api = APIS[key]
        assert advertised_min <= served_min <= max_version
        assert api.request.decodable(advertised_min) and api.request.decodable(max_version)


def test_supported_versions_is_the_table():
    assert registry.supported_versions() == [
        {"api_key": key, "min_version": entry[1], "max_version": entry[3]} for key, entry in sorted(TABLE.items())]


def test_a_registration_that_disagrees_with_the_table_is_refused():
    module_name = "gateway.handlers.metadata"
    registry.load(3)
    saved = dict.pop(registry.HANDLERS, 3)
    try:
        async def handle(ctx, request):  # pragma: no cover - never called
            return None
        handle.__module__ = module_name
        try:
            registry.handles(3, 1, saved.max_version)(handle)  # the table serves Metadata from v0
        except ValueError as exc:
            assert "gateway.handlers.TABLE" in str(exc)
        else:
            raise AssertionError("a registration whose versions are not the table's was accepted")
        assert not dict.__contains__(registry.HANDLERS, 3)
    finally:
        dict.__setitem__(registry.HANDLERS, 3, saved)


def test_lookup_imports_only_the_key_asked():
    code = ("import sys\n"
            "from gateway import registry\n"
            "versions = registry.supported_versions()\n"
            "assert not [m for m in sys.modules if m.startswith('gateway.handlers.')], 'ApiVersions imported handlers'\n"
            "assert registry.lookup(3, 99) is None and registry.lookup(99, 0) is None\n"
            "reg = registry.lookup(3, 12)\n"
            "assert reg is not None and reg.api.name == 'Metadata'\n"
            "loaded = sorted(m for m in sys.modules if m.startswith('gateway.handlers.'))\n"
            "assert loaded == ['gateway.handlers.metadata'], loaded\n"
            "assert len(registry.HANDLERS) == len(registry.TABLE)\n")
    subprocess.run([sys.executable, "-c", code], check=True)

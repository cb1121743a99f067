"""Consumer groups: the classic group coordinator and committed offsets, as sans-IO classes driven with now_ms."""

import importlib

# imported on first use (PEP 562), so a submodule (timers, markers, config) can be imported without them
_LAZY = {
    "GroupConfig": "gateway.groups.config",
    "GroupCoordinator": "gateway.groups.coordinator",
    "GroupStore": "gateway.groups.store",
    "MemoryGroupStore": "gateway.groups.store",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = globals()[name] = getattr(importlib.import_module(module), name)
    return value

"""Consumer groups: the classic group coordinator and committed offsets, as sans-IO classes driven with now_ms."""

from wire.lazy import exports

# each name imported from its submodule on first use, so importing a submodule (timers, markers) does not
# import the coordinator
_EXPORTS = {"GroupConfig": "gateway.groups.config", "GroupCoordinator": "gateway.groups.coordinator",
            "GroupStore": "gateway.groups.store", "MemoryGroupStore": "gateway.groups.store"}
__all__ = sorted(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)

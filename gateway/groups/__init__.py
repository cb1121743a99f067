"""Consumer groups: the classic group coordinator and committed offsets, as sans-IO classes driven with now_ms."""

from gateway.groups.config import GroupConfig
from gateway.groups.coordinator import GroupCoordinator
from gateway.groups.store import GroupStore, MemoryGroupStore

__all__ = ["GroupConfig", "GroupCoordinator", "GroupStore", "MemoryGroupStore"]

"""Share groups (KIP-932, "queues for Kafka") and their dead-letter topics (KIP-1191).

`partition.SharePartition` is the per-partition state machine; `manager.SharePartitionManager` holds
every share partition, persists them and fires their lock timers; `coordinator.ShareGroupCoordinator`
is membership (ShareGroupHeartbeat); `sessions` the share sessions of ShareFetch; `dlq` the
dead-letter writer; `replay` moves dead-lettered records back; `config` the group configs.
"""

import importlib

# imported on first use (PEP 562), so a submodule (timers, markers, config) can be imported without them
_LAZY = {
    "ShareConfigs": "gateway.share.config",
    "ShareGroupConfig": "gateway.share.config",
    "ShareGroupCoordinator": "gateway.share.coordinator",
    "SharePartitionManager": "gateway.share.manager",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = globals()[name] = getattr(importlib.import_module(module), name)
    return value

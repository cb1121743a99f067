"""Share groups (KIP-932, "queues for Kafka") and their dead-letter topics (KIP-1191).

`partition.SharePartition` is the per-partition state machine; `manager.SharePartitionManager` holds
every share partition, persists them and fires their lock timers; `coordinator.ShareGroupCoordinator`
is membership (ShareGroupHeartbeat); `sessions` the share sessions of ShareFetch; `dlq` the
dead-letter writer; `replay` moves dead-lettered records back; `config` the group configs.
"""

from wire.lazy import exports

# each name imported from its submodule on first use, so importing a submodule (timers, markers) does not
# import the coordinator
_EXPORTS = {"ShareConfigs": "gateway.share.config", "ShareGroupConfig": "gateway.share.config",
            "ShareGroupCoordinator": "gateway.share.coordinator",
            "SharePartitionManager": "gateway.share.manager"}
__all__ = sorted(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)

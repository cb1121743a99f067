"""Share groups (KIP-932, "queues for Kafka") and their dead-letter topics (KIP-1191).

`partition.SharePartition` is the per-partition state machine; `manager.SharePartitionManager` holds
every share partition, persists them and fires their lock timers; `coordinator.ShareGroupCoordinator`
is membership (ShareGroupHeartbeat); `sessions` the share sessions of ShareFetch; `dlq` the
dead-letter writer; `replay` moves dead-lettered records back; `config` the group configs.
"""

from gateway.share.config import ShareConfigs, ShareGroupConfig
from gateway.share.coordinator import ShareGroupCoordinator
from gateway.share.manager import SharePartitionManager

__all__ = ["ShareConfigs", "ShareGroupConfig", "ShareGroupCoordinator", "SharePartitionManager"]

"""Topics, partition logs and idempotent-producer state, stored in RocksDB or in memory."""

from partitions.log import AppendResult, PartitionLog
from partitions.logs import Logs
from partitions.topic_configs import ConfigEntry
from partitions.topics import Topic

__all__ = ["AppendResult", "ConfigEntry", "Logs", "PartitionLog", "Topic"]

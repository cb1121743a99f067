"""The broker's state as handlers see it: config, topics and logs, coordinators, and its own address."""

from __future__ import annotations

import os
import uuid

from gateway.config import Config
from partitions import Logs


def load_cluster_id(config: Config) -> str:
    """A stable cluster id: kept in the data dir so it survives restarts (random for --memory)."""
    if config.memory:
        return _new_cluster_id()
    os.makedirs(config.data_dir, exist_ok=True)
    path = os.path.join(config.data_dir, "cluster_id")
    try:
        with open(path, encoding="ascii") as f:
            return f.read().strip()
    except FileNotFoundError:
        cluster_id = _new_cluster_id()
        with open(path + ".tmp", "w", encoding="ascii") as f:
            f.write(cluster_id)
            f.flush()
            os.fsync(f.fileno())
        os.replace(path + ".tmp", path)
        return cluster_id


def _new_cluster_id() -> str:
    import base64

    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")


class Broker:
    def __init__(self, config: Config, storage) -> None:
        self.config = config
        self.storage = storage
        self.node_id = config.node_id
        self.host, self.port = config.advertised
        self.cluster_id = load_cluster_id(config)
        self.logs = Logs(
            storage,
            auto_create_topics=config.auto_create_topics,
            default_partitions=config.default_partitions,
        )
        self.groups = None  # the group coordinator, attached by gateway.groups when present

    def close(self) -> None:
        self.logs.close()


def open_storage(config: Config):
    if config.memory:
        from partitions.memory import MemoryStorage

        return MemoryStorage()
    from partitions.rocks import RocksStorage

    os.makedirs(config.data_dir, exist_ok=True)
    return RocksStorage(os.path.join(config.data_dir, "rocksdb"))

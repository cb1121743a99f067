"""The cluster: its id, its brokers (every node of `broker.nodes` once the cluster has several), totals."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

_STARTED = time.time()


@dataclass(frozen=True)
class NodeView:
    node_id: int
    host: str
    port: int
    alive: bool
    paused: bool
    connections: int


@dataclass(frozen=True)
class ClusterView:
    cluster_id: str
    controller_id: int
    nodes: list[NodeView]
    topics: int
    partitions: int
    messages: int
    size_bytes: int  # record bytes in partition logs
    storage: str  # "memory" or the RocksDB directory
    storage_bytes: int | None  # RocksDB's live data + SST files, when it can say
    connections: int
    groups: int
    uptime_s: float
    version: str


def _nodes(broker) -> list[NodeView]:
    nodes = getattr(broker, "nodes", None)
    if not nodes:
        return [NodeView(broker.node_id, broker.host, broker.port, True, False, len(broker.connections))]
    views = []
    for node_id, node in sorted(nodes.items()):
        host = getattr(node, "host", None) or broker.host
        port = getattr(node, "port", None) or 0
        views.append(NodeView(node_id, host, port, bool(getattr(node, "alive", True)),
                              bool(getattr(node, "paused", False)), len(getattr(node, "connections", ()))))
    return views


def storage_properties(broker) -> dict[str, int]:
    """RocksDB's size properties (rocksdict's property_int_value), {} for the memory engine."""
    read = getattr(broker.storage, "property_int_value", None)
    if read is None:
        return {}
    found = {}
    for name in ("rocksdb.total-sst-files-size", "rocksdb.live-sst-files-size", "rocksdb.estimate-live-data-size",
                 "rocksdb.estimate-pending-compaction-bytes", "rocksdb.cur-size-all-mem-tables",
                 "rocksdb.estimate-num-keys"):
        try:
            value = read(name)
        except Exception:  # noqa: BLE001 - a property this RocksDB does not have
            value = None
        if value is not None:
            found[name] = int(value)
    return found


def cluster(broker) -> ClusterView:
    from importlib.metadata import PackageNotFoundError, version

    try:
        own_version = version("ottla")
    except PackageNotFoundError:
        own_version = "unknown"
    topics = broker.logs.topics.values()
    props = storage_properties(broker)
    config = broker.config
    nodes = _nodes(broker)
    return ClusterView(
        cluster_id=broker.cluster_id, controller_id=getattr(broker, "controller_id", nodes[0].node_id), nodes=nodes,
        topics=len(broker.logs.topics), partitions=sum(len(t.partitions) for t in topics),
        messages=sum(max(0, p.high_watermark - p.log_start_offset) for t in topics for p in t.partitions),
        size_bytes=sum(p.segments.size for t in topics for p in t.partitions),
        storage="memory" if config.memory else os.path.join(config.data_dir, "rocksdb"),
        storage_bytes=props.get("rocksdb.total-sst-files-size"), connections=len(broker.connections),
        groups=len(broker.groups.groups), uptime_s=round(time.time() - _STARTED, 1), version=own_version)

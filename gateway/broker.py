"""The broker's state as handlers see it: config, topics and logs, coordinators, and its own address."""

from __future__ import annotations

from typing import TYPE_CHECKING

import os
import uuid
from collections.abc import Callable
from functools import cached_property

import structlog

from gateway.clock import now_ms
from gateway.config import Config
from gateway.configs import DynamicConfigs, ResourceType
from gateway.configs.broker_defs import BROKER_CONFIGS
from gateway.configs.properties import static_configs
from gateway.configs.quotas import ClientQuotas
from gateway.quota_enforcement.manager import for_config as quota_manager_for
from gateway.security.authorizer_settings import from_config as authorizer_from_config
from gateway.telemetry import Telemetry
from gateway.clients import ClientRegistry
from gateway.faults import FaultSet
from gateway.features import Features
from gateway.fetch_sessions import FetchSessionCache
from gateway.log_maintenance import LogMaintenance
from partitions import Logs

if TYPE_CHECKING:
    from gateway.security.credentials import Credentials
    from gateway.groups import GroupCoordinator
    from gateway.groups.kip848.coordinator import ConsumerGroupCoordinator
    from gateway.groups.timers import Timers
    from gateway.share import ShareConfigs, ShareGroupCoordinator, SharePartitionManager
    from gateway.txn import TransactionCoordinator
    from gateway.txn.markers import LogMarkerWriter

# State-store prefixes (relative to S, partitions/keys.py) a coordinator loads from: one found at start-up
# builds that coordinator then (its recovery and timers run as before); otherwise it is built on first use
_GROUP_STATE = (b"O", b"M", b"G")  # committed offsets, their metadata, classic group metadata (gateway.groups)
_TXN_STATE = (b"X", b"Q")  # transactional ids, their pending offsets (gateway.txn)
_SHARE_STATE = (b"H", b"R")  # share-partition states, DLQ replay cursors (gateway.share)


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
    multi = False  # a gateway.cluster.Cluster of several brokers (or under faults) says True: see there

    def __init__(self, config: Config, storage) -> None:
        self.config = config
        self.storage = storage
        self.faults = FaultSet.from_file(config.faults)  # injected errors, latency, drops (gateway/faults)
        self.node_id = config.node_id
        self.host, self.port = config.advertised
        if config.users:  # --user: their SCRAM credentials derived (and stored) now; else on first use
            self.credentials  # noqa: B018
        self.cluster_id = load_cluster_id(config)
        self.logs = Logs(
            storage,
            auto_create_topics=config.auto_create_topics,
            default_partitions=config.default_partitions,
        )
        self.features = Features(storage.state(), config.node_id)
        # Static (server.properties, flags) and dynamic (AlterConfigs, persisted) configs; see gateway/configs
        self.configs = DynamicConfigs(config.node_id, static_configs(config), storage.state())
        self.logs.set_topic_defaults(self.configs.topic_defaults())
        self.configs.listeners.append(self._on_config_change)
        unknown = sorted(name for name, _ in config.properties if name not in BROKER_CONFIGS)
        if unknown:  # Kafka: "The configuration '...' was supplied but isn't a known config."
            structlog.get_logger("ottla.broker").warning("unknown_broker_configs", names=unknown)
        self.quotas = ClientQuotas(storage.state())
        self.authorizer = authorizer_from_config(config, storage.state())  # None: no authorizer (allow all)
        self.quota_manager = quota_manager_for(self.quotas, config)  # enforces self.quotas (off while none)
        self.telemetry = Telemetry(self.configs)
        self.maintenance = LogMaintenance(self)  # retention and cleaning; started by the server
        self.fetch_sessions = FetchSessionCache(config.max_incremental_fetch_session_cache_slots)

        self.clients = ClientRegistry(self)  # live connections; observes requests with --trace or --http-port
        self.metrics = None  # gateway.metrics.Metrics while the HTTP server runs (--http-port); None: not counted
        self.connections: set = set()  # the server's live connections (the console and /metrics read them)
        self.on_deadline: Callable[[int], None] | None = None  # the server's timer: see deadline_changed
        self._timer_sources: list = []
        # the coordinators are built on first use (cached_property below), or now when storage holds their state
        state = storage.state()
        if _stored(state, _TXN_STATE):
            self.txn  # noqa: B018  (recovers prepared transactions, times out ongoing ones)
        if _stored(state, _SHARE_STATE):
            self.share_groups  # noqa: B018  (restores share partitions and their groups)
        if _stored(state, _GROUP_STATE):
            self.groups  # noqa: B018  (loads committed offsets and groups, schedules their expiry)

    # -- coordinators, each imported and built on first use

    @cached_property
    def credentials(self) -> "Credentials":
        """SASL users and SCRAM credentials (gateway/security/credentials.py)."""
        from gateway.security.credentials import Credentials

        return Credentials(self.storage.state(), self.config.users)

    @cached_property
    def groups(self) -> "GroupCoordinator":
        from gateway.groups import GroupConfig, GroupCoordinator

        config = self.config
        groups = GroupCoordinator(GroupConfig(
            group_min_session_timeout_ms=config.group_min_session_timeout_ms,
            group_max_session_timeout_ms=config.group_max_session_timeout_ms,
            group_initial_rebalance_delay_ms=config.group_initial_rebalance_delay_ms,
            offsets_retention_minutes=config.offsets_retention_minutes,
            group_max_size=config.group_max_size, offset_metadata_max_bytes=config.offset_metadata_max_bytes,
        ), store=self.storage.state(), now_ms=now_ms())
        self.add_timer_source(groups, groups.timers)
        return groups

    @cached_property
    def consumer_groups(self) -> "ConsumerGroupCoordinator":
        """KIP-848 groups; they share the classic coordinator's group-id space."""
        from gateway.groups.kip848.coordinator import ConsumerGroupCoordinator
        from gateway.groups.kip848.topics import LogsTopics

        config = self.config
        coordinator = ConsumerGroupCoordinator(
            LogsTopics(self.logs), groups=self.groups.groups,
            session_timeout_ms=config.group_consumer_session_timeout_ms,
            heartbeat_interval_ms=config.group_consumer_heartbeat_interval_ms, max_size=config.group_max_size,
            group_config=self.configs.group)
        self.add_timer_source(coordinator, coordinator.timers)
        return coordinator

    @cached_property
    def markers(self) -> "LogMarkerWriter":
        from gateway.txn.markers import LogMarkerWriter

        markers = LogMarkerWriter(self.logs)
        markers.crash_at = self.config.crash_at
        return markers

    @cached_property
    def txn(self) -> "TransactionCoordinator":
        from gateway.txn import TransactionCoordinator, TxnConfig

        config = self.config
        txn = TransactionCoordinator(TxnConfig(
            transaction_max_timeout_ms=config.transaction_max_timeout_ms,
            transaction_abort_timed_out_transaction_cleanup_interval_ms=(
                config.transaction_abort_timed_out_transaction_cleanup_interval_ms),
            transactional_id_expiration_ms=config.transactional_id_expiration_ms,
        ), self.storage.state(), self.logs.next_producer_id, self.markers,
            lambda group_id, topics, now: self.groups.commit_offsets(group_id=group_id, topics=topics, now_ms=now),
            now_ms())
        txn.recover(now_ms())
        self.add_timer_source(txn, txn.timers)
        return txn

    @cached_property
    def share_configs(self) -> "ShareConfigs":
        from gateway.share import ShareConfigs

        share_configs = ShareConfigs(self.configs)
        self.configs.listeners.append(share_configs.invalidate)
        return share_configs

    @cached_property
    def shares(self) -> "SharePartitionManager":
        """Share groups (KIP-932); their share-partition state persists through storage.state()."""
        from gateway.share import SharePartitionManager

        groups = self.groups
        shares = SharePartitionManager(self.logs, self.storage.state(), self.share_configs, groups=groups.groups,
                                       share_version=lambda: self.features.level("share.version"))
        groups.on_group_removed.append(shares.on_group_deleted)
        self.add_timer_source(shares, shares.timers)
        return shares

    @cached_property
    def share_groups(self) -> "ShareGroupCoordinator":
        from gateway.groups.kip848.topics import LogsTopics
        from gateway.share import ShareGroupCoordinator

        shares = self.shares
        coordinator = ShareGroupCoordinator(LogsTopics(self.logs), self.share_configs, groups=self.groups.groups,
                                            on_member_gone=shares.on_member_gone)
        self.add_timer_source(coordinator, coordinator.timers)
        return coordinator

    def add_timer_source(self, source, timers: Timers | None = None) -> None:
        """A coordinator with deadlines: `source.tick(now_ms)` fires what is due and
        `source.next_deadline()` says when it next needs a tick. Its `timers` (or a call to
        `deadline_changed`) tell the server of each new deadline, so none waits for a poll."""
        self._timer_sources.append(source)
        if timers is not None:
            timers.on_schedule = self.deadline_changed
        deadline = source.next_deadline()  # what it scheduled before it was added (a coordinator built late)
        if deadline is not None:
            self.deadline_changed(deadline)

    def deadline_changed(self, deadline_ms: int) -> None:
        """Some coordinator now has something to do at deadline_ms (perhaps earlier than before)."""
        if self.on_deadline is not None:
            self.on_deadline(deadline_ms)

    def _on_config_change(self, resource_type: int, name: str) -> None:
        if resource_type == ResourceType.BROKER:
            self.logs.set_topic_defaults(self.configs.topic_defaults())

    def tick(self, now: int) -> int | None:
        """Fire the coordinators' due timers; when they next need a tick (None: nothing scheduled)."""
        for source in self._timer_sources:
            source.tick(now)
        deadlines = [d for d in (source.next_deadline() for source in self._timer_sources) if d is not None]
        return min(deadlines) if deadlines else None

    def close(self) -> None:
        self.logs.close()


def _stored(state, prefixes: tuple[bytes, ...]) -> bool:
    """Whether the state store holds any key under one of these prefixes (one seek each)."""
    return any(next(iter(state.scan(prefix)), None) is not None for prefix in prefixes)


def open_storage(config: Config):
    if config.memory:
        from partitions.memory import MemoryStorage

        return MemoryStorage()
    from partitions.rocks import RocksStorage

    os.makedirs(config.data_dir, exist_ok=True)
    return RocksStorage(os.path.join(config.data_dir, "rocksdb"))

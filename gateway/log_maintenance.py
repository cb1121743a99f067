"""Background log maintenance: the retention check every log.retention.check.interval.ms (Kafka's
LogManager "kafka-log-retention" task), the cleaner (compaction) pass every log.cleaner.backoff.ms,
and giving removed data's disk space back.

Both run on the event loop in small steps that yield between partitions (and the cleaner between
chunks of batches), so requests keep being served while they work. Reclaiming space (a RocksDB
compaction of the removed range) runs in a worker thread.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import structlog

from gateway.clock import now_ms
from partitions.retention import delete_old_segments
from wire.errors import KafkaError

if TYPE_CHECKING:
    from gateway.broker import Broker
    from partitions.log import PartitionLog

log = structlog.get_logger("ottla.log_maintenance")


class LogMaintenance:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._tasks: list[asyncio.Task] = []
        self._reclaims: set[asyncio.Task] = set()

    def start(self) -> None:
        config = self.broker.config
        self._tasks.append(asyncio.ensure_future(self._every(config.log_retention_check_interval_ms,
                                                             self.retention_pass)))

    async def stop(self) -> None:
        """Cancel the passes and wait for space reclaims in flight (storage is closed next)."""
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        if self._reclaims:
            await asyncio.gather(*self._reclaims, return_exceptions=True)

    async def _every(self, interval_ms: int, work) -> None:
        while True:
            await asyncio.sleep(interval_ms / 1000)
            try:
                await work()
            except Exception:  # a bug in one pass must not end maintenance for good
                log.exception("log_maintenance_failed", work=getattr(work, "__name__", repr(work)))

    async def retention_pass(self) -> None:
        """One retention check of every partition (Kafka's cleanupLogs)."""
        for topic in list(self.broker.logs.topics.values()):
            for partition in topic.partitions:
                if topic.deleted:
                    break
                try:
                    removed = delete_old_segments(partition, now_ms())
                except KafkaError as exc:
                    log.warning("retention_failed", topic=topic.name, partition=partition.index, error=exc.code.name,
                                reason=exc.message)
                    continue
                if removed is not None:
                    log.info("segments_deleted", topic=topic.name, partition=partition.index,
                             segments=removed.segments, log_start_offset=partition.log_start_offset,
                             reason="retention")
                    self.reclaim_soon(partition, removed.start, removed.end)
            await asyncio.sleep(0)

    def reclaim_soon(self, partition: PartitionLog, start: int, end: int) -> None:
        """Give the disk space of removed offsets [start, end) back, in a worker thread."""
        task = asyncio.ensure_future(asyncio.to_thread(partition.storage.reclaim, partition.topic.topic_id,
                                                       partition.index, start, end))
        self._reclaims.add(task)
        task.add_done_callback(self._reclaimed)

    def _reclaimed(self, task: asyncio.Task) -> None:
        self._reclaims.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("reclaim_failed", error=str(task.exception()))

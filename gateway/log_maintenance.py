"""Background log maintenance: the retention check every log.retention.check.interval.ms (Kafka's
LogManager "kafka-log-retention" task), the cleaner (compaction) pass every log.cleaner.backoff.ms,
and giving removed data's disk space back.

Both run on the event loop in small steps that yield between partitions (and the cleaner between
chunks of batches), so requests keep being served while they work. Reclaiming space (a RocksDB
compaction of the removed range) runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import structlog

from gateway.clock import now_ms
from gateway.offload import Pacer
from partitions.log_config import is_compacted
from partitions.retention import delete_old_segments
from wire.errors import KafkaError

if TYPE_CHECKING:
    from gateway.broker import Broker
    from partitions.log import PartitionLog

log = structlog.get_logger("ottla.log_maintenance")


def _import_cleaner() -> None:
    """partitions.cleaner (and wire.batch_rewrite) with the first compacted topic, not at start-up; a name already
    set here (a test's stand-in) is kept."""
    from partitions import cleaner

    globals().setdefault("plan", cleaner.plan)
    globals().setdefault("Cleaning", cleaner.Cleaning)


def __getattr__(name: str):  # PEP 562: log_maintenance.plan / .Cleaning read from outside
    if name in ("plan", "Cleaning"):
        _import_cleaner()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class LogMaintenance:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._tasks: list[asyncio.Task] = []
        self._reclaims: set[asyncio.Task] = set()
        self._horizons: dict[tuple[bytes, int], int] = {}  # partition -> earliest delete horizon ahead
        self.worst_step_ms = 0.0  # the longest the cleaner held the event loop in one step (bench, logs)

    def start(self) -> None:
        config = self.broker.config
        self._tasks.append(asyncio.ensure_future(self._every(config.log_retention_check_interval_ms,
                                                             self.retention_pass)))
        self._tasks.append(asyncio.ensure_future(self._every(config.log_cleaner_backoff_ms, self.cleaner_pass)))

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

    async def cleaner_pass(self) -> None:
        """Clean every compacted partition that needs it, filthiest first (Kafka's LogCleaner threads).
        Topics that are not compacted are passed over whole, and the look at the rest yields the loop as
        it goes (100,000 partitions looked at in one go held it for 1-2.5 s)."""
        now = now_ms()
        due = []
        pacer = Pacer()
        for topic in list(self.broker.logs.topics.values()):
            await pacer.step()
            if topic.deleted or not is_compacted(topic):  # (plan() says None to each of its partitions)
                continue
            if "plan" not in globals():
                _import_cleaner()
            for partition in topic.partitions:
                await pacer.step()
                key = (topic.topic_id, partition.index)
                horizon = self._horizons.get(key)
                found = plan(partition, now, horizon_due=horizon is not None and horizon <= now)
                if found is not None:
                    due.append((found.dirty_ratio, key, found, partition))
        due.sort(key=lambda item: -item[0])
        for _, key, found, partition in due:
            await self._clean(key, found, partition)

    async def _clean(self, key, found, partition: PartitionLog) -> None:
        cleaning = Cleaning(partition, found, now_ms())
        started = time.perf_counter()
        worst = 0.0
        steps = cleaning.steps()
        while True:
            step_started = time.perf_counter()
            try:
                next(steps)
            except StopIteration:
                break
            except Exception as exc:  # a storage error: the log stays as the last atomic write left it
                log.warning("clean_failed", topic=partition.topic.name, partition=partition.index, error=str(exc))
                return
            finally:
                worst = max(worst, time.perf_counter() - step_started)
            await asyncio.sleep(0)  # let requests in between steps
        self.worst_step_ms = max(self.worst_step_ms, worst * 1000)
        if cleaning.next_horizon is None:
            self._horizons.pop(key, None)
        else:
            self._horizons[key] = cleaning.next_horizon
        log.info("log_cleaned", topic=partition.topic.name, partition=partition.index, aborted=cleaning.aborted,
                 bytes_before=cleaning.bytes_before, bytes_after=cleaning.bytes_after,
                 first_dirty_offset=partition.first_dirty_offset, dirty_ratio=round(found.dirty_ratio, 3),
                 duration_ms=round((time.perf_counter() - started) * 1000, 1), worst_step_ms=round(worst * 1000, 2))
        if cleaning.bytes_after < cleaning.bytes_before:
            self.reclaim_soon(partition, partition.log_start_offset, cleaning.end)

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

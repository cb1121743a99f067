"""The broker's MarkerWriter: COMMIT/ABORT control batches appended to the partition logs, synchronously.

One broker leads every partition, so a marker is a local append (PartitionLog.append_control): done
when this returns. A partition whose topic was deleted meanwhile needs no marker. Coordinator epoch 0:
this broker has always been the only transaction coordinator.
"""

from __future__ import annotations

import structlog

from gateway.txn.coordinator import Markers
from partitions import Logs

COORDINATOR_EPOCH = 0

log = structlog.get_logger("ottla.txn")


class LogMarkerWriter:
    def __init__(self, logs: Logs) -> None:
        self._logs = logs
        # A test's fault point (--crash-at): "txn-prepared" dies once the decision is stored, before any
        # marker; "txn-marker" after the first marker. Nothing else reads it.
        self.crash_at: str | None = None

    def write(self, markers: Markers, now_ms: int) -> bool:
        if self.crash_at == "txn-prepared":
            _die(markers, self.crash_at)
        for topic, partition in markers.partitions:
            found = self._logs.get(topic)
            target = found.partition(partition) if found is not None else None
            if target is None:
                log.info("txn_marker_skipped", transactional_id=markers.transactional_id, topic=topic,
                         partition=partition, reason="partition does not exist")
                continue
            target.append_control(markers.producer_id, markers.producer_epoch, commit=markers.commit,
                                  coordinator_epoch=COORDINATOR_EPOCH, now_ms=now_ms)
            if self.crash_at == "txn-marker":
                _die(markers, self.crash_at)
        return True


def _die(markers: Markers, point: str) -> None:
    import os
    import signal

    log.warning("crash_point", point=point, transactional_id=markers.transactional_id)
    os.kill(os.getpid(), signal.SIGKILL)

"""The broker's MarkerWriter: a transaction's COMMIT/ABORT control batches, one per partition, and the
coordinator's completed state for it, stored in ONE storage write (Storage.append_many), synchronously.

One broker leads every partition, so the markers are local appends: each partition's marker is staged
(PartitionLog.stage_control), all of them and the CompleteCommit/CompleteAbort state go to storage in
one atomic write, and only then do they become visible (offsets, LSO, producer epochs). A kill -9 leaves
either none of them (the transaction is still PrepareCommit/PrepareAbort, stored before this is called,
and start-up writes the markers) or all of them with the completed state. A partition whose topic was
deleted meanwhile needs no marker. Coordinator epoch 0: this broker has always been the only
transaction coordinator.
"""

from __future__ import annotations

import structlog

from gateway.txn.coordinator import Markers
from partitions import Logs
from partitions.storage import StorageError
from wire.errors import ErrorCode, KafkaError

COORDINATOR_EPOCH = 0

log = structlog.get_logger("ottla.txn")


class LogMarkerWriter:
    def __init__(self, logs: Logs) -> None:
        self._logs = logs
        # A test's fault point (--crash-at): "txn-prepared" dies once the decision is stored, before the
        # markers' write; "txn-marker" once the markers (and the completed state) are stored, before any
        # of it is visible or answered. Nothing else reads it.
        self.crash_at: str | None = None
        # a --brokers N cluster: the epoch of the transactional id's __transaction_state leader (gateway/cluster.py)
        self.coordinator_epoch = lambda transactional_id: COORDINATOR_EPOCH

    def write(self, markers: Markers, now_ms: int) -> bool:
        if self.crash_at == "txn-prepared":
            _die(markers, self.crash_at)
        staged = []
        for topic, partition in markers.partitions:
            found = self._logs.get(topic)
            target = found.partition(partition) if found is not None else None
            if target is None:
                log.info("txn_marker_skipped", transactional_id=markers.transactional_id, topic=topic,
                         partition=partition, reason="partition does not exist")
                continue
            staged.append(target.stage_control(markers.producer_id, markers.producer_epoch, commit=markers.commit,
                                               coordinator_epoch=self.coordinator_epoch(markers.transactional_id),
                                               now_ms=now_ms))
        states = [markers.completion] if markers.completion is not None else []
        try:
            self._logs.storage.append_many([one.write for one in staged], states)
        except StorageError as exc:
            raise KafkaError(ErrorCode.KAFKA_STORAGE_ERROR,
                             f"markers of transactional id {markers.transactional_id}: {exc}") from None
        if self.crash_at == "txn-marker":
            _die(markers, self.crash_at)
        for one in staged:
            one.commit()
        return True


def _die(markers: Markers, point: str) -> None:
    import os
    import signal

    log.warning("crash_point", point=point, transactional_id=markers.transactional_id)
    os.kill(os.getpid(), signal.SIGKILL)

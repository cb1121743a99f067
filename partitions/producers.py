"""Idempotent-producer state per partition: epochs, the last 5 batches' sequences, duplicate detection.

Kafka's rules (ProducerStateManager / ProducerAppendInfo, client origin):
- a batch whose epoch and exact sequence range match one of the producer's last 5 batches is a
  duplicate: it is answered with the original offsets and not appended again;
- an epoch older than the producer's current one is INVALID_PRODUCER_EPOCH;
- a newer epoch must start at sequence 0, unless the producer is unknown here;
- within an epoch each batch must start right after the previous one's last sequence (wrapping
  from 2^31-1 to 0), else OUT_OF_ORDER_SEQUENCE_NUMBER;
- a producer this partition has no state for is accepted at any sequence (Kafka since 2.5,
  KIP-360: its state may have been removed with its data by retention or DeleteRecords).
Producer ids never expire here (Kafka drops them after producer.id.expiration.ms).
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from wire.errors import ErrorCode, KafkaError

NUM_BATCHES_TO_RETAIN = 5
NO_PRODUCER_EPOCH = -1
NO_SEQUENCE = -1
MAX_SEQUENCE = 2**31 - 1

_HEAD = struct.Struct(">hB")
_BATCH = struct.Struct(">iqiq")


def increment_sequence(sequence: int, increment: int) -> int:
    if sequence > MAX_SEQUENCE - increment:
        return increment - (MAX_SEQUENCE - sequence) - 1
    return sequence + increment


def decrement_sequence(sequence: int, decrement: int) -> int:
    if sequence < decrement:
        return MAX_SEQUENCE - (decrement - sequence) + 1
    return sequence - decrement


def in_sequence(last_seq: int, next_seq: int) -> bool:
    return next_seq == last_seq + 1 or (next_seq == 0 and last_seq == MAX_SEQUENCE)


class BatchMetadata(NamedTuple):
    """One appended batch of a producer (Kafka's BatchMetadata). timestamp is the stored max timestamp."""

    last_seq: int
    last_offset: int
    offset_delta: int
    timestamp: int

    @property
    def first_seq(self) -> int:
        return decrement_sequence(self.last_seq, self.offset_delta)

    @property
    def first_offset(self) -> int:
        return self.last_offset - self.offset_delta


class ProducerStateEntry:
    """A producer's epoch and its last NUM_BATCHES_TO_RETAIN batches in one partition."""

    __slots__ = ("producer_epoch", "batches")

    def __init__(self, producer_epoch: int = NO_PRODUCER_EPOCH, batches: list[BatchMetadata] | None = None) -> None:
        self.producer_epoch = producer_epoch
        self.batches = batches if batches is not None else []

    @property
    def last_seq(self) -> int:
        return self.batches[-1].last_seq if self.batches else NO_SEQUENCE

    def copy(self) -> ProducerStateEntry:
        return ProducerStateEntry(self.producer_epoch, list(self.batches))

    def find_duplicate(self, producer_epoch: int, first_seq: int, last_seq: int) -> BatchMetadata | None:
        if producer_epoch != self.producer_epoch:
            return None
        for batch in self.batches:
            if batch.last_seq == last_seq and batch.first_seq == first_seq:
                return batch
        return None

    def add_batch(self, producer_epoch: int, batch: BatchMetadata) -> None:
        if producer_epoch != self.producer_epoch:
            self.producer_epoch = producer_epoch
            self.batches.clear()
        if len(self.batches) == NUM_BATCHES_TO_RETAIN:
            del self.batches[0]
        self.batches.append(batch)

    def to_bytes(self) -> bytes:
        return _HEAD.pack(self.producer_epoch, len(self.batches)) + b"".join(_BATCH.pack(*b) for b in self.batches)

    @classmethod
    def from_bytes(cls, data: bytes) -> ProducerStateEntry:
        epoch, count = _HEAD.unpack_from(data)
        batches = [BatchMetadata(*_BATCH.unpack_from(data, _HEAD.size + i * _BATCH.size)) for i in range(count)]
        return cls(epoch, batches)


class ProducerAppend:
    """Checks one append call's batches against a partition's producers, collecting their new state.

    Nothing is changed in `current` until `commit()`, which the log calls once the batches are stored.
    """

    def __init__(self, current: dict[int, ProducerStateEntry]) -> None:
        self.current = current
        self.updated: dict[int, ProducerStateEntry] = {}

    def find_duplicate(self, producer_id: int, producer_epoch: int, first_seq: int,
                       last_seq: int) -> BatchMetadata | None:
        """A batch already stored with this epoch and exact sequence range (Kafka checks stored state only)."""
        entry = self.current.get(producer_id)
        return entry.find_duplicate(producer_epoch, first_seq, last_seq) if entry else None

    def append(self, producer_id: int, producer_epoch: int, first_seq: int, batch: BatchMetadata) -> None:
        """Validate the batch's epoch and first sequence, then record it; raises KafkaError."""
        current = self.current.get(producer_id)
        updated = self.updated.get(producer_id)
        if updated is None:
            updated = current.copy() if current else ProducerStateEntry()
        if producer_epoch < updated.producer_epoch:
            raise KafkaError(ErrorCode.INVALID_PRODUCER_EPOCH,
                             f"epoch {producer_epoch} of producer {producer_id} is older than {updated.producer_epoch}")
        if producer_epoch != updated.producer_epoch:
            if first_seq != 0 and updated.producer_epoch != NO_PRODUCER_EPOCH:
                raise KafkaError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
                                 f"new epoch {producer_epoch} of producer {producer_id} starts at sequence "
                                 f"{first_seq}, not 0")
        elif current is not None and not in_sequence(updated.last_seq, first_seq):
            raise KafkaError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
                             f"producer {producer_id} sent sequence {first_seq} after {updated.last_seq}")
        updated.add_batch(producer_epoch, batch)
        self.updated[producer_id] = updated

    def encoded(self) -> dict[int, bytes]:
        return {producer_id: entry.to_bytes() for producer_id, entry in self.updated.items()}

    def commit(self) -> None:
        self.current.update(self.updated)

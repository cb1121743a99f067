"""A partition's transactions: the open ones (their first offsets fix the last stable offset) and the
aborted-transaction index read_committed Fetch answers from.

Kafka's partition-side rules (ProducerStateManager, TransactionIndex):
- a producer's first transactional batch in a partition opens its transaction there at that batch's
  base offset; the last stable offset (LSO) is the smallest first offset of the open transactions,
  else the high watermark;
- a non-transactional batch from a producer whose transaction is open here is INVALID_TXN_STATE;
- a COMMIT or ABORT marker (a control batch the coordinator writes, never a client) closes it; an ABORT
  adds (producer id, first offset, marker offset) to the aborted index;
- read_committed Fetch returns every aborted transaction overlapping the offsets it returns.

Both are persisted with the batches that change them (storage.TxnChanges, keys ONGOING_TXN/ABORTED_TXN),
and the aborted index is held in memory in last-offset order (loaded on open).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left

from partitions.storage import AbortedTxn, TxnChanges
from wire.errors import ErrorCode, KafkaError
from wire.records import LOG_OVERHEAD, read_header


class TxnAppend:
    """The transaction changes of one append, applied to the partition only once it is stored."""

    __slots__ = ("_txns", "opened", "closed", "aborted")

    def __init__(self, txns: PartitionTransactions) -> None:
        self._txns = txns
        self.opened: dict[int, int] = {}
        self.closed: list[int] = []
        self.aborted: list[AbortedTxn] = []

    def data_batch(self, producer_id: int, transactional: bool, base_offset: int, where) -> None:
        """A data batch of producer_id at base_offset (raises INVALID_TXN_STATE, as Kafka does, for a
        non-transactional batch while the producer's transaction is open here)."""
        ongoing = producer_id in self._txns.ongoing or producer_id in self.opened
        if transactional:
            if not ongoing:
                self.opened[producer_id] = base_offset
        elif ongoing:
            raise KafkaError(ErrorCode.INVALID_TXN_STATE, f"Expected transactional write from producer "
                             f"{producer_id} at offset {base_offset} in {where}")

    def marker(self, producer_id: int, commit: bool, offset: int) -> None:
        first = self._txns.ongoing.get(producer_id)
        if first is None:
            return  # no data of this transaction here (a partition added but never written, or a retried marker)
        self.closed.append(producer_id)
        if not commit:
            self.aborted.append(AbortedTxn(producer_id, first, offset))

    def changes(self) -> TxnChanges:
        return TxnChanges(self.opened, self.closed, self.aborted)

    def commit(self) -> None:
        self._txns.apply(self)


class PartitionTransactions:
    """Open transactions (producer id -> first offset) and the aborted index of one partition."""

    __slots__ = ("ongoing", "_aborted", "_aborted_last", "_max_span")

    def __init__(self, ongoing: dict[int, int] | None = None, aborted: list[AbortedTxn] | None = None) -> None:
        self.ongoing: dict[int, int] = dict(ongoing) if ongoing else {}
        self._aborted_last = array("q")
        # the longest [first, last] of any aborted transaction: an entry whose last offset is that far past
        # a read's end cannot start before it, so an overlap search stops there (lasts are sorted)
        self._max_span = 0
        self._aborted: list[AbortedTxn] = []
        if aborted:  # most partitions never saw an abort: creating their log costs nothing here
            self._aborted = sorted(aborted, key=lambda txn: txn.last_offset)
            self._aborted_last.extend(txn.last_offset for txn in self._aborted)
            self._max_span = max(txn.last_offset - txn.first_offset for txn in self._aborted)

    def last_stable_offset(self, high_watermark: int) -> int:
        return min(self.ongoing.values(), default=high_watermark)

    def begin(self) -> TxnAppend:
        return TxnAppend(self)

    def apply(self, append: TxnAppend) -> None:
        self.ongoing.update(append.opened)
        for producer_id in append.closed:
            del self.ongoing[producer_id]
        for txn in append.aborted:
            self._aborted.append(txn)
            self._aborted_last.append(txn.last_offset)
            self._max_span = max(self._max_span, txn.last_offset - txn.first_offset)

    def drop_below(self, offset: int) -> None:
        """Forget aborted transactions whose marker is below offset (the new log start: their data is gone)."""
        cut = bisect_left(self._aborted_last, offset)
        if cut:
            del self._aborted[:cut], self._aborted_last[:cut]

    def aborted_txns(self) -> list[AbortedTxn]:
        """The aborted-transaction index (a copy), for the log cleaner."""
        return list(self._aborted)

    def first_offset(self, producer_id: int) -> int:
        """The first offset of producer_id's open transaction here, -1 if none (DescribeProducers)."""
        return self.ongoing.get(producer_id, -1)

    def aborted_overlapping(self, start: int, records) -> list[dict] | None:
        """Fetch's aborted_transactions for `records` read from offset `start`: every aborted transaction
        whose span [first offset, marker offset] overlaps the offsets those batches hold."""
        lasts = self._aborted_last
        if not lasts or lasts[-1] < start or not records:
            return []
        end = _end_offset(records)
        return [{"producer_id": txn.producer_id, "first_offset": txn.first_offset}
                for txn in self._overlap_candidates(start, end) if txn.first_offset < end]

    def aborted_between(self, start: int, end: int) -> list:
        """The aborted transactions (producer_id, first_offset, last_offset = its marker) whose span
        overlaps offsets [start, end) (share groups archive their records under read_committed)."""
        lasts = self._aborted_last
        if not lasts or lasts[-1] < start:
            return []
        return [txn for txn in self._overlap_candidates(start, end) if txn.first_offset < end]

    def _overlap_candidates(self, start: int, end: int) -> list[AbortedTxn]:
        """Entries with last offset >= start that may start before end (last < end + the longest span)."""
        lasts = self._aborted_last
        return self._aborted[bisect_left(lasts, start):bisect_left(lasts, end + self._max_span)]

    def __len__(self) -> int:
        return len(self._aborted)


def _end_offset(records) -> int:
    """The offset after the last record of a run of whole stored batches (headers only)."""
    pos, size, last = 0, len(records), -1
    while pos < size:
        header = read_header(records, pos)
        last = header.base_offset + header.last_offset_delta
        pos += LOG_OVERHEAD + header.batch_length
    return last + 1

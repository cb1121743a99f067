"""Random producers against the coordinator: whatever they do, its invariants hold and what it stored is
what it holds (a restart from the store answers the same)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from gateway.txn.state import COMPLETED, ONGOING, PREPARING, TransactionMetadata, txn_key
from tests.gateway.txn.test_coordinator import T0, Harness
from wire.errors import ErrorCode as E

IDS = ["a", "b"]
ops = st.lists(st.tuples(
    st.sampled_from(["init", "init_kip360", "add", "offsets", "commit", "abort", "stale_end", "advance",
                     "defer", "release"]),
    st.sampled_from(IDS), st.integers(0, 3)), max_size=25)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=ops)
def test_random_producers_keep_the_coordinator_consistent(steps):
    h = Harness(transaction_abort_timed_out_transaction_cleanup_interval_ms=1000)
    now = T0
    known: dict[str, tuple[int, int]] = {}  # what each id's producer last got from InitProducerId
    epochs: dict[str, int] = {}
    for op, tid, n in steps:
        txn = h.txns.get(tid)
        pid, epoch = known.get(tid, (-1, -1))
        if op == "init":
            result = h.init(tid, timeout=5000, now=now)
            if result.error_code == E.NONE:
                known[tid] = (result.producer_id, result.producer_epoch)
        elif op == "init_kip360" and tid in known:
            result = h.init(tid, timeout=5000, pid=pid, epoch=epoch, now=now)
            if result.error_code == E.NONE:
                known[tid] = (result.producer_id, result.producer_epoch)
        elif op == "add" and tid in known:
            h.add(tid, pid, epoch, [("t", n)], now=now)
        elif op == "offsets" and tid in known:
            if h.add_offsets(tid, pid, epoch, "g", now_ms=now) == E.NONE:
                assert h.check_txn_offset_commit(tid, pid, epoch, "g") == E.NONE
                h.stage_offsets("g", pid, [("t", n, (n, -1, ""))])
        elif op in ("commit", "abort") and tid in known:
            before = txn.state if txn else None
            code = h.end(tid, pid, epoch, op == "commit", now=now)
            if before == ONGOING and txn.producer_epoch == epoch:
                assert code == E.NONE
        elif op == "stale_end" and tid in known:
            assert h.end(tid, pid, epoch - 1, True, now=now) in (E.PRODUCER_FENCED, E.INVALID_PRODUCER_ID_MAPPING)
        elif op == "advance":
            now += n * 3000
            h.tick(now)
        elif op == "defer":
            h.writer.defer = True
        elif op == "release":
            h.writer.defer = False
            for t in list(h.txns.values()):
                h.markers_written(t.transactional_id, now)
        for t in h.txns.values():
            assert t.producer_epoch >= epochs.get(t.transactional_id, 0), "epochs never go back"
            epochs[t.transactional_id] = t.producer_epoch
            if t.state in COMPLETED:
                assert not t.partitions and not t.groups and t.txn_start_ms == -1
            if t.state == ONGOING:
                assert t.txn_start_ms >= T0
            if not h.writer.defer:
                assert t.state not in PREPARING, "markers written at once: nothing stays prepared"
        stored = {key: value for key, value in h.store.scan(b"X")}
        for t in h.txns.values():
            assert TransactionMetadata.from_bytes(t.transactional_id, stored[txn_key(t.transactional_id)]) == t
    assert all(state in PREPARING for _, state in h.writer.calls), "markers go out only once the decision is stored"
    h.writer.defer = False
    again = h.reopened(now=now)
    for tid, txn in again.txns.items():
        assert txn.state not in PREPARING, "a restart completes whatever was decided"

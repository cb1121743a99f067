"""Random runs of the share-partition state machine (hypothesis): what must hold whatever members do."""

from hypothesis import given, settings, strategies as st

from gateway.share.partition import (
    ACKNOWLEDGED, ARCHIVED, AVAILABLE, AcknowledgeType, AcquireMode, Limits, RecordState, SharePartition,
)
from wire.errors import KafkaError

LIMITS = Limits(record_lock_duration_ms=100, delivery_count_limit=3, partition_max_record_locks=12,
                dead_letter_topic=False)
MEMBERS = ["a", "b", "c"]
LOG = [(0, 3), (4, 4), (5, 9), (10, 11), (12, 19), (20, 29)]  # the log's batches

step = st.one_of(
    st.tuples(st.just("acquire"), st.sampled_from(MEMBERS), st.integers(1, 8), st.sampled_from(list(AcquireMode))),
    st.tuples(st.just("ack"), st.sampled_from(MEMBERS), st.integers(0, 29), st.integers(0, 4),
              st.sampled_from([AcknowledgeType.ACCEPT, AcknowledgeType.RELEASE, AcknowledgeType.REJECT,
                               AcknowledgeType.GAP, AcknowledgeType.RENEW])),
    st.tuples(st.just("time"), st.integers(1, 150)),
    st.tuples(st.just("leave"), st.sampled_from(MEMBERS)),
    st.tuples(st.just("restart")),
    st.tuples(st.just("dlq")),
)
DLQ_LIMITS = Limits(record_lock_duration_ms=100, delivery_count_limit=3, partition_max_record_locks=12,
                    dead_letter_topic=True)


@settings(max_examples=300, deadline=None)
@given(st.lists(step, max_size=40), st.sampled_from([LIMITS, DLQ_LIMITS]))
def test_invariants_hold_under_any_sequence(steps, limits):
    p = SharePartition(0)
    now = 0
    delivered: dict[int, int] = {}  # offset -> deliveries seen
    done: set[int] = set()  # acknowledged or archived
    for s in steps:
        if s[0] == "acquire":
            _, member, max_records, mode = s
            batches = [b for b in LOG if b[1] >= p.next_fetch_offset()]
            got = p.acquire(member, batches, max_records=max_records, now_ms=now, limits=limits, mode=mode)
            taken = sum(a.last_offset - a.first_offset + 1 for a in got)
            if mode is AcquireMode.RECORD_LIMIT:
                assert taken <= max_records
            for a in got:
                for offset in range(a.first_offset, a.last_offset + 1):
                    assert offset not in done, "a finished record was delivered again"
                    delivered[offset] = delivered.get(offset, 0) + 1
                    assert a.delivery_count >= delivered[offset] and a.delivery_count <= limits.delivery_count_limit
                    assert p.holder(offset) == member
        elif s[0] == "ack":
            _, member, first, length, ack = s
            last = min(first + length, 29)
            before = [(p.state(o), p.holder(o)) for o in range(first, last + 1)]
            try:
                p.acknowledge(member, [(first, last, [ack])], now_ms=now, limits=limits, allow_renew=True)
            except KafkaError:
                assert [(p.state(o), p.holder(o)) for o in range(first, last + 1)] == before, "partly applied"
                continue
            assert all(h == member for _, h in before)
            if ack in (AcknowledgeType.ACCEPT, AcknowledgeType.REJECT, AcknowledgeType.GAP):
                done.update(range(first, last + 1))
        elif s[0] == "time":
            now += s[1]
            p.expire_locks(now, limits)
        elif s[0] == "leave":
            p.release_member(s[1], limits)
        elif s[0] == "dlq":  # the dead letters' DLQ write is durable
            assert limits.dead_letter_topic or not p.dead_letters
            p.archive_dead_letters([d.offset for d in p.dead_letters])
        else:
            p = SharePartition.restore(p.snapshot(), limits)
            assert all(p.state(o) is not RecordState.ACQUIRED for o in range(0, 30))
        # the SPSO never passes a record that is not finished, and sits on one that is not
        assert all(o in done or delivered.get(o, 0) >= limits.delivery_count_limit for o in range(p.start))
        if p.in_flight():
            assert p.state(p.start) not in (RecordState.ACKNOWLEDGED, RecordState.ARCHIVED)
        assert p.in_flight() <= limits.partition_max_record_locks + max(b - a + 1 for a, b in LOG)
        archiving = {o for o in range(p.start, p.end) if p.state(o) is RecordState.ARCHIVING}
        assert archiving == {d.offset for d in p.dead_letters}, "an Archiving record without its DLQ write, or back"
        for o in range(p.start, p.end):
            if p.state(o) is RecordState.AVAILABLE:
                assert p.delivery_count(o) < limits.delivery_count_limit
    assert ACKNOWLEDGED != AVAILABLE != ARCHIVED  # the imported constants are the states' values

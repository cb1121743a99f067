"""An incremental fetch session's caught-up partitions are left out at the read when the consumer was already
told their high watermark and log start offset (gateway/handlers/fetch.py `quiet`): what is left out is
exactly what the session's answer (Kafka's maybeUpdateResponseData) would drop, and nothing else."""

import pytest

from tests.gateway.test_fetch_sessions import answered, fetch
from tests.gateway.test_handlers import create, produce
from tests.gateway.test_log_lifecycle import delete_records
from wire.errors import ErrorCode
from wire.records import build_batch


@pytest.fixture
def client(broker):
    c = broker.client()
    yield c
    c.close()


def _session(client, name: str, partitions: int) -> int:
    create(client, name, partitions)
    for index in range(partitions):
        produce(client, name, build_batch([(b"k", b"v", [], 1000)]), partition=index)
    full = fetch(client, 0, 0, [(name, i, 0) for i in range(partitions)])
    assert full.error_code == ErrorCode.NONE and full.session_id != 0
    assert answered(full) == [(name, i) for i in range(partitions)]
    caught_up = fetch(client, full.session_id, 1, [(name, i, 1) for i in range(partitions)])
    assert (caught_up.error_code, answered(caught_up)) == (ErrorCode.NONE, [])
    return full.session_id


def test_a_caught_up_partition_whose_log_start_moved_is_still_answered(client):
    session = _session(client, "quiet-start", 3)
    assert delete_records(client, "quiet-start", 1, 1).error_code == ErrorCode.NONE  # log start 0 -> 1 = hw
    moved = fetch(client, session, 2, [])
    assert answered(moved) == [("quiet-start", 1)]
    entry = moved.responses[0].partitions[0]
    assert (entry.error_code, entry.log_start_offset, entry.high_watermark, entry.records) == (ErrorCode.NONE, 1, 1, b"")
    # told once: the next incremental fetch leaves it out again
    assert answered(fetch(client, session, 3, [])) == []


def test_quiet_partitions_are_left_out_and_the_others_answered_in_the_same_fetch(client):
    session = _session(client, "quiet-mix", 4)
    produce(client, "quiet-mix", build_batch([(b"k", b"w", [], 1001)]), partition=0)
    produce(client, "quiet-mix", build_batch([(b"k", b"w", [], 1001)]), partition=3)
    news = fetch(client, session, 2, [])
    assert answered(news) == [("quiet-mix", 0), ("quiet-mix", 3)]
    assert all(p.records and p.high_watermark == 2 for t in news.responses for p in t.partitions)
    # the consumer moves on partition 0 only: partition 3's records are sent again (its offset did not move),
    # partition 0 is caught up and was told hw 2: left out
    again = fetch(client, session, 3, [("quiet-mix", 0, 2)])
    assert answered(again) == [("quiet-mix", 3)]
    # a partition added to the session while caught up is answered once (nothing told about it yet)
    create(client, "quiet-more", 1)
    added = fetch(client, session, 4, [("quiet-more", 0, 0), ("quiet-mix", 3, 2)])
    assert answered(added) == [("quiet-more", 0)]
    assert answered(fetch(client, session, 5, [])) == []


def test_an_unknown_offset_in_a_session_is_still_an_error_every_time(client):
    session = _session(client, "quiet-error", 2)
    for epoch in (2, 3):  # an error is never "already told": each answer carries it
        wrong = fetch(client, session, epoch, [("quiet-error", 1, 5)] if epoch == 2 else [])
        assert answered(wrong) == [("quiet-error", 1)]
        assert wrong.responses[0].partitions[0].error_code == ErrorCode.OFFSET_OUT_OF_RANGE

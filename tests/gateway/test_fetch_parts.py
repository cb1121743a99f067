"""A Fetch's several stored batches go to the codec as parts (wire.codec.Parts), never joined first: the
response is byte for byte what one joined bytes value gives, with the same limits and aborted list."""

from gateway import malloc_tuning
from gateway.memory_pool import MemoryPool
from tests.gateway.inprocess import call, new_broker
from wire.codec import Parts, decode, encode
from wire.errors import ErrorCode
from wire.messages import APIS
from wire.records import build_batch, iter_batches

PRODUCE, FETCH, CREATE_TOPICS = 0, 1, 19


def _fetch_body(offset=0, partition_max_bytes=1 << 20, max_bytes=50 << 20, isolation_level=0):
    return {"replica_id": -1, "max_wait_ms": 0, "min_bytes": 1, "max_bytes": max_bytes,
            "isolation_level": isolation_level, "session_id": 0, "session_epoch": -1, "forgotten_topics_data": [],
            "rack_id": "", "topics": [{"topic": "t", "partitions": [
                {"partition": 0, "current_leader_epoch": -1, "fetch_offset": offset, "last_fetched_epoch": -1,
                 "log_start_offset": -1, "partition_max_bytes": partition_max_bytes}]}]}


def _broker_with_batches(count=5, records=3):
    broker = new_broker()
    call(broker, CREATE_TOPICS, 7, {"timeout_ms": 1000, "validate_only": False, "topics": [
        {"name": "t", "num_partitions": 1, "replication_factor": -1, "assignments": [], "configs": []}]})
    for i in range(count):
        batch = build_batch([(None, b"%d-%d" % (i, r) * 50, [], 1000 + i) for r in range(records)])
        answer = call(broker, PRODUCE, 9, {"transactional_id": None, "acks": -1, "timeout_ms": 1000,
                                           "topic_data": [{"name": "t", "partition_data": [
                                               {"index": 0, "records": batch}]}]})
        assert answer.responses[0].partition_responses[0].error_code == ErrorCode.NONE
    return broker


def test_parts_encode_as_their_concatenation():
    parts = [b"abc", b"", b"defgh"]
    for version in (4, 12, 16):  # int32 length prefix, compact uvarint (flexible versions)
        joined = {"partition_index": 0, "error_code": 0, "high_watermark": 1, "last_stable_offset": 1,
                  "log_start_offset": 0, "aborted_transactions": None, "preferred_read_replica": -1,
                  "records": b"abcdefgh"}
        body = {"throttle_time_ms": 0, "error_code": 0, "session_id": 0,
                "responses": [{"topic": "t", "topic_id": bytes(16), "partitions": [joined]}]}
        as_parts = {**body, "responses": [{**body["responses"][0], "partitions": [{**joined, "records": Parts(parts)}]}]}
        assert encode(APIS[FETCH].response, version, as_parts) == encode(APIS[FETCH].response, version, body)
    assert len(Parts(parts)) == 8 and bool(Parts(parts)) and not Parts([]) and Parts(parts).last == b"defgh"
    assert bytes(Parts(parts)) == b"abcdefgh"


def test_a_fetch_of_several_batches_returns_them_all_in_order():
    broker = _broker_with_batches()
    log = broker.logs.get("t").partition(0)
    assert isinstance(log.read(0, 1 << 20, joined=False), Parts)
    stored = log.read(0, 1 << 20)  # joined, as before
    assert isinstance(stored, bytes) and len(list(iter_batches(stored))) == 5
    for isolation_level in (0, 1):
        answer = call(broker, FETCH, 12, _fetch_body(isolation_level=isolation_level))
        partition = answer.responses[0].partitions[0]
        assert partition.error_code == ErrorCode.NONE and partition.records == stored
    # from the middle of the third batch (offsets 6-8): that batch whole, then the rest
    sizes = [len(b) for b in _split(stored)]
    answer = call(broker, FETCH, 12, _fetch_body(offset=7))
    assert answer.responses[0].partitions[0].records == stored[sizes[0] + sizes[1]:]


def test_limits_still_cut_at_whole_batches():
    broker = _broker_with_batches()
    stored = broker.logs.get("t").partition(0).read(0, 1 << 20)
    sizes = [len(b) for b in _split(stored)]
    answer = call(broker, FETCH, 12, _fetch_body(partition_max_bytes=sizes[0] + sizes[1] + 1))
    assert answer.responses[0].partitions[0].records == stored[:sizes[0] + sizes[1]]
    answer = call(broker, FETCH, 12, _fetch_body(partition_max_bytes=1))  # the first batch is always whole
    assert answer.responses[0].partitions[0].records == stored[:sizes[0]]


def _split(records: bytes) -> list[bytes]:
    from wire.records import split_batches

    bounds = [pos for pos, _ in split_batches(records)] + [len(records)]
    return [records[a:b] for a, b in zip(bounds, bounds[1:])]


def test_the_pool_gives_memory_back_after_a_burst_only(monkeypatch):
    calls = []
    monkeypatch.setattr(malloc_tuning, "give_back", lambda: calls.append(1))
    pool = MemoryPool()
    for _ in range(3):  # steady responses below the burst size: their memory is reused
        pool.charge(8 << 20)
        pool.release(8 << 20)
    assert calls == []
    pool.charge(10 << 20)
    pool.charge(10 << 20)
    pool.release(10 << 20)
    assert calls == []  # not empty yet
    pool.release(10 << 20)
    assert calls == [1] and pool.peak == 0
    pool.charge(1 << 20)
    pool.release(1 << 20)
    assert calls == [1]


def test_a_big_fetch_response_is_encoded_as_pieces_that_hold_the_records_as_stored():
    from wire.codec import GATHER_TOTAL_MIN_BYTES

    broker = _broker_with_batches(count=8, records=400)  # 8 x ~90 KB: each batch its own piece
    stored = broker.logs.get("t").partition(0).read(0, 1 << 20)
    assert len(stored) >= GATHER_TOTAL_MIN_BYTES
    answer = call(broker, FETCH, 12, _fetch_body())
    body = {"throttle_time_ms": 0, "error_code": 0, "session_id": 0, "responses": [
        {"topic": "t", "topic_id": bytes(16), "partitions": [{
            "partition_index": 0, "error_code": 0, "high_watermark": 1, "last_stable_offset": 1,
            "log_start_offset": 0, "aborted_transactions": None, "preferred_read_replica": -1,
            "records": Parts(_split(stored))}]}]}
    for version in (4, 12, 16):
        gathered = encode(APIS[FETCH].response, version, body, gather=True)
        assert isinstance(gathered, Parts) and len(gathered) == len(encode(APIS[FETCH].response, version, body))
        assert b"".join(gathered.parts) == encode(APIS[FETCH].response, version, body)
        assert sum(1 for piece in gathered.parts if any(piece is b for b in body["responses"][0]["partitions"][0]
                                                         ["records"].parts)) == 8  # the stored bytes, not copies
    # through the handler and the codec as the pipeline runs them: the same bytes as before
    assert answer.responses[0].partitions[0].records == stored
    small = {**body, "responses": [{**body["responses"][0], "partitions": [
        {**body["responses"][0]["partitions"][0], "records": stored[:40_000]}]}]}
    assert isinstance(encode(APIS[FETCH].response, 12, small, gather=True), bytes)  # small: one bytes

"""Dispatch over real sockets: ApiVersions from the registry, ordering, acks=0, and hostile input."""

import socket
import struct
import time

import pytest

from gateway import handlers  # noqa: F401  (fills the registry)
from gateway.registry import HANDLERS
from wire.errors import ErrorCode
from wire.records import build_batch

PRODUCE, FETCH, METADATA, API_VERSIONS = 0, 1, 3, 18


@pytest.mark.parametrize("version", [0, 1, 2, 3, 4])
def test_api_versions_lists_the_registry(broker, version):
    client = broker.client()
    response = client.request(API_VERSIONS, version, {"client_software_name": "t", "client_software_version": "1"})
    assert response.error_code == ErrorCode.NONE
    advertised = {k.api_key: (k.min_version, k.max_version) for k in response.api_keys}
    assert advertised == {key: (r.advertised_min, r.max_version) for key, r in HANDLERS.items()}
    assert advertised[PRODUCE][0] == 0 and advertised[PRODUCE][1] >= 11
    client.close()


def test_newer_api_versions_gets_unsupported_version_with_a_v0_body(broker):
    client = broker.client()
    header = struct.pack(">hhih", API_VERSIONS, 99, 5, 1) + b"x" + b"\x00"
    client.send_raw(struct.pack(">i", len(header) + 1) + header + b"\x00")
    correlation_id, response = client.recv(API_VERSIONS, 0)
    assert correlation_id == 5
    assert response.error_code == ErrorCode.UNSUPPORTED_VERSION
    assert any(k.api_key == METADATA for k in response.api_keys)
    client.close()


def _produce(name, records, acks=1, version=9):
    return {"transactional_id": None, "acks": acks, "timeout_ms": 1000,
            "topic_data": [{"name": name, "partition_data": [{"index": 0, "records": records}]}]}


def test_produce_v2_is_refused_with_unsupported_version(broker):
    client = broker.client()
    batch = build_batch([(b"k", b"v", [], 1000)])
    response = client.request(PRODUCE, 2, _produce("old-produce", batch))
    assert response.responses[0].partition_responses[0].error_code == ErrorCode.UNSUPPORTED_VERSION
    client.close()


def test_acks_zero_gets_no_response_but_later_requests_do(broker):
    client = broker.client()
    client.send(PRODUCE, 9, _produce("acks-zero", build_batch([(None, b"v", [], 1000)]), acks=0))
    sent = client.send(METADATA, 9, {"topics": [{"name": "acks-zero"}], "allow_auto_topic_creation": False})
    correlation_id, response = client.recv(METADATA, 9)
    assert correlation_id == sent
    assert response.topics[0].error_code == ErrorCode.NONE
    client.close()


def test_responses_return_in_request_order_even_when_a_fetch_waits(broker):
    client = broker.client()
    client.request(PRODUCE, 9, _produce("ordering", build_batch([(None, b"v", [], 1000)])))
    fetch = {"replica_id": -1, "max_wait_ms": 700, "min_bytes": 10_000_000, "max_bytes": 1 << 20,
             "isolation_level": 0, "session_id": 0, "session_epoch": -1,
             "topics": [{"topic": "ordering", "partitions": [{"partition": 0, "fetch_offset": 1,
                                                              "partition_max_bytes": 1 << 20}]}],
             "forgotten_topics_data": [], "rack_id": ""}
    started = time.monotonic()
    first = client.send(FETCH, 11, fetch)
    second = client.send(METADATA, 9, {"topics": None})
    assert client.recv(FETCH, 11)[0] == first
    assert client.recv(METADATA, 9)[0] == second
    assert time.monotonic() - started >= 0.6  # the metadata answer waited behind the long-polling fetch
    client.close()


def test_waiting_fetch_wakes_when_data_arrives(broker):
    client, producer = broker.client(), broker.client()
    producer.request(PRODUCE, 9, _produce("wakeup", build_batch([(None, b"a", [], 1000)])))
    fetch = {"replica_id": -1, "max_wait_ms": 5000, "min_bytes": 1, "max_bytes": 1 << 20,
             "isolation_level": 0, "session_id": 0, "session_epoch": -1,
             "topics": [{"topic": "wakeup", "partitions": [{"partition": 0, "fetch_offset": 1,
                                                            "partition_max_bytes": 1 << 20}]}],
             "forgotten_topics_data": [], "rack_id": ""}
    started = time.monotonic()
    client.send(FETCH, 11, fetch)
    time.sleep(0.2)
    producer.request(PRODUCE, 9, _produce("wakeup", build_batch([(None, b"b", [], 1000)])))
    _, response = client.recv(FETCH, 11)
    assert time.monotonic() - started < 2.5
    assert response.responses[0].partitions[0].records  # the new batch, not an empty timeout answer
    client.close()
    producer.close()


@pytest.mark.parametrize("garbage", [
    struct.pack(">i", -1),
    struct.pack(">i", 2**31 - 1) + b"\x00" * 16,
    struct.pack(">i", 8) + struct.pack(">hhi", 9999, 0, 1),       # unknown api key
    struct.pack(">i", 10) + struct.pack(">hhih", METADATA, 999, 1, -1),  # unsupported version
    struct.pack(">i", 12) + struct.pack(">hhih", METADATA, 9, 1, -1) + b"\xff\xff",  # truncated body
    struct.pack(">i", 3) + b"\x00\x03\x00",                        # truncated header
])
def test_hostile_input_closes_only_that_connection(broker, garbage):
    bystander = broker.client()
    victim = broker.client()
    victim.send_raw(garbage)
    assert victim.is_closed_by_peer()
    assert broker.alive()
    assert bystander.request(METADATA, 9, {"topics": None}).brokers[0].node_id == 1
    bystander.close()


def test_garbage_burst_from_many_connections_leaves_broker_serving(broker):
    import random

    rng = random.Random(7)
    for _ in range(30):
        s = socket.create_connection(broker.address)
        payload = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 200)))
        s.sendall(struct.pack(">i", len(payload)) + payload)
        s.close()
    assert broker.client().request(API_VERSIONS, 3, {}).error_code == ErrorCode.NONE


def _high_watermark(client, topic):
    response = client.request(2, 5, {"replica_id": -1, "isolation_level": 0, "topics": [
        {"name": topic, "partitions": [{"partition_index": 0, "current_leader_epoch": -1, "timestamp": -1}]}]})
    return response.topics[0].partitions[0].offset


@pytest.mark.parametrize("mangle, code", [
    (lambda b: b + b, ErrorCode.INVALID_RECORD),                          # two batches in one partition
    (lambda b: b[:21] + bytes([b[21] ^ 0xFF]) + b[22:], ErrorCode.CORRUPT_MESSAGE),  # CRC no longer matches
    (lambda b: b[:-3], ErrorCode.CORRUPT_MESSAGE),                        # truncated
    (lambda b: build_batch([(None, b"x" * 1_100_000, [], 1000)]), ErrorCode.MESSAGE_TOO_LARGE),
])
def test_bad_batches_get_kafka_errors_and_nothing_is_appended(broker, mangle, code):
    client = broker.client()
    topic = f"bad-batch-{code.name.lower()}-{id(mangle)}"
    good = build_batch([(b"k", b"v", [], 1000)])
    assert client.request(PRODUCE, 9, _produce(topic, good)).responses[0].partition_responses[0].error_code == 0
    answer = client.request(PRODUCE, 9, _produce(topic, mangle(good))).responses[0].partition_responses[0]
    assert answer.error_code == code
    assert _high_watermark(client, topic) == 1
    client.close()


def test_zstd_needs_produce_v7(broker):
    client = broker.client()
    batch = build_batch([(None, b"z" * 100, [], 1000)], compression=4)
    old = client.request(PRODUCE, 6, _produce("zstd-old", batch)).responses[0].partition_responses[0]
    assert old.error_code == ErrorCode.UNSUPPORTED_COMPRESSION_TYPE
    new = client.request(PRODUCE, 7, _produce("zstd-old", batch)).responses[0].partition_responses[0]
    assert new.error_code == ErrorCode.NONE
    client.close()

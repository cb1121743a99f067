"""The protocol trace, the registry of live connections and the compatibility report, in process: a fake
transport drives the pipeline; the trace file, the live report and the report replayed from the file agree."""

from __future__ import annotations

import json
import struct

import pytest

from gateway.report import Compatibility, from_trace_files, to_markdown
from gateway.trace import TraceWriter, answered_errors, summarize
from tests.gateway.test_pipeline import (
    API_VERSIONS, FakeTransport, fetch, make, metadata, request, run, settle,
)
from wire.frames import frame
from wire.messages import APIS
from wire.records import build_batch

CODEC_LZ4 = 3
SOFTWARE = {"client_software_name": "test-client", "client_software_version": "9.9"}


def produce_request(correlation_id: int, *, compression=0, transactional_id=None, producer_id=-1) -> bytes:
    batch = build_batch([(None, b"x" * 200, [], 1000)] * 5, compression=compression, producer_id=producer_id,
                        producer_epoch=0 if producer_id >= 0 else -1, base_sequence=0 if producer_id >= 0 else -1,
                        transactional=transactional_id is not None)
    return request(0, 9, {"transactional_id": transactional_id, "acks": -1, "timeout_ms": 1000, "topic_data": [
        {"name": "t", "partition_data": [{"index": 0, "records": batch}]}]}, correlation_id)


def observed(tmp_path, max_bytes=None):
    broker, transport, pipeline = make()
    broker.logs.create_topic("t", 1)
    trace = str(tmp_path / "trace.jsonl")
    broker.clients.observe(trace, max_bytes)
    transport2 = FakeTransport()
    from gateway.pipeline import RequestPipeline

    pipeline = RequestPipeline(broker, transport2, connection_id="c-2", peer="127.0.0.1:6666")
    transport2.pipeline = pipeline
    return broker, transport2, pipeline, trace


def lines(path) -> list[dict]:
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_off_by_default_the_registry_knows_the_connection_and_nothing_is_observed():
    async def main():
        broker, transport, pipeline = make()
        pipeline.receive_data(request(API_VERSIONS, 3, SOFTWARE, 1) + metadata(2))
        await settle()
        assert [c for c, _ in transport.frames()] == [1, 2]
        assert broker.clients.observer is None and broker.clients.report() is None
        [entry] = broker.clients.entries()
        assert (entry["connection_id"], entry["peer"], entry["software_name"], entry["software_version"],
                entry["principal"], entry["listener"]) == ("c-1", "127.0.0.1:5555", "test-client", "9.9",
                                                             "User:ANONYMOUS", "PLAINTEXT")
        assert entry["requests"] == 0 and entry["apis"] == {}  # per-request facts only while observing
        pipeline.connection_lost()
        assert broker.clients.entries() == []
    run(main())


def test_every_request_is_one_line_with_its_summary_errors_and_sizes(tmp_path):
    async def main():
        broker, transport, pipeline, trace = observed(tmp_path)
        stream = (request(API_VERSIONS, 3, SOFTWARE, 1) + produce_request(2, compression=CODEC_LZ4, producer_id=0)
                  + produce_request(3, transactional_id="tx-1", producer_id=0)
                  + request(1, 11, {"replica_id": -1, "max_wait_ms": 0, "min_bytes": 0, "max_bytes": 1 << 20,
                                    "isolation_level": 1, "session_id": 0, "session_epoch": 0, "rack_id": "",
                                    "forgotten_topics_data": [], "topics": [
                                        {"topic": "t", "partitions": [{"partition": 0, "fetch_offset": 0,
                                                                       "partition_max_bytes": 1 << 20}]},
                                        {"topic": "absent", "partitions": [{"partition": 3, "fetch_offset": 0,
                                                                            "partition_max_bytes": 1 << 20}]}]}, 4))
        pipeline.receive_data(stream)
        await settle(40)
        answers = transport.frames()
        assert [c for c, _ in answers] == [1, 2, 3, 4]
        broker.clients.close()
        found = lines(trace)
        assert [(l["api"], l["version"], l["correlation_id"]) for l in found] == [
            ("ApiVersions", 3, 1), ("Produce", 9, 2), ("Produce", 9, 3), ("Fetch", 11, 4)]
        for line, (_, payload) in zip(found, answers):
            assert line["connection"] == "c-2" and line["client_id"] == "pipeline-test"
            assert (line["client_software_name"], line["client_software_version"]) == ("test-client", "9.9")
            assert line["bytes_out"] == len(payload) + 4 and line["bytes_in"] > 0 and line["latency_ms"] >= 0
        assert found[1]["request"]["topics"] == {"t": [0]}
        assert found[1]["request"]["codecs"] == ["lz4"] and found[1]["request"]["features"] == ["idempotence"]
        assert found[1]["errors"] == {}
        # a transactional produce to a partition never added to a transaction: the error is in the line
        assert found[2]["request"]["transactional_id"] == "tx-1"
        assert found[2]["request"]["features"] == ["idempotence", "transactions"]
        assert found[2]["errors"] == {"INVALID_TXN_STATE": 1}
        fetched = found[3]["request"]
        assert fetched["topics"] == {"absent": [3], "t": [0]} and fetched["isolation_level"] == "read_committed"
        assert fetched["fetch_session"] is True
        assert found[3]["errors"] == {"UNKNOWN_TOPIC_OR_PARTITION": 1}
        entry = next(e for e in broker.clients.entries() if e["connection_id"] == "c-2")
        assert entry["apis"] == {"ApiVersions": [3], "Fetch": [11], "Produce": [9]} and entry["requests"] == 4
    run(main())


def test_refused_requests_say_why(tmp_path):
    async def main():
        broker, transport, pipeline, trace = observed(tmp_path)
        newer = struct.pack(">hhih", API_VERSIONS, 99, 1, 1) + b"x" + b"\x00"  # UNSUPPORTED_VERSION, v0 body
        pipeline.receive_data(frame(newer))
        await settle()
        produce_v99 = frame(struct.pack(">hhih", 0, 99, 3, 1) + b"x" + b"\x00")
        pipeline.receive_data(request(API_VERSIONS, 3, SOFTWARE, 2) + produce_v99)
        await settle()
        assert transport.closed
        broker.clients.close()
        found = lines(trace)
        assert [(l["api"], l["version"], l["errors"], l["refused"] is not None) for l in found] == [
            ("ApiVersions", 99, {"UNSUPPORTED_VERSION": 1}, False), ("ApiVersions", 3, {}, False),
            ("Produce", 99, {}, True)]
        assert "does not serve this API version" in found[2]["refused"]
        [client] = [c for c in broker.clients.report()["clients"] if c["software_sent"]]
        assert {(r["api"], r["version"]) for r in client["refused"]} == {("Produce", 99)}
        [unnamed] = [c for c in broker.clients.report()["clients"] if not c["software_sent"]]
        assert unnamed["client_ids"] == ["x"] and unnamed["refused"] == [
            {"api": "ApiVersions", "version": 99, "reason": "UNSUPPORTED_VERSION", "count": 1}]
    run(main())


def test_the_live_report_and_the_report_from_the_trace_file_agree(tmp_path):
    async def main():
        broker, transport, pipeline, trace = observed(tmp_path)
        pipeline.receive_data(request(API_VERSIONS, 3, SOFTWARE, 1) + produce_request(2, compression=CODEC_LZ4)
                              + fetch("t", 3))
        await settle(40)
        broker.clients.close()
        live = broker.clients.report()
        assert live == from_trace_files(trace).report()
        [client] = live["clients"]
        assert client["apis"] == {"ApiVersions": {"3": 1}, "Fetch": {"11": 1}, "Produce": {"9": 1}}
        assert client["codecs"] == ["lz4"] and client["isolation_levels"] == ["read_uncommitted"]
        assert client["fetch_sessions"] is False and client["refused"] == []
        text = to_markdown(live, "test")
        assert "## test-client 9.9" in text and "| Produce | v9 (1) |" in text
        assert "compression codecs produced: lz4" in text and "Refused by Ottla: nothing." in text
    run(main())


def test_the_trace_rotates_past_its_bound_and_is_read_back_in_order(tmp_path):
    path = str(tmp_path / "t.jsonl")
    writer = TraceWriter(path, max_bytes=2048)
    for i in range(100):
        writer.write({"api_key": 3, "api": "Metadata", "version": 12, "correlation_id": i, "client_id": "c",
                      "time": f"t{i:03d}", "pad": "x" * 50})
    writer.close()
    assert writer.rotations > 0
    for part in (path, path + ".1"):
        assert (tmp_path / part).stat().st_size <= 2048
    with open(path, "a") as f:
        f.write('{"cut": tru\n')  # a line a kill -9 cut short
    compat = from_trace_files(path)
    assert compat.skipped == 1
    kept = compat.lines
    assert 0 < kept < 100
    [client] = compat.report()["clients"]
    assert client["last_seen"] == "t099" and client["requests"] == kept
    with pytest.raises(ValueError):
        TraceWriter(str(tmp_path / "small"), max_bytes=10)


def test_answered_errors_finds_every_nested_error_code_and_its_message():
    response = {"error_code": 0, "topics": [
        {"name": "a", "partitions": [{"partition_index": 0, "error_code": 6, "error_message": "not the leader"},
                                     {"partition_index": 1, "error_code": 6}]},
        {"name": "b", "partitions": [{"partition_index": 0, "error_code": 0}], "topic_error_code": 3}],
        "records": b"\x00\x01", "ids": [1, 2]}
    counts, messages = answered_errors(response)
    assert counts == {"NOT_LEADER_OR_FOLLOWER": 2, "UNKNOWN_TOPIC_OR_PARTITION": 1}
    assert messages == {"NOT_LEADER_OR_FOLLOWER": "not the leader"}


def test_summaries_of_group_protocols_and_transactions():
    from wire.codec import decode, encode

    def decoded(key, version, body):
        api = APIS[key]
        return summarize(api, version, decode(api.request, version, encode(api.request, version, body)), lambda t: None)

    join = decoded(11, 5, {"group_id": "g", "session_timeout_ms": 10000, "rebalance_timeout_ms": 10000,
                           "member_id": "", "group_instance_id": None, "protocol_type": "consumer",
                           "protocols": [{"name": "range", "metadata": b""}, {"name": "cooperative-sticky",
                                                                             "metadata": b""}]})
    assert (join["group_protocol"], join["assignors"], join["groups"]) == ("classic", ["range", "cooperative-sticky"],
                                                                          ["g"])
    heartbeat = decoded(68, 0, {"group_id": "g", "member_id": "m", "member_epoch": 0, "instance_id": None,
                                "rack_id": None, "rebalance_timeout_ms": 1000, "subscribed_topic_names": ["t"],
                                "server_assignor": "uniform", "topic_partitions": []})
    assert (heartbeat["group_protocol"], heartbeat["assignors"]) == ("consumer", ["uniform"])
    init = decoded(22, 4, {"transactional_id": "tx", "transaction_timeout_ms": 1000, "producer_id": -1,
                           "producer_epoch": -1})
    assert init["transactional_id"] == "tx" and init["features"] == ["idempotence", "transactions"]


def test_the_report_is_bounded():
    from gateway import report

    compat = Compatibility()
    for i in range(report.MAX_CLIENTS + 5):
        compat.add({"client_software_name": "sw", "client_software_version": str(i), "api": "Metadata",
                    "api_key": 3, "version": 12, "client_id": "c"})
    clients = compat.report()["clients"]
    assert len(clients) == report.MAX_CLIENTS + 1
    [other] = [c for c in clients if c["software_name"] == "other clients"]
    assert other["requests"] == 5


def test_get_v1_clients_serves_the_connections_and_the_report(tmp_path):
    from aiohttp.test_utils import TestClient, TestServer

    from gateway.http.app import build_app

    async def main():
        broker, transport, pipeline, trace = observed(tmp_path)
        pipeline.receive_data(request(API_VERSIONS, 3, SOFTWARE, 1) + metadata(2))
        await settle()
        async with TestClient(TestServer(build_app(broker))) as client:
            answer = await (await client.get("/v1/clients")).json()
            markdown = await (await client.get("/v1/clients/report.md")).text()
        connection = next(c for c in answer["connections"] if c["connection_id"] == "c-2")
        assert (connection["software_name"], connection["apis"]) == ("test-client",
                                                                   {"ApiVersions": [3], "Metadata": [9]})
        assert answer["report"]["clients"][0]["software_name"] == "test-client"
        assert "## test-client 9.9" in markdown
    run(main())


def _field(number: int, payload: bytes) -> bytes:
    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
            n >>= 7
            if not n:
                return bytes(out)
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def test_pushed_kip_714_metrics_are_named_from_their_otlp_bytes():
    import cramjam

    from gateway.clients import pushed_metric_names

    metrics = [_field(1, name.encode()) + b"\x10\x01" for name in ("org.apache.kafka.producer.node.request.latency.avg",
                                                                 "org.apache.kafka.client.connection.creation.rate")]
    data = _field(1, _field(1, b"resource") + _field(2, b"".join(_field(2, m) for m in metrics)))
    expected = ["org.apache.kafka.client.connection.creation.rate", "org.apache.kafka.producer.node.request.latency.avg"]
    assert pushed_metric_names(0, data) == expected
    assert pushed_metric_names(4, bytes(cramjam.zstd.compress(data))) == expected
    assert pushed_metric_names(0, b"\x0a\x7f\x01")[0].startswith("(undecodable")

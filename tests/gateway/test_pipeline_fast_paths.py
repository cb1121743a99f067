"""The pipeline's per-request shortcuts (issue 14, pipeline) answer exactly as the long way did: the
response frame packed in one struct, the request logger bound once per kind of request, the
RequestContext built positionally."""

from __future__ import annotations

import asyncio
import dataclasses
import struct

from gateway.registry import RequestContext
from tests.gateway.test_pipeline import (
    API_VERSIONS, METADATA, api_versions, make, metadata, request, run, settle,
)
from wire.frames import frame
from wire.headers import response_header

HEARTBEAT = 12


def test_request_context_fields_are_in_the_order_the_pipeline_passes_them():
    # _dispatch_decoded builds RequestContext positionally (keywords cost ~0.5 us a request)
    names = [f.name for f in dataclasses.fields(RequestContext)]
    assert names[:12] == ["broker", "api_key", "api_version", "correlation_id", "client_id", "log", "peer",
                          "connection_id", "principal", "listener_name", "throttle_ms", "node"]


def test_the_context_a_handler_sees_carries_the_connection_and_the_request():
    async def main():
        broker, transport, pipeline = make()
        pipeline.principal = "User:alice"
        seen = []
        original = pipeline.authorize
        pipeline.authorize = lambda ctx, reg: seen.append(ctx) or original(ctx, reg)
        pipeline.receive_data(metadata(41))
        await settle()
        (ctx,) = seen
        assert (ctx.broker, ctx.api_key, ctx.api_version, ctx.correlation_id, ctx.client_id) == (
            broker, METADATA, 9, 41, "pipeline-test")
        assert (ctx.peer, ctx.connection_id, ctx.principal, ctx.listener_name, ctx.throttle_ms, ctx.node,
                ctx.sasl) == ("127.0.0.1:5555", "c-1", "User:alice", "PLAINTEXT", 0, None, None)
        assert [c for c, _ in transport.frames()] == [41]
    run(main())


def test_response_frames_are_byte_identical_to_size_plus_header_plus_body():
    # response header v1 (Metadata v9, Heartbeat v4: flexible) and v0 (v8, v0; ApiVersions always v0)
    async def main():
        cases = [(METADATA, 9, metadata(7)), (METADATA, 8, request(METADATA, 8, {
            "topics": None, "allow_auto_topic_creation": False, "include_cluster_authorized_operations": False,
            "include_topic_authorized_operations": False}, 8)), (API_VERSIONS, 3, api_versions(9)),
            (HEARTBEAT, 4, request(HEARTBEAT, 4, {"group_id": "g", "generation_id": 1, "member_id": "m",
                                                  "group_instance_id": None}, 10)),
            (HEARTBEAT, 0, request(HEARTBEAT, 0, {"group_id": "g", "generation_id": 1, "member_id": "m"}, 11))]
        for api_key, version, data in cases:
            _, transport, pipeline = make()
            pipeline.receive_data(data)
            await settle()
            sent = bytes(transport.sent)
            correlation_id = struct.unpack_from(">i", data, 8)[0]
            head = response_header(api_key, version, correlation_id)
            (size,) = struct.unpack_from(">i", sent)
            assert size == len(sent) - 4, (api_key, version)
            assert sent[4:4 + len(head)] == head, (api_key, version)
            assert sent == frame(head + sent[4 + len(head):])
    run(main())


def test_the_request_logger_is_bound_once_per_kind_of_request_and_rebound_when_the_connection_logger_changes():
    async def main():
        _, transport, pipeline = make()
        logs = []
        original = pipeline.authorize
        pipeline.authorize = lambda ctx, reg: logs.append(ctx.log) or original(ctx, reg)
        pipeline.receive_data(metadata(1) + metadata(2) + api_versions(3))
        await settle()
        assert logs[0] is logs[1] and logs[2] is not logs[0]
        assert logs[0]._context == {**pipeline.log._context, "client_id": "pipeline-test", "api": "Metadata",
                                    "api_version": 9}
        assert logs[2]._context["api"] == "ApiVersions"
        pipeline.log = pipeline.log.bind(principal="User:bob")  # what SaslPipeline does once authenticated
        pipeline.receive_data(metadata(4))
        await settle()
        assert logs[3] is not logs[0] and logs[3]._context["principal"] == "User:bob"
        assert logs[3]._context["api"] == "Metadata"
        assert [c for c, _ in transport.frames()] == [1, 2, 3, 4]
    run(main())


def test_the_bound_loggers_a_connection_keeps_are_bounded():
    from gateway.pipeline import BOUND_LOGS

    async def main():
        _, transport, pipeline = make()
        for i in range(BOUND_LOGS * 3):  # a client changing its client id every request
            data = metadata(i)
            client = f"c{i:09d}".encode()  # the same length as "pipeline-test" keeps the frame valid
            data = data.replace(b"pipeline-test", client[:13].ljust(13, b"x"))
            pipeline.receive_data(data)
            await settle(2)
            assert len(pipeline._bound_logs) <= BOUND_LOGS
        await settle()
        assert len(transport.frames()) == BOUND_LOGS * 3
    run(main())



def test_a_request_past_the_loop_element_limit_is_decoded_and_encoded_on_the_codec_worker(monkeypatch):
    # the pipeline tries the codec on the loop itself; past LOOP_ELEMENTS it hands over to the worker
    import threading

    from gateway import offload
    from gateway.offload import LOOP_ELEMENTS
    from wire.codec import decode as real_decode, encode as real_encode

    threads = []
    monkeypatch.setattr(offload, "decode", lambda *a: threads.append(("decode", threading.current_thread().name))
                        or real_decode(*a))
    monkeypatch.setattr(offload, "encode", lambda *a: threads.append(("encode", threading.current_thread().name))
                        or real_encode(*a))

    async def main():
        _, transport, pipeline = make()
        names = [f"t{i}" for i in range(LOOP_ELEMENTS + 100)]
        pipeline.receive_data(request(METADATA, 9, {"topics": [{"name": n} for n in names],
                                                    "allow_auto_topic_creation": False,
                                                    "include_topic_authorized_operations": False}, 5))
        for _ in range(800):  # the worker's time: up to 8 s
            await asyncio.sleep(0.01)
            if transport.sent:
                break
        ((correlation_id, response),) = transport.responses(METADATA, 9)
        assert correlation_id == 5 and [t.name for t in response.topics] == names
        assert [kind for kind, _ in threads] == ["decode", "encode"]
        assert all(name.startswith("ottla-codec") for _, name in threads)
        assert pipeline.pool.used == 0 and pipeline.idle
    run(main())


def test_a_reads_answers_go_out_in_one_write_in_request_order():
    # ARCHITECTURE.md: a loop turn's finished responses go out in one write (one send a connection a turn)
    from tests.gateway.test_pipeline import PRODUCE, produce

    async def main():
        _, transport, pipeline = make()
        writes, writelines = [], transport.writelines
        transport.writelines = lambda data: (writelines(data), writes.append([c for c, _ in transport.frames()]))
        pipeline.receive_data(b"".join(produce("t", b"v%d" % i, i) for i in (1, 2, 3)) + api_versions(4))
        assert writes == [[1, 2, 3, 4]]
        pipeline.receive_data(b"".join(produce("t", b"v%d" % i, i) for i in (5, 6)))
        assert writes == [[1, 2, 3, 4], [5, 6]]
        await settle()
        assert pipeline.idle and pipeline.pool.used == 0

    run(main())

    async def stored_in_order():  # and one partition's appends in request order
        _, transport, pipeline = make()
        pipeline.receive_data(b"".join(produce("t", b"v%d" % i, i) for i in range(1, 6)))
        answers = transport.responses(PRODUCE, 9)
        assert [c for c, _ in answers] == [1, 2, 3, 4, 5]
        assert [r.responses[0].partition_responses[0].base_offset for _, r in answers] == [0, 1, 2, 3, 4]
    run(stored_in_order())

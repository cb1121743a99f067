"""Produce acks=0 that fails (here: TOPIC_AUTHORIZATION_FAILED) gets its connection closed, as Kafka's
KafkaApis.handleProduceRequest does: no response can carry the error, so the client learns by the
close. The responses before it are sent first; a successful acks=0 produce leaves the connection open
(pipeline over a fake transport, memory engine)."""

from __future__ import annotations

import structlog

from gateway.security.acls import AclBinding, Operation as Op, PatternType as P, Permission as Perm, ResourceType as R
from tests.gateway.test_pipeline import METADATA, PRODUCE, make, metadata, request, run, settle
from wire.records import build_batch

ALICE = "User:alice"


def produce(topic: str, correlation_id: int, acks: int = 0) -> bytes:
    return request(PRODUCE, 9, {"transactional_id": None, "acks": acks, "timeout_ms": 1000, "topic_data": [
        {"name": topic, "partition_data": [{"index": 0, "records": build_batch([(None, b"v", [], 1000)])}]}]},
        correlation_id)


def secured():
    broker, transport, pipeline = make(authorizer=True)
    for name in ("open", "closed"):
        broker.logs.create_topic(name, 1)
    broker.authorizer.acls.add([AclBinding(R.TOPIC, "open", P.LITERAL, ALICE, "*", Op.WRITE, Perm.ALLOW)])
    pipeline.principal = ALICE
    return broker, transport, pipeline


def test_acks0_refused_closes_after_the_earlier_responses_and_logs_why():
    async def main():
        broker, transport, pipeline = secured()
        with structlog.testing.capture_logs() as logs:
            pipeline.receive_data(metadata(1) + produce("closed", 2) + metadata(3))
            await settle()
        assert transport.closed
        assert [c for c, _ in transport.responses(METADATA, 9)] == [1]  # the one before; nothing after
        assert broker.logs.get("closed").partition(0).high_watermark == 0
        closing = [e for e in logs if e["event"] == "produce_acks0_failed_connection_closed"]
        assert len(closing) == 1
        assert closing[0]["errors"] == {"closed-0": "TOPIC_AUTHORIZATION_FAILED"}
        assert closing[0]["principal"] == ALICE and closing[0]["correlation_id"] == 2
    run(main())


def test_acks0_allowed_is_appended_silently_and_the_connection_stays_open():
    async def main():
        broker, transport, pipeline = secured()
        pipeline.receive_data(produce("open", 1) + metadata(2))
        await settle()
        assert not transport.closed
        assert [c for c, _ in transport.responses(METADATA, 9)] == [2]
        assert broker.logs.get("open").partition(0).high_watermark == 1
    run(main())


def test_acks1_refused_is_answered_not_closed():
    async def main():
        _, transport, pipeline = secured()
        pipeline.receive_data(produce("closed", 1, acks=1))
        await settle()
        assert not transport.closed
        (_, response), = transport.responses(PRODUCE, 9)
        assert response.responses[0].partition_responses[0].error_code == 29  # TOPIC_AUTHORIZATION_FAILED
    run(main())

"""KIP-219 in the pipeline (fake transport): a Produce over producer_byte_rate is answered at once with
throttle_time_ms, then the connection is neither read nor served until the throttle time has passed;
a throttled Fetch carries no records."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from tests.gateway.test_pipeline import FETCH, PRODUCE, fetch, make, produce, run, settle


def set_quota(broker, key: str, value: float) -> None:
    broker.quotas.alter([SimpleNamespace(entity_type="client-id", entity_name="pipeline-test")],
                        [SimpleNamespace(key=key, value=value, remove=False)], validate_only=False)


def test_a_throttled_produce_is_answered_then_the_connection_is_muted():
    async def main():
        broker, transport, pipeline = make()
        broker.logs.create_topic("t", 1)
        set_quota(broker, "producer_byte_rate", 100.0)  # 1,000 bytes allowed over the 10 s window
        pipeline.receive_data(produce("t", b"x" * 2000, 1))
        await settle()
        (correlation_id, response), = transport.responses(PRODUCE, 9)
        assert correlation_id == 1 and response.throttle_time_ms > 0
        assert not transport.reading and pipeline._muted
        pipeline.receive_data(produce("t", b"y", 2))  # bytes already in flight wait for the mute to end
        await settle()
        assert transport.responses(PRODUCE, 9) == []
        pipeline._mute_timer.cancel()
        pipeline._unmute()  # what the timer does once throttle_time_ms has passed
        await settle()
        assert [c for c, _ in transport.responses(PRODUCE, 9)] == [2]
    run(main())


def test_a_throttled_fetch_carries_no_records_and_within_quota_it_does():
    async def main():
        broker, transport, pipeline = make()
        broker.logs.create_topic("t", 1)
        pipeline.receive_data(produce("t", b"z" * 5000, 1))
        await settle()
        transport.frames()
        set_quota(broker, "consumer_byte_rate", 1000.0)  # 10,000 bytes over the window
        pipeline.receive_data(fetch("t", 2))
        await settle()
        (_, first), = transport.responses(FETCH, 11)
        assert first.throttle_time_ms == 0 and len(first.responses[0].partitions[0].records) > 5000
        pipeline.receive_data(fetch("t", 3))
        await settle()
        (_, second), = transport.responses(FETCH, 11)
        assert second.throttle_time_ms > 0 and not second.responses[0].partitions[0].records
    run(main())

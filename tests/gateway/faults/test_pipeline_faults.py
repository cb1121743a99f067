"""Faults on the request path (fake transport): errors answered in place of the handler, latency,
dropped connections, and the stored log left untouched."""

from __future__ import annotations

import asyncio

from tests.gateway.test_pipeline import FETCH, PRODUCE, fetch, make, produce, run, settle
from wire.errors import ErrorCode


async def wait_for(predicate, timeout=5.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.005)


def test_an_injected_error_answers_in_place_of_the_handler_and_stores_nothing():
    async def main():
        broker, transport, pipeline = make()
        fault = broker.faults.add({"api": "Produce", "error": "NOT_LEADER_OR_FOLLOWER", "count": 2})
        for correlation_id in (1, 2, 3):
            pipeline.receive_data(produce("t", b"v%d" % correlation_id, correlation_id))
            await settle()
        await wait_for(lambda: len(transport.sent) > 0 and pipeline.idle)
        answers = transport.responses(PRODUCE, 9)
        codes = [(c, r.responses[0].partition_responses[0].error_code) for c, r in answers]
        assert codes == [(1, ErrorCode.NOT_LEADER_OR_FOLLOWER), (2, ErrorCode.NOT_LEADER_OR_FOLLOWER), (3, 0)]
        assert answers[2][1].responses[0].partition_responses[0].base_offset == 0  # only the third was stored
        assert broker.logs.partition("t", 0).log_end_offset == 1
        assert fault.fired == 2 and not broker.faults.armed
    run(main())


def test_matchers_leave_other_topics_alone():
    async def main():
        broker, transport, pipeline = make()
        broker.faults.add({"api": "Produce", "error": "NOT_ENOUGH_REPLICAS", "topic": "bad"})
        pipeline.receive_data(produce("good", b"v", 1) + produce("bad", b"v", 2))
        await wait_for(lambda: pipeline.idle and len(transport.sent) > 0)
        await settle()
        codes = [r.responses[0].partition_responses[0].error_code for _, r in transport.responses(PRODUCE, 9)]
        assert codes == [0, ErrorCode.NOT_ENOUGH_REPLICAS]
        assert broker.faults.faults[1].fired == 1
    run(main())


def test_latency_delays_the_answer_and_then_it_is_handled():
    async def main():
        broker, transport, pipeline = make()
        broker.logs.create_topic("t", 1)
        broker.faults.add({"api": "Fetch", "delay_ms": 150, "count": 1})
        loop = asyncio.get_running_loop()
        started = loop.time()
        pipeline.receive_data(fetch("t", 1))
        await settle()
        assert transport.sent == bytearray()
        await wait_for(lambda: len(transport.sent) > 0)
        assert loop.time() - started >= 0.15
        (_, response), = transport.responses(FETCH, 11)
        assert response.responses[0].partitions[0].error_code == 0
    run(main())


def test_drop_connection_closes_without_answering():
    async def main():
        broker, transport, pipeline = make()
        fault = broker.faults.add({"api": "Produce", "drop_connection": True, "count": 1})
        pipeline.receive_data(produce("t", b"v", 1))
        await wait_for(lambda: transport.closed)
        assert transport.sent == bytearray() and fault.fired == 1
        assert broker.logs.get("t") is None or broker.logs.partition("t", 0).log_end_offset == 0
    run(main())


def test_no_fault_set_means_the_handler_is_not_wrapped():
    async def main():
        broker, transport, pipeline = make()
        assert pipeline._faults is broker.faults and not broker.faults.armed
        broker.faults.add({"api": "Metadata", "error": "UNKNOWN_SERVER_ERROR"})  # another API
        pipeline.receive_data(produce("t", b"v", 1))
        await wait_for(lambda: len(transport.sent) > 0)
        assert transport.responses(PRODUCE, 9)[0][1].responses[0].partition_responses[0].error_code == 0
        assert broker.faults.wrapped == {}
    run(main())

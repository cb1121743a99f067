"""The hot path's counting (gateway.metrics) through the real pipeline: nothing while broker.metrics
is None, requests/latency per API and bytes in/out per topic once it is set."""

from gateway.metrics import LATENCY_BUCKETS, Metrics
from tests.gateway.test_pipeline import fetch, make, metadata, produce, run, settle


def _stored(broker) -> int:
    return sum(s.size for s in broker.logs.partition("t", 0).segments)


def test_nothing_is_counted_without_the_http_server_and_everything_with_it():
    async def main():
        broker, transport, pipeline = make()
        pipeline.receive_data(metadata(1) + produce("t", b"v" * 100, 2))
        await settle()
        assert broker.metrics is None and len(transport.frames()) == 2
        before = _stored(broker)
        broker.metrics = metrics = Metrics()
        pipeline.receive_data(produce("t", b"w" * 200, 3))
        await settle()
        second = _stored(broker) - before
        pipeline.receive_data(fetch("t", 4) + metadata(5))
        await settle()
        assert len(transport.frames()) == 3
        assert metrics.messages_in == {"t": 1} and metrics.bytes_in == {"t": second}
        assert metrics.bytes_out == {"t": _stored(broker)}  # the fetch read both batches
        assert metrics.produce_requests == 1 and metrics.fetch_requests == 1
        assert sorted(api for api, _ in metrics.requests) == [0, 1, 3]  # Produce, Fetch, Metadata
        assert sum(metrics.requests.values()) == 3
        assert sum(metrics.latency[0][:-1]) == 1 and 0 <= metrics.latency[0][-1] < 10
        assert len(metrics.latency[0]) == len(LATENCY_BUCKETS) + 2
    run(main())

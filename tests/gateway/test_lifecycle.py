"""Start, SIGTERM and kill -9: acknowledged writes, topic ids and committed offsets survive both."""

import signal

import pytest

from tests.gateway.conftest import BrokerProcess
from tests.gateway.test_handlers import create, fetch, list_offset, produce
from wire.records import build_batch, iter_batches, iter_records

OFFSET_COMMIT, OFFSET_FETCH = 8, 9


def _commit(client, group, offset):
    client.request(OFFSET_COMMIT, 8, {"group_id": group, "generation_id_or_member_epoch": -1, "member_id": "",
                                      "group_instance_id": None, "topics": [{"name": "durable", "partitions": [
                                          {"partition_index": 0, "committed_offset": offset,
                                           "committed_leader_epoch": -1, "committed_metadata": "m"}]}]})


def _committed(client, group):
    response = client.request(OFFSET_FETCH, 7, {"group_id": group, "topics": None, "require_stable": True})
    return {(t.name, p.partition_index): p.committed_offset for t in response.topics for p in t.partitions}


@pytest.fixture
def start_broker():
    """Start brokers that are killed at teardown even when an assertion fails halfway."""
    started = []

    def start(*args):
        started.append(BrokerProcess(*args))
        return started[-1]

    yield start
    for broker in started:
        if broker.alive():
            broker.proc.kill()
            broker.proc.wait(10)


def test_kill9_and_sigterm_lose_nothing_acknowledged(tmp_path, start_broker):
    data = str(tmp_path / "data")
    broker = start_broker("--data-dir", data)
    client = broker.client()
    topic_id = create(client, "durable").topic_id
    for i in range(5):
        assert produce(client, "durable", build_batch([(b"k%d" % i, b"v%d" % i, [], 1000 + i)])).base_offset == i
    _commit(client, "g1", 3)
    client.close()
    broker.proc.send_signal(signal.SIGKILL)
    broker.proc.wait(10)

    broker = start_broker("--data-dir", data)
    client = broker.client()
    blob = fetch(client, "durable", 0).responses[0].partitions[0].records
    records = [r for _, batch in iter_batches(blob) for r in iter_records(batch)]
    assert [(r.offset, r.key, r.value) for r in records] == [(i, b"k%d" % i, b"v%d" % i) for i in range(5)]
    assert create(client, "durable").error_code == 36  # TOPIC_ALREADY_EXISTS: the topic came back
    assert _committed(client, "g1") == {("durable", 0): 3}
    assert produce(client, "durable", build_batch([(None, b"after", [], 2000)])).base_offset == 5
    client.close()
    assert broker.stop() == 0  # SIGTERM: a clean exit

    broker = start_broker("--data-dir", data)
    client = broker.client()
    assert list_offset(client, "durable", -1).offset == 6
    metadata = client.request(3, 12, {"topics": None, "allow_auto_topic_creation": False})
    assert {t.name: t.topic_id for t in metadata.topics}["durable"] == topic_id
    client.close()
    broker.stop()

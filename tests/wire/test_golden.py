"""Golden bytes: request frames captured from real clients (scripts/capture_golden.py): kafka-python,
aiokafka, librdkafka (confluent-kafka), kcat and kafkajs.

Each frame decodes, and re-encoding the decoded body gives back the client's exact bytes.
"""

from pathlib import Path

import pytest

from wire.codec import decode, encode
from wire.headers import decode_request_header
from wire.messages import APIS

GOLDEN = sorted((Path(__file__).parent / "golden").glob("*.bin"))


def _decode(path: Path):
    frame = path.read_bytes()
    header = decode_request_header(frame)
    message = APIS[header.api_key].request
    return frame, header, message, decode(message, header.api_version, frame, header.body_offset)


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_captured_request_round_trips_byte_for_byte(path):
    frame, header, message, body = _decode(path)
    assert encode(message, header.api_version, body) == frame[header.body_offset:]


def test_there_are_captures_from_every_client():
    clients = {p.stem.rsplit("-", 2)[0] for p in GOLDEN}
    assert {"kafka-python", "aiokafka", "librdkafka", "kcat", "kafkajs"} <= clients


def test_kafkajs_idempotent_produce_v7_carries_a_sequenced_batch():
    from wire.records import iter_records, split_batches

    _, header, _, body = _decode(Path(__file__).parent / "golden" / "kafkajs-0-v7.bin")
    assert header.client_id == "compat-kafkajs" and body.acks == -1
    records = body.topic_data[0].partition_data[0].records
    [(_, batch)] = split_batches(records)
    assert batch.producer_id >= 0 and batch.base_sequence == 0
    [record] = list(iter_records(records))
    assert (record.key, record.value, record.headers, record.timestamp) == (b"k", b"v", [("h", b"x")], 1000)


def test_librdkafka_api_versions_names_its_software():
    _, header, _, body = _decode(Path(__file__).parent / "golden" / "librdkafka-18-v3.bin")
    assert header.api_version == 3
    assert body.client_software_name == "confluent-kafka-python"


def test_librdkafka_produce_carries_one_magic2_batch_with_a_producer_id():
    from wire.records import split_batches

    _, _, _, body = _decode(Path(__file__).parent / "golden" / "librdkafka-0-v10.bin")
    records = body.topic_data[0].partition_data[0].records
    [(_, batch)] = split_batches(records)
    assert batch.magic == 2 and batch.producer_id >= 0 and batch.record_count == 1


def test_kafka_python_metadata_v13_asks_for_named_topics():
    _, header, _, body = _decode(Path(__file__).parent / "golden" / "kafka-python-3-v13.bin")
    assert header.client_id.startswith("kafka-python")
    assert body.topics is None or all(t.name for t in body.topics)

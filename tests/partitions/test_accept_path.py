"""PartitionLog.accept (one C call for the common Produce entry) changes no outcome: every entry appended with it,
with its Python twin and with it off (the full checks alone) gets the same offsets, stored bytes and errors."""

from __future__ import annotations

import pytest

from partitions import log as log_module
from tests.partitions.conftest import T0
from tests.wire.test_records import with_crc
from wire.errors import KafkaError
from wire.records import accept_python, build_batch

VARIANTS = {"built": log_module.accept_batch, "python": accept_python, "off": lambda *args: None}

TOPICS = {
    "default": {},
    "compacted": {"cleanup.policy": "compact"},
    "log append time": {"message.timestamp.type": "LogAppendTime"},
    "tight timestamps": {"message.timestamp.before.max.ms": "1000", "message.timestamp.after.max.ms": "1000"},
    "small max message": {"max.message.bytes": "200"},
}

ENTRIES = [
    build_batch([(b"k", b"v", [], T0)]),
    build_batch([(None, b"v", [], T0)]),  # keyless: refused by a compacted topic
    build_batch([(b"k", b"v" * 300, [], T0)]),  # past 200 bytes
    build_batch([(b"k", b"v", [], T0 - 5_000)]),  # before the tight window
    build_batch([(b"k", b"v", [], T0 + 5_000), (b"k", b"w", [], T0)]),  # after it
    build_batch([(b"k", b"v", [], -1)]),
    build_batch([(b"k", b"v", [], T0)], log_append_time=True),
    build_batch([(b"k", b"v", [], T0)], compression=3),
    build_batch([(None, b"v", [], T0)], compression=3),  # keyless, compressed
    build_batch([(b"k", b"v", [], T0 - 5_000)], compression=1),  # before the tight window, compressed
    build_batch([(b"k", b"v" * 300, [], T0)], compression=2),  # small when compressed? (snappy)
    build_batch([(b"k", b"v", [], T0)], compression=4, base_offset=2),
    bytes(with_crc(bytearray(build_batch([(b"k", b"v" * 50, [], T0)], compression=3)[:-4]) + b"\x00" * 4)),
    build_batch([(b"k", b"v", [], T0)], producer_id=1, producer_epoch=0, base_sequence=0),
    build_batch([(b"k", b"v", [], T0)], producer_id=1, producer_epoch=0, base_sequence=0),  # duplicate
    build_batch([(b"k", b"v", [], T0)], producer_id=1, producer_epoch=0, base_sequence=5),  # out of order
    build_batch([(b"k", b"v", [], T0)]) * 2,
    build_batch([(b"k", b"v", [], T0)], base_offset=3),
    build_batch([(b"k", b"v", [], T0)])[:-1],
    b"",
]


def outcomes(engine, monkeypatch, variant: str, config: dict) -> list:
    monkeypatch.setattr(log_module, "accept_batch", VARIANTS[variant])
    logs = engine.reopen()
    name = f"t-{variant}"
    log = logs.create_topic(name, 1, config).partitions[0]
    seen = []
    for entry in ENTRIES:
        try:
            result = log.append(entry, T0)
            seen.append(("ok", result.base_offset, result.log_append_time_ms, result.duplicate))
        except KafkaError as exc:
            seen.append((exc.code, exc.message.replace(name, "T"), repr(exc.record_errors).replace(name, "T")))
    seen.append(log.read(0, 1 << 20))
    return seen


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_appends_are_the_same_with_accept_built_python_or_off(engine, monkeypatch, topic):
    results = {variant: outcomes(engine, monkeypatch, variant, TOPICS[topic]) for variant in VARIANTS}
    assert results["built"] == results["off"] == results["python"]
    assert any(item[0] == "ok" for item in results["off"][:-1])

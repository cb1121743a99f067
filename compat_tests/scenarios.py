"""The produce/read-back scenarios every client module runs, each through that client's own calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Callable

import pytest

from compat_tests import rawkafka, samples
from compat_tests.samples import make_samples

CODECS = ("gzip", "snappy", "lz4", "zstd")


@dataclass(frozen=True)
class Calls:
    """One client's own calls on partition 0 of a topic, and what they answer."""

    produce: Callable[..., list[int]]  # (bootstrap, topic, records, **config) -> acknowledged offsets
    read: Callable[..., list]  # (bootstrap, topic, count[, offset=]) -> rows, from the beginning by default
    end: Callable[[str, str], object]  # (bootstrap, topic) -> the client's answer for the partition's end
    end_of: Callable[[int], object]  # what `end` answers once `n` records are stored
    acks_all: dict  # producer settings for acks=all
    acks_1: dict  # producer settings for acks=1
    expected: Callable[..., list] = field(default=samples.expected_rows)  # (records, first_offset=0) -> rows


def codec_params(codec: ModuleType, client: str) -> list:
    """Every codec, skipped when the client's `codec` module (has_gzip() ...) lacks its library."""
    return [
        pytest.param(name, marks=pytest.mark.skipif(not getattr(codec, f"has_{name}")(),
                                                    reason=f"{client} has no {name} library"))
        for name in CODECS
    ]


def produce_and_read_back_exactly(calls: Calls, bootstrap: str, topic: str) -> None:
    records = make_samples(6)
    assert calls.produce(bootstrap, topic, records) == list(range(6))
    assert calls.read(bootstrap, topic, 6) == calls.expected(records)
    assert calls.end(bootstrap, topic) == calls.end_of(6)


def compressed_batches_round_trip(calls: Calls, bootstrap: str, topic: str, codec: str, count: int,
                                  **config) -> None:
    """`count` records produced with `config` read back exactly, stored as `codec` batches."""
    records = make_samples(count)
    assert calls.produce(bootstrap, topic, records, **config) == list(range(count))
    assert calls.read(bootstrap, topic, count) == calls.expected(records)
    assert_stored_compression(bootstrap, topic, codec)


def assert_stored_compression(bootstrap: str, topic: str, codec: str) -> None:
    stored = rawkafka.stored_batches(bootstrap, topic)
    assert stored, "no batch stored"
    # librdkafka silently stops compressing when it dislikes the broker's advertised versions
    assert {b.compression for b in stored} == {codec}, stored


def idempotent_producer_writes_each_record_once(calls: Calls, bootstrap: str, topic: str,
                                                **config) -> list[rawkafka.BatchHeader]:
    """8 records produced with `config` read back exactly, stored once each; returns the stored batches."""
    records = make_samples(8)
    assert calls.produce(bootstrap, topic, records, **config) == list(range(8))
    assert calls.read(bootstrap, topic, 8) == calls.expected(records)
    assert calls.end(bootstrap, topic) == calls.end_of(8)
    return assert_idempotent_batches(bootstrap, topic, 8)


def assert_idempotent_batches(bootstrap: str, topic: str, count: int) -> list[rawkafka.BatchHeader]:
    """Stored batches carry a producer id and epoch, contiguous sequences and `count` records in all."""
    stored = rawkafka.stored_batches(bootstrap, topic)
    assert all(b.producer_id >= 0 and b.producer_epoch >= 0 for b in stored), stored
    counts = [b.record_count for b in stored]
    assert [b.base_sequence for b in stored] == [sum(counts[:i]) for i in range(len(counts))]
    assert sum(counts) == count
    return stored


def seek_to_offset(calls: Calls, bootstrap: str, topic: str) -> None:
    records = make_samples(6)
    calls.produce(bootstrap, topic, records)
    assert calls.read(bootstrap, topic, 3, offset=3) == calls.expected(records[3:], first_offset=3)


def produce_acks_all_and_acks_1(calls: Calls, bootstrap: str, topic: str) -> list[samples.Sample]:
    durable = make_samples(4, tag="acks-all")
    leader_only = make_samples(4, tag="acks-1", base_ts=durable[-1].timestamp + 1000)
    assert calls.produce(bootstrap, topic, durable, **calls.acks_all) == [0, 1, 2, 3]
    assert calls.produce(bootstrap, topic, leader_only, **calls.acks_1) == [4, 5, 6, 7]
    return durable + leader_only


def nothing_lost_across(calls: Calls, bootstrap: str, topic: str, restart: Callable[[], None]) -> None:
    """Records acknowledged with acks=all and acks=1 are all there after `restart()` of the broker."""
    records = produce_acks_all_and_acks_1(calls, bootstrap, topic)
    restart()
    assert calls.read(bootstrap, topic, 8) == calls.expected(records)
    assert calls.end(bootstrap, topic) == calls.end_of(8)


def group_consumer_resumes_from_committed_offset(
    calls: Calls, bootstrap: str, topic: str, consume_in_group: Callable[[int], tuple],
    committed_at: Callable[[int], object] = lambda offset: offset,
) -> None:
    """`consume_in_group(count)` (one group consumer: read `count` rows, commit, answer (rows, committed))
    reads 4 records, then, started again, only the 3 produced after its commit."""
    first = make_samples(4, tag="first")
    second = make_samples(3, tag="second", base_ts=first[-1].timestamp + 1000)
    calls.produce(bootstrap, topic, first)
    assert consume_in_group(4) == (calls.expected(first), committed_at(4))
    calls.produce(bootstrap, topic, second)
    assert consume_in_group(3) == (calls.expected(second, first_offset=4), committed_at(7))

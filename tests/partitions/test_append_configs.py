"""The append path reads a topic's configs as attributes set when they change (Topic.refresh), not by name
per batch: a config altered at run time, or a broker default for topics, still takes effect at the next append."""

from __future__ import annotations

import pytest

from partitions.topic_configs import SynonymEntry, TopicDefault
from tests.partitions.conftest import T0, batch
from wire.errors import ErrorCode, KafkaError
from wire.records import build_batch

KEYLESS = [(None, b"v", [], T0)]


def test_cleanup_policy_altered_to_compact_refuses_keyless_records_at_the_next_append(logs):
    topic = logs.create_topic("t", 1)
    log = topic.partitions[0]
    log.append(build_batch(KEYLESS), T0)
    logs.alter_topic_configs("t", {"cleanup.policy": "compact"})
    with pytest.raises(KafkaError) as refused:
        log.append(build_batch(KEYLESS), T0)
    assert refused.value.code == ErrorCode.INVALID_RECORD and refused.value.record_errors[0][0] == 0
    logs.alter_topic_configs("t", {"cleanup.policy": "delete"})
    assert log.append(build_batch(KEYLESS), T0).base_offset == 1


def test_segment_ms_altered_at_run_time_rolls_the_next_append(logs):
    topic = logs.create_topic("t", 1)
    log = topic.partitions[0]
    log.append(batch([b"x"], t0=T0), T0)
    log.append(batch([b"x"], t0=T0 + 5_000), T0 + 5_000)
    assert len(log.segments) == 1  # segment.ms is 7 days
    logs.alter_topic_configs("t", {"segment.ms": "1000"})
    log.append(batch([b"x"], t0=T0 + 10_000), T0 + 10_000)
    assert len(log.segments) == 2


def test_a_compacted_topic_rolls_at_max_compaction_lag_after_it_is_altered(logs):
    topic = logs.create_topic("t", 1, {"cleanup.policy": "compact"})
    log = topic.partitions[0]
    log.append(build_batch([(b"k", b"v", [], T0)]), T0)
    log.append(build_batch([(b"k", b"v", [], T0 + 5_000)]), T0 + 5_000)
    assert len(log.segments) == 1  # segment.ms is 7 days
    logs.alter_topic_configs("t", {"cleanup.policy": "compact", "max.compaction.lag.ms": "1000"})
    log.append(build_batch([(b"k", b"v", [], T0 + 10_000)]), T0 + 10_000)
    assert len(log.segments) == 2


def test_timestamp_bounds_follow_the_topic_and_the_broker_default(logs):
    topic = logs.create_topic("t", 1)
    log = topic.partitions[0]
    log.append(batch([b"old"], t0=T0 - 3_600_000), T0)  # an hour old: within the default (unbounded)
    logs.alter_topic_configs("t", {"message.timestamp.before.max.ms": "60000"})
    with pytest.raises(KafkaError) as refused:
        log.append(batch([b"old"], t0=T0 - 3_600_000), T0)
    assert refused.value.code == ErrorCode.INVALID_TIMESTAMP
    logs.alter_topic_configs("t", {})
    log.append(batch([b"old"], t0=T0 - 3_600_000), T0)
    logs.set_topic_defaults({"message.timestamp.before.max.ms": TopicDefault(
        60000, (SynonymEntry("log.message.timestamp.before.max.ms", "60000", 5),))})
    with pytest.raises(KafkaError) as by_default:
        log.append(batch([b"old"], t0=T0 - 3_600_000), T0)
    assert by_default.value.code == ErrorCode.INVALID_TIMESTAMP
    assert log.high_watermark == 2

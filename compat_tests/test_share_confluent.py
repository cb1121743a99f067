"""confluent-kafka's ShareConsumer (KIP-932 share groups, librdkafka 2.16 preview): records shared by
competing consumers, acknowledgement, redelivery, the delivery limit, dead-letter topics (KIP-1191) and
the broker killed -9 in the middle. Group configs are set as against Kafka (IncrementalAlterConfigs, GROUP)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from compat_tests import samples
from compat_tests import share_groups as share

LOCK_MS = 2000  # share.record.lock.duration.ms for the tests that wait a lock out
pytestmark = pytest.mark.share


@pytest.fixture
def names(bootstrap, request):
    stem = samples.unique_name(f"share-{request.node.originalname.removeprefix('test_')[:20]}")
    return f"{stem}-t", f"{stem}-g"


def _configured(bootstrap, names, **configs):
    topic, group = names
    share.create_topic(bootstrap, topic)
    share.set_group_configs(bootstrap, group, {"share.auto.offset.reset": "earliest",
                                               **{k.replace("_", "."): v for k, v in configs.items()}})
    return topic, group


@pytest.mark.parametrize("members", [2, 3])
def test_competing_consumers_get_every_record_exactly_once(bootstrap, names, members):
    topic, group = _configured(bootstrap, names)
    total = share.produce(bootstrap, topic, (b"v%d" % i for i in range(300)), batch=10)
    consumers = [share.share_consumer(bootstrap, group, topic, max_poll_records="10") for _ in range(members)]
    seen: dict[int, list[int]] = {i: [] for i in range(members)}
    deadline = time.monotonic() + 30
    try:
        while sum(map(len, seen.values())) < total and time.monotonic() < deadline:
            for i, consumer in enumerate(consumers):  # implicit mode: the next poll accepts the last batch
                seen[i] += [m.offset() for m in share.poll(consumer, 0.2)]
    finally:
        for consumer in consumers:
            consumer.close()
    offsets = Counter(o for got in seen.values() for o in got)
    assert sorted(offsets) == list(range(total)), "every record is delivered"
    assert max(offsets.values()) == 1, "each to one consumer only"
    assert all(seen.values()), {i: len(got) for i, got in seen.items()}


def test_release_redelivers_with_a_higher_count_and_reject_never(bootstrap, names):
    topic, group = _configured(bootstrap, names)
    share.produce(bootstrap, topic, [b"release", b"reject", b"accept"], batch=3)
    consumer = share.share_consumer(bootstrap, group, topic, share_acknowledgement_mode="explicit")
    try:
        first = []
        deadline = time.monotonic() + 15
        while len(first) < 3 and time.monotonic() < deadline:
            first += share.poll(consumer)
        assert [(m.value(), m.delivery_count()) for m in first] == [(b"release", 1), (b"reject", 1), (b"accept", 1)]
        for message, how in zip(first, (share.RELEASE, share.REJECT, share.ACCEPT)):
            consumer.acknowledge(message, how)
        consumer.commit_sync(10)
        again = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not again:
            again = share.poll(consumer)
        assert [(m.value(), m.delivery_count()) for m in again] == [(b"release", 2)]
        for message in again:
            consumer.acknowledge(message, share.ACCEPT)
        consumer.commit_sync(10)
        assert all(m.value() != b"reject" for m in share.poll(consumer, 2.0)), "a rejected record comes back"
    finally:
        consumer.close()


def test_delivery_count_limit_archives_a_record_released_again_and_again(bootstrap, names):
    topic, group = _configured(bootstrap, names, share_delivery_count_limit="2")
    share.produce(bootstrap, topic, [b"poison"], batch=1)
    consumer = share.share_consumer(bootstrap, group, topic, share_acknowledgement_mode="explicit")
    counts = []
    try:
        deadline = time.monotonic() + 15
        while len(counts) < 2 and time.monotonic() < deadline:
            for message in share.poll(consumer):
                counts.append(message.delivery_count())
                consumer.acknowledge(message, share.RELEASE)
            consumer.commit_sync(10)
        assert counts == [1, 2]
        assert share.poll(consumer, 2.0) == [], "archived after the limit"
    finally:
        consumer.close()


def test_killed_consumer_records_reach_the_others_after_the_lock_duration(bootstrap, names):
    topic, group = _configured(bootstrap, names, share_record_lock_duration_ms=str(LOCK_MS))
    share.produce(bootstrap, topic, (b"v%d" % i for i in range(20)), batch=20)
    held = share.consumer_killed_holding_records(bootstrap, group, topic)
    killed_at = time.monotonic()
    survivor = share.share_consumer(bootstrap, group, topic)
    got = {}
    try:
        deadline = time.monotonic() + 20
        while not held <= got.keys() and time.monotonic() < deadline:
            for message in share.poll(survivor):
                got.setdefault(message.offset(), (message.delivery_count(), time.monotonic() - killed_at))
    finally:
        survivor.close()
    assert held <= got.keys()
    assert all(got[o][0] == 2 for o in held), "delivered a second time"
    assert min(got[o][1] for o in held) >= LOCK_MS / 1000 - 0.5, "not before the lock ran out"


def test_dead_letter_topic_gets_rejected_and_over_delivered_records_with_kafkas_headers(bootstrap, names):
    topic, group = names
    dlq = f"dlq.{topic}"
    share.create_topic(bootstrap, dlq, configs={"errors.deadletterqueue.group.enable": "true"})
    topic, group = _configured(bootstrap, names, share_delivery_count_limit="2",
                               errors_deadletterqueue_topic_name=dlq,
                               errors_deadletterqueue_copy_record_enable="true")
    share.produce(bootstrap, topic, [b"good", b"bad", b"poison"], batch=3,
                  headers=[("origin", b"test")])
    consumer = share.share_consumer(bootstrap, group, topic, share_acknowledgement_mode="explicit")
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for message in share.poll(consumer):
                how = {b"good": share.ACCEPT, b"bad": share.REJECT}.get(message.value(), share.RELEASE)
                consumer.acknowledge(message, how)
            consumer.commit_sync(10)
            if len(share.read_all(bootstrap, dlq, timeout=0.5)) == 2:
                break
    finally:
        consumer.close()
    letters = share.read_all(bootstrap, dlq, expect=2)
    rows = sorted((m.value(), dict(m.headers())) for m in letters)
    assert [value for value, _ in rows] == [b"bad", b"poison"]
    for value, headers in rows:
        assert headers["origin"] == b"test"  # a copy keeps the original headers
        assert headers["__dlq.errors.topic"] == topic.encode()
        assert headers["__dlq.errors.partition"] == b"0"
        assert headers["__dlq.errors.group"] == group.encode()
    bad, poison = (headers for _, headers in rows)
    assert (bad["__dlq.errors.offset"], bad["__dlq.errors.delivery.count"]) == (b"1", b"1")
    assert bad["__dlq.errors.message"] == b"Offset rejected by client."
    assert (poison["__dlq.errors.offset"], poison["__dlq.errors.delivery.count"]) == (b"2", b"2")
    assert poison["__dlq.errors.message"] == b"Offset delivery count exceeded the threshold."


def test_replay_moves_dead_letters_back_to_the_source_topic(broker, bootstrap, names):
    if not broker.managed:
        pytest.skip("the replay is Ottla's own (Kafka has none): it needs the broker's admin endpoint")
    topic, group = names
    dlq = f"dlq.{topic}"
    share.create_topic(bootstrap, dlq, configs={"errors.deadletterqueue.group.enable": "true"})
    topic, group = _configured(bootstrap, names, errors_deadletterqueue_topic_name=dlq)  # pointer records
    share.produce(bootstrap, topic, [b"first", b"second"], batch=2)
    consumer = share.share_consumer(bootstrap, group, topic, share_acknowledgement_mode="explicit")
    try:
        rejected = []
        deadline = time.monotonic() + 15
        while len(rejected) < 2 and time.monotonic() < deadline:
            for message in share.poll(consumer):
                consumer.acknowledge(message, share.REJECT)
                rejected.append(message.value())
            consumer.commit_sync(10)
        assert [m.value() for m in share.read_all(bootstrap, dlq, expect=2)] == [None, None]
        replay = subprocess.run([sys.executable, "-m", "gateway", "share-groups", "replay-dlq", "--topic", dlq,
                                 "--admin", f"127.0.0.1:{broker.admin_port}"], capture_output=True, text=True,
                                timeout=30, cwd=Path(__file__).resolve().parent.parent)
        assert replay.returncode == 0, replay.stderr
        assert json.loads(replay.stdout)["replayed"] == 2
        again = []
        deadline = time.monotonic() + 15
        while len(again) < 2 and time.monotonic() < deadline:
            for message in share.poll(consumer):
                consumer.acknowledge(message, share.ACCEPT)
                again.append((message.offset(), message.value(), message.delivery_count()))
            consumer.commit_sync(10)
        assert again == [(2, b"first", 1), (3, b"second", 1)]  # back at the end of the source, delivered anew
    finally:
        consumer.close()


@pytest.mark.timeout(120)
def test_broker_kill9_mid_run_redelivers_nothing_acknowledged_and_loses_nothing(bootstrap, names, kill9_broker):
    topic, group = _configured(bootstrap, names)
    total = share.produce(bootstrap, topic, (b"v%d" % i for i in range(200)), batch=20)
    consumer = share.share_consumer(bootstrap, group, topic, share_acknowledgement_mode="explicit",
                                    max_poll_records="20")
    acknowledged: set[int] = set()  # commit_sync returned: durable on the broker before the kill
    uncertain: set[int] = set()  # a commit the kill interrupted: durable or not
    after: list[tuple[int, int]] = []  # (offset, delivery count) delivered after the restart
    held: set[int] = set()  # acquired, not acknowledged, when the broker died
    killed = False
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            seen = acknowledged | uncertain | {offset for offset, _ in after}
            if killed and seen >= set(range(total)):
                break
            messages = [m for m in (consumer.poll(0.5) or []) if m.error() is None]
            if killed:
                after += [(m.offset(), m.delivery_count()) for m in messages]
            elif len(acknowledged) >= total // 2 and messages:
                held = {m.offset() for m in messages}
                kill9_broker()
                killed = True
            for message in messages:
                consumer.acknowledge(message, share.ACCEPT)
            try:
                consumer.commit_sync(10)
                if not killed:
                    acknowledged.update(m.offset() for m in messages)
            except Exception:  # librdkafka's errors, as the broker dies or comes back
                if not killed:
                    uncertain.update(m.offset() for m in messages)
    finally:
        consumer.close()
    assert killed and held and acknowledged
    redelivered = {offset for offset, _ in after}
    assert not redelivered & acknowledged, "an acknowledged record was delivered again"
    assert acknowledged | uncertain | redelivered >= set(range(total)), "an unacknowledged record was lost"
    assert held <= redelivered, "the records held at the kill come back"
    assert all(count >= 2 for offset, count in after if offset in held), "with their delivery counts kept"


def test_kafka_python_admin_lists_share_groups_by_type_and_deletes_an_empty_one(bootstrap, names):
    from compat_tests.topics import admin_client

    topic, group = _configured(bootstrap, names)
    share.produce(bootstrap, topic, [b"x"], batch=1)
    consumer = share.share_consumer(bootstrap, group, topic)
    try:
        deadline = time.monotonic() + 15
        while not share.poll(consumer) and time.monotonic() < deadline:
            pass
        admin = admin_client(bootstrap)
        listed = admin.list_groups(types_filter=["share"])
        ours = [g for g in listed if g["group_id"] == group]
        assert [(g["group_type"], g["group_state"]) for g in ours] == [("share", "Stable")], listed
        assert group not in {g["group_id"] for g in admin.list_groups(types_filter=["classic"])}
    finally:
        consumer.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the member's leave is asynchronous to close()
        if [g for g in admin.list_groups(types_filter=["share"]) if g["group_id"] == group][0]["group_state"] == "Empty":
            break
        time.sleep(0.1)
    admin.delete_groups([group])
    assert group not in {g["group_id"] for g in admin.list_groups()}
    admin.close()

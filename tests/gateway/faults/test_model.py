"""The fault model alone: specs, matchers, count and probability, fired counts and waiting."""

from __future__ import annotations

import json
import random

import pytest

from gateway.faults import FaultSet, FaultSpecError, RequestFacts, load_faults_file
from wire.errors import ErrorCode


def produce(topic="t", partitions=(0,), broker=1, client_id="c", groups=()):
    return RequestFacts(0, broker, client_id, {topic: frozenset(partitions)}, frozenset(groups))


def test_count_fires_exactly_that_many_times_then_disarms():
    faults = FaultSet()
    assert not faults.armed
    fault = faults.add({"api": "Produce", "error": "NOT_LEADER_OR_FOLLOWER", "count": 3})
    assert faults.armed and fault.api_key == 0 and fault.error == ErrorCode.NOT_LEADER_OR_FOLLOWER
    decisions = [faults.decide(produce()) for _ in range(5)]
    assert [d is not None for d in decisions] == [True, True, True, False, False]
    assert decisions[0].error == ErrorCode.NOT_LEADER_OR_FOLLOWER
    assert fault.fired == 3 and fault.exhausted and not faults.armed
    assert faults.list()[0]["fired"] == 3 and faults.list()[0]["exhausted"]


def test_matchers_each_narrow_what_fires():
    faults = FaultSet()
    faults.add({"api": "produce", "error": 6, "topic": "t", "partition": 1, "broker": 2, "client_id": "app"})
    assert faults.decide(produce(partitions=(0,), broker=2, client_id="app")) is None
    assert faults.decide(produce(partitions=(0, 1), broker=1, client_id="app")) is None
    assert faults.decide(produce(partitions=(1,), broker=2, client_id="other")) is None
    assert faults.decide(produce(topic="u", partitions=(1,), broker=2, client_id="app")) is None
    assert faults.decide(RequestFacts(1, 2, "app", {"t": frozenset({1})}, frozenset())) is None  # Fetch, not Produce
    assert faults.decide(produce(partitions=(0, 1), broker=2, client_id="app")) is not None
    group = FaultSet()
    group.add({"api": "JoinGroup", "error": "COORDINATOR_NOT_AVAILABLE", "group": "g"})
    assert group.decide(RequestFacts(11, 1, None, {}, frozenset({"h"}))) is None
    assert group.decide(RequestFacts(11, 1, None, {}, frozenset({"g"}))).error == ErrorCode.COORDINATOR_NOT_AVAILABLE


def test_probability_is_repeatable_with_a_seeded_source():
    def run():
        faults = FaultSet(random.Random(42))
        fault = faults.add({"api": "Fetch", "delay_ms": 10, "probability": 0.25})
        hits = [faults.decide(RequestFacts(1, 1, None, {}, frozenset())) is not None for _ in range(400)]
        return hits, fault.fired

    first, fired = run()
    assert first == run()[0] and 60 < fired < 140 and fired == sum(first)


def test_several_faults_combine_on_one_request():
    faults = FaultSet()
    a = faults.add({"api": "Produce", "delay_ms": 50})
    b = faults.add({"error": "REQUEST_TIMED_OUT", "delay_ms": 20, "count": 1})
    decision = faults.decide(produce())
    assert decision.delay_ms == 50 and decision.error == ErrorCode.REQUEST_TIMED_OUT and set(decision.faults) == {a, b}
    again = faults.decide(produce())
    assert again.error is None and again.delay_ms == 50 and a.fired == 2 and b.fired == 1


def test_waiting_for_fired_n_times():
    faults = FaultSet()
    fault = faults.add({"api": "Produce", "drop_connection": True})
    seen = []
    assert faults.on_fired(fault.id, 2, lambda: seen.append("two"))
    faults.decide(produce())
    assert seen == []
    faults.decide(produce())
    assert seen == ["two"]
    faults.on_fired(fault.id, 1, lambda: seen.append("already"))
    assert seen == ["two", "already"]
    assert not faults.on_fired(999, 1, lambda: None)


def test_remove_and_clear_disarm():
    faults = FaultSet()
    fault = faults.add({"api": "Produce", "error": "NOT_LEADER_OR_FOLLOWER"})
    assert faults.remove(fault.id) is fault and not faults.armed and faults.remove(fault.id) is None
    faults.add({"api": "Fetch", "delay_ms": 1})
    faults.clear()
    assert not faults.armed and faults.list() == []


@pytest.mark.parametrize("spec,says", [
    ({"api": "Produc", "error": "NOT_LEADER_OR_FOLLOWER"}, "unknown API"),
    ({"api": "Produce", "error": "NO_SUCH_ERROR"}, "unknown error"),
    ({"api": "Produce"}, "needs an error"),
    ({"api": "Produce", "error": "NONE"}, "NONE"),
    ({"api": "Produce", "error": 6, "count": 0}, "count"),
    ({"api": "Produce", "error": 6, "probability": 1.5}, "probability"),
    ({"api": "Produce", "error": 6, "partition": 0}, "needs topic"),
    ({"api": "Produce", "error": 6, "topic": 3}, "topic"),
    ({"api": "Produce", "error": 6, "colour": "red"}, "unknown fault keys"),
    ({"api": "Produce", "delay_ms": -1}, "delay_ms"),
    ([], "JSON object"),
])
def test_bad_specs_are_refused_with_a_reason(spec, says):
    with pytest.raises(FaultSpecError, match=says):
        FaultSet().add(spec)


def test_faults_file(tmp_path):
    path = tmp_path / "faults.json"
    path.write_text(json.dumps([{"api": "Produce", "error": "NOT_LEADER_OR_FOLLOWER", "count": 3}]))
    assert load_faults_file(str(path)) == [{"api": "Produce", "error": "NOT_LEADER_OR_FOLLOWER", "count": 3}]
    path.write_text(json.dumps({"faults": [{"api": "Fetch", "delay_ms": 5}]}))
    assert load_faults_file(str(path))[0]["api"] == "Fetch"
    path.write_text("42")
    with pytest.raises(FaultSpecError):
        load_faults_file(str(path))


def test_the_number_of_faults_is_bounded(monkeypatch):
    from gateway.faults import model

    monkeypatch.setattr(model, "MAX_FAULTS", 3)
    faults = FaultSet()
    for _ in range(3):
        faults.add({"api": "Produce", "delay_ms": 1})
    with pytest.raises(FaultSpecError, match="at most 3"):
        faults.add({"api": "Produce", "delay_ms": 1})
    faults.remove(1)
    faults.add({"api": "Produce", "delay_ms": 1})

"""Class 1: a KIP-848 SubscribedTopicRegex costs time linear in the topic names, whatever the regex."""

from __future__ import annotations

import time

from gateway.groups.kip848 import MemoryTopics
from tests.gateway.groups.kip848.support import GROUP, ORDERS, Consumer, new_coordinator
from wire.errors import ErrorCode

EXPLOSIVE = "(a+)+"  # Python's re takes minutes on 33 a's and a mismatch; RE2 (as Kafka's RE2/J) does not


def test_a_catastrophic_backtracking_regex_resolves_in_linear_time():
    names = {("a" * 33) + "!": (ORDERS, 1)}
    names.update({f"{'a' * 40}{i}!": (bytes([i + 1]) * 16, 1) for i in range(200)})
    coordinator = new_coordinator(MemoryTopics(names))
    started = time.perf_counter()
    response = Consumer(coordinator, "m1", topics=None, regex=EXPLOSIVE).join(0)
    elapsed = time.perf_counter() - started
    assert response["error_code"] == ErrorCode.NONE
    assert coordinator.consumer_group(GROUP).resolved_regexes == {EXPLOSIVE: frozenset()}
    assert elapsed < 0.05, f"regex resolution took {elapsed * 1000:.1f} ms"


def test_a_regex_matches_whole_names_with_re2_syntax():
    topics = MemoryTopics({"aaaa": (ORDERS, 1), "aaab": (bytes([9]) * 16, 1)})
    coordinator = new_coordinator(topics)
    Consumer(coordinator, "m1", topics=None, regex=EXPLOSIVE).join(0)
    assert coordinator.consumer_group(GROUP).resolved_regexes == {EXPLOSIVE: frozenset({"aaaa"})}


def test_what_re2j_refuses_is_an_invalid_regular_expression():
    for regex in ("(?<=a)b", "(a)\\1", "a(", "x{2,1}"):  # lookbehind, backreference, unbalanced, bad repeat
        response = Consumer(new_coordinator(), "m1", topics=None, regex=regex).join(0)
        assert response["error_code"] == ErrorCode.INVALID_REGULAR_EXPRESSION, regex
        assert response["error_message"].startswith(f"SubscribedTopicRegex `{regex}` is not a valid regular expression")


def test_a_regex_too_large_to_compile_is_refused_not_held():
    response = Consumer(new_coordinator(), "m1", topics=None, regex="(x{1000}){1000}").join(0)
    assert response["error_code"] == ErrorCode.INVALID_REGULAR_EXPRESSION

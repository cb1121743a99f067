"""Quota math with injected time: Kafka's sampled Rate, its throttle time, ClientQuotaManager's
precedence, and a simulated client that honours throttle_time_ms ending up at the quota."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from gateway.configs.quotas import ClientQuotas
from gateway.quota_enforcement.manager import CONNECTIONS, FETCH, PRODUCE, QuotaManager, user_of
from gateway.quota_enforcement.rate import SampledRate


def set_quota(quotas: ClientQuotas, key: str, value: float, **entity) -> None:
    pairs = [SimpleNamespace(entity_type=t.replace("_", "-"), entity_name=n) for t, n in entity.items()]
    quotas.alter(pairs, [SimpleNamespace(key=key, value=value, remove=False)], validate_only=False)


def test_rate_counts_at_least_samples_minus_one_windows():
    rate = SampledRate(11, 1000, now_ms=0)
    rate.record(1000, 0)
    assert rate.rate(0) == pytest.approx(100.0)  # 1000 over the 10 s minimum window
    rate.record(1000, 500)
    assert rate.throttle_ms(100.0, 500) == pytest.approx(9_500)  # (2000/10.5 - 100)/100 * 10.5 s
    assert rate.rate(20_000) == 0.0  # every sample expired


def test_rate_window_grows_past_the_minimum_then_forgets_old_samples():
    rate = SampledRate(11, 1000, now_ms=0)
    for t in range(0, 10_500, 500):
        rate.record(50, t)
    assert rate.window_size_ms(10_500) == pytest.approx(10_500)
    assert rate.rate(10_500) == pytest.approx(21 * 50 / 10.5)
    assert rate.window_size_ms(12_000) <= 11_000


def test_precedence_follows_kafka():
    quotas = ClientQuotas()
    manager = QuotaManager(quotas, clock=lambda: 0)
    set_quota(quotas, PRODUCE, 8, client_id=None)
    assert manager.quota(PRODUCE, "alice", "app")[0] == 8
    set_quota(quotas, PRODUCE, 7, client_id="app")
    assert manager.quota(PRODUCE, "alice", "app")[0] == 7
    set_quota(quotas, PRODUCE, 6, user=None)
    assert manager.quota(PRODUCE, "alice", "app") == (6, ("alice", ""))  # each user metered on its own
    set_quota(quotas, PRODUCE, 5, user=None, client_id=None)
    set_quota(quotas, PRODUCE, 4, user=None, client_id="app")
    assert manager.quota(PRODUCE, "alice", "app")[0] == 4
    set_quota(quotas, PRODUCE, 3, user="alice")
    assert manager.quota(PRODUCE, "alice", "app") == (3, ("alice", ""))
    set_quota(quotas, PRODUCE, 2, user="alice", client_id=None)
    assert manager.quota(PRODUCE, "alice", "app")[0] == 2
    set_quota(quotas, PRODUCE, 1, user="alice", client_id="app")
    assert manager.quota(PRODUCE, "alice", "app") == (1, ("alice", "app"))
    assert manager.quota(PRODUCE, "bob", "other")[0] == 5  # default user + default client-id
    assert manager.quota(FETCH, "alice", "app") is None


def test_throttle_is_bounded_and_clients_share_a_user_quota():
    quotas = ClientQuotas()
    now = [0.0]
    manager = QuotaManager(quotas, clock=lambda: now[0])
    set_quota(quotas, PRODUCE, 1000, user="alice")
    assert manager.record(PRODUCE, "alice", "a", 10_000) == 0  # exactly the quota over 10 s
    assert manager.record(PRODUCE, "alice", "b", 10_000) == 10_000  # the user's clients share it
    assert manager.record(PRODUCE, "alice", "b", 1_000_000) == 11_000  # at most window * samples
    assert manager.record(PRODUCE, "bob", "a", 1_000_000) == 0  # no quota for bob


@pytest.mark.parametrize("quota,size", [(100_000, 10_000), (1_000_000, 64_000), (50_000, 1_000)])
def test_a_client_honouring_throttle_time_gets_the_quota(quota, size):
    quotas = ClientQuotas()
    now = [0.0]
    manager = QuotaManager(quotas, clock=lambda: now[0])
    set_quota(quotas, PRODUCE, quota, client_id="p")
    sent = 0
    while now[0] < 60_000:
        throttle = manager.record(PRODUCE, "ANONYMOUS", "p", size)
        sent += size
        now[0] += max(throttle, 1)  # the client backs off as KIP-219 asks (and a request takes 1 ms)
    assert sent / 60 == pytest.approx(quota, rel=0.2)


def test_connection_creation_rate_by_ip_then_default_ip():
    quotas = ClientQuotas()
    manager = QuotaManager(quotas, clock=lambda: 0)
    set_quota(quotas, CONNECTIONS, 1, ip=None)
    throttles = [manager.connection_throttle_ms("10.0.0.1") for _ in range(12)]
    assert throttles[:10] == [0] * 10 and throttles[11] > 0
    set_quota(quotas, CONNECTIONS, 1000, ip="10.0.0.2")
    assert all(manager.connection_throttle_ms("10.0.0.2") == 0 for _ in range(100))


def test_user_of_principal():
    assert user_of("User:alice") == "alice" and user_of("User:ANONYMOUS") == "ANONYMOUS"

"""Helpers for the KIP-848 tests: requests as the decoder hands them over, and a consumer that obeys responses."""

from __future__ import annotations

from wire.codec import decode, encode
from wire.messages.consumer_group_describe import CONSUMER_GROUP_DESCRIBE
from wire.messages.consumer_group_heartbeat import CONSUMER_GROUP_HEARTBEAT

from gateway.groups.kip848 import ConsumerGroupCoordinator, MemoryTopics

ORDERS = bytes(range(1, 17))
PAYMENTS = bytes(range(101, 117))
GROUP = "group-1"


def heartbeat_request(version: int = 1, **fields):
    """Encode then decode, so tests see the exact container shapes a handler receives."""
    body = {"group_id": GROUP, "member_id": "", "member_epoch": 0, **fields}
    return decode(CONSUMER_GROUP_HEARTBEAT.request, version, encode(CONSUMER_GROUP_HEARTBEAT.request, version, body))


def roundtrip_response(response: dict, version: int = 1):
    """The response as a client decodes it: proves the dict is encodable at that version."""
    return decode(CONSUMER_GROUP_HEARTBEAT.response, version, encode(CONSUMER_GROUP_HEARTBEAT.response, version,
                                                                        response))


def roundtrip_describe(groups: list[dict], version: int = 1):
    message = CONSUMER_GROUP_DESCRIBE.response
    return decode(message, version, encode(message, version, {"throttle_time_ms": 0, "groups": groups})).groups


def partitions_of(assignment) -> dict[bytes, set[int]]:
    """A response assignment ({topic_partitions: [...]}) as topic id -> partitions."""
    return {tp["topic_id"]: set(tp["partitions"]) for tp in assignment["topic_partitions"] if tp["partitions"]}


def new_coordinator(topics: MemoryTopics | None = None, **kw) -> ConsumerGroupCoordinator:
    return ConsumerGroupCoordinator(topics or MemoryTopics({"orders": (ORDERS, 6)}), **kw)


class Consumer:
    """A well-behaved KIP-848 consumer: it adopts each assignment it is sent, revoking at once."""

    def __init__(self, coordinator: ConsumerGroupCoordinator, member_id: str, *, topics=("orders",),
                 regex: str | None = None, rebalance_timeout_ms: int = 30000, instance_id: str | None = None,
                 server_assignor: str | None = None, group_id: str = GROUP) -> None:
        self.coordinator = coordinator
        self.member_id = member_id
        self.group_id = group_id
        self.topics = list(topics) if topics is not None else None
        self.regex = regex
        self.rebalance_timeout_ms = rebalance_timeout_ms
        self.instance_id = instance_id
        self.server_assignor = server_assignor
        self.epoch = 0
        self.owned: dict[bytes, set[int]] = {}
        self.last: dict = {}

    def join(self, now_ms: int) -> dict:
        self.epoch, self.owned = 0, {}
        return self._send(now_ms, member_epoch=0, rebalance_timeout_ms=self.rebalance_timeout_ms,
                          subscribed_topic_names=self.topics if self.topics is not None else [],
                          subscribed_topic_regex=self.regex, server_assignor=self.server_assignor,
                          topic_partitions=[])

    def heartbeat(self, now_ms: int, *, owned: dict[bytes, set[int]] | None = None, **fields) -> dict:
        """A steady-state heartbeat: only the epoch and the partitions it owns."""
        owned = self.owned if owned is None else owned
        partitions = [{"topic_id": topic_id, "partitions": sorted(ps)} for topic_id, ps in sorted(owned.items())]
        return self._send(now_ms, **{"member_epoch": self.epoch, "topic_partitions": partitions, **fields})

    def leave(self, now_ms: int, epoch: int = -1) -> dict:
        return self._send(now_ms, member_epoch=epoch)

    def _send(self, now_ms: int, **fields) -> dict:
        request = heartbeat_request(group_id=self.group_id, member_id=self.member_id,
                                    instance_id=self.instance_id, **fields)
        response = self.coordinator.heartbeat(request, now_ms, api_version=1, client_id="client-" + self.member_id,
                                              client_host="/127.0.0.1")
        roundtrip_response(response)
        if response["error_code"] == 0 and response["member_epoch"] >= 0:
            self.epoch = response["member_epoch"]
            if response["assignment"] is not None:
                self.owned = partitions_of(response["assignment"])
        self.last = response
        return response

    def partitions(self, topic_id: bytes = ORDERS) -> set[int]:
        return set(self.owned.get(topic_id, set()))


def assert_exclusive(consumers) -> None:
    """No partition is owned by two consumers at the same time."""
    seen: dict[tuple[bytes, int], str] = {}
    for consumer in consumers:
        for topic_id, partitions in consumer.owned.items():
            for partition in partitions:
                other = seen.setdefault((topic_id, partition), consumer.member_id)
                assert other == consumer.member_id, f"{partition} owned by {other} and {consumer.member_id}"


def converge(consumers, now_ms: int, rounds: int = 10) -> int:
    """Heartbeat every consumer in turn until a round changes nothing; checks exclusivity at every step."""
    for _ in range(rounds):
        before = [(c.epoch, {t: set(p) for t, p in c.owned.items()}) for c in consumers]
        for consumer in consumers:
            consumer.heartbeat(now_ms)
            assert consumer.last["error_code"] == 0, consumer.last
            assert_exclusive(consumers)
        if before == [(c.epoch, c.owned) for c in consumers]:
            return now_ms
        now_ms += 1000
    raise AssertionError("the group did not converge")

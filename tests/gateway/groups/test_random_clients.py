"""Random client behaviour never breaks the coordinator: no exception, every JoinGroup and SyncGroup
answered exactly once, the group's invariants hold, and a group whose clients all go away empties."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.groups import GroupConfig
from tests.gateway.groups.driver import Driver, Reply, subscription
from wire.errors import ErrorCode

CLIENTS = 4
PROTOCOLS = [[("range", subscription("t"))], [("roundrobin", b"rr"), ("range", subscription("t", "u"))]]


class Client:
    def __init__(self, index: int) -> None:
        self.instance = f"host-{index}" if index % 2 else None
        self.member_id = ""
        self.generation = -1
        self.members: list[str] = []
        self.replies: list[Reply] = []

    def learn(self) -> None:
        """Take in the JoinGroup answers that arrived, as a client would."""
        for reply in self.replies:
            if reply.done and "members" in reply.response and not getattr(reply, "seen", False):
                reply.seen = True
                response = reply.response
                if response["error_code"] in (ErrorCode.NONE, ErrorCode.MEMBER_ID_REQUIRED):
                    self.member_id = response["member_id"]
                if response["error_code"] == ErrorCode.NONE:
                    self.generation = response["generation_id"]
                    self.members = [m["member_id"] for m in response["members"]]
                elif response["error_code"] in (ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.FENCED_INSTANCE_ID):
                    self.member_id, self.generation = "", -1


def act(d: Driver, clients: list[Client], step: tuple) -> None:
    kind, index, value = step
    client = clients[index]
    client.learn()
    if kind == "join":
        client.replies.append(d.join(client.member_id, instance=client.instance, version=3 + value % 7,
                                     protocols=PROTOCOLS[value % 2], session=6_000 + value * 1_000,
                                     rebalance=value * 2_000, client_id=f"c{index}"))
    elif kind == "sync":
        plan = {m: m.encode() for m in client.members} if value % 3 else {}
        client.replies.append(d.sync(client.member_id, client.generation, plan, instance=client.instance))
    elif kind == "heartbeat":
        d.heartbeat(client.member_id, client.generation, instance=client.instance)
    elif kind == "commit":
        d.commit({("t", value): value}, generation=client.generation, member_id=client.member_id,
                 instance=client.instance)
    elif kind == "leave":
        d.leave((client.member_id, client.instance), version=value % 6)
    elif kind == "restart":
        client.member_id, client.generation = "", -1
    else:
        d.advance(value * 1_000)


def check_invariants(d: Driver, clients: list[Client]) -> None:
    for client in clients:
        for reply in client.replies:
            assert len(reply.responses) <= 1
    group = d.coordinator.groups.get("g")
    if group is None:
        return
    members = group.members
    assert (group.leader_id in members) if members else group.leader_id is None
    assert set(group.static_members.values()) <= set(members)
    assert all(members[m].group_instance_id == i for i, m in group.static_members.items())
    assert group.pending_sync_members <= set(members)
    assert not group.pending_members & set(members)
    if group.state_name in ("CompletingRebalance", "Stable"):
        assert members and group.protocol_name is not None
    if group.state_name == "Empty":
        assert not members
    for member in members.values():
        if member.awaiting_sync is not None:
            assert group.state_name == "CompletingRebalance"


steps = st.lists(st.tuples(
    st.sampled_from(["join", "join", "sync", "heartbeat", "commit", "leave", "restart", "advance", "advance"]),
    st.integers(0, CLIENTS - 1), st.integers(0, 9)), max_size=60)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=steps, delay=st.sampled_from([0, 0, 3_000]))
def test_random_clients(steps, delay):
    d = Driver(GroupConfig(group_initial_rebalance_delay_ms=delay, offsets_retention_minutes=1))
    clients = [Client(i) for i in range(CLIENTS)]
    for step in steps:
        act(d, clients, step)
        check_invariants(d, clients)
    d.advance(2 * 3_600_000)  # everyone went away: sessions, join timeouts and retention all run out
    check_invariants(d, clients)
    for client in clients:
        for reply in client.replies:
            assert len(reply.responses) == 1, "every JoinGroup and SyncGroup is answered exactly once"
    assert "g" not in d.coordinator.groups
    assert d.coordinator.next_deadline() is not None
    assert len(d.coordinator.timers) == 1  # only the offsets retention check is left

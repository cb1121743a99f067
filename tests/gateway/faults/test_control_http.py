"""The control API in-process (aiohttp's test server over a memory broker): every route, its errors,
and waiting for a fault to fire."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient, TestServer

from gateway.faults.model import RequestFacts
from gateway.http.app import build_app
from gateway.http import control
from tests.gateway.inprocess import new_broker


def run(test):
    async def main():
        broker = new_broker()
        async with TestClient(TestServer(build_app(broker, [control]))) as client:
            await test(broker, client)
    asyncio.run(asyncio.wait_for(main(), 20))


def produce(topic="t"):
    return RequestFacts(0, 1, "c", {topic: frozenset({0})}, frozenset())


def test_add_list_get_delete_faults():
    async def test(broker, client):
        added = await client.post("/v1/faults", json={"api": "Produce", "error": "NOT_LEADER_OR_FOLLOWER", "count": 3,
                                                      "topic": "t"})
        assert added.status == 201
        fault = await added.json()
        assert fault["id"] == 1 and fault["fired"] == 0 and fault["error"] == "NOT_LEADER_OR_FOLLOWER"
        assert broker.faults.armed
        broker.faults.decide(produce())
        listed = await (await client.get("/v1/faults")).json()
        assert [(f["id"], f["fired"], f["topic"]) for f in listed["faults"]] == [(1, 1, "t")]
        assert (await (await client.get("/v1/faults/1")).json())["fired"] == 1
        deleted = await client.delete("/v1/faults/1")
        assert deleted.status == 200 and (await deleted.json())["fired"] == 1
        assert not broker.faults.armed and (await client.get("/v1/faults/1")).status == 404
        await client.post("/v1/faults", json={"api": "Fetch", "delay_ms": 5})
        cleared = await (await client.delete("/v1/faults")).json()
        assert len(cleared["faults"]) == 1 and broker.faults.list() == []
    run(test)


def test_bad_specs_and_bodies_are_400_with_a_reason():
    async def test(broker, client):
        for body, says in (({"api": "Nope", "error": 6}, "unknown API"), ({"api": "Produce"}, "needs an error"),
                           ([1, 2], "JSON object")):
            answer = await client.post("/v1/faults", json=body)
            assert answer.status == 400 and says in (await answer.json())["error"]
        answer = await client.post("/v1/faults", data=b"{not json", headers={"Content-Type": "application/json"})
        assert answer.status == 400
        assert (await client.get("/v1/faults/x")).status == 400
        assert (await client.delete("/v1/faults/42")).status == 404
    run(test)


def test_wait_answers_once_fired_n_times_or_408():
    async def test(broker, client):
        fault = await (await client.post("/v1/faults", json={"api": "Produce", "drop_connection": True})).json()
        waiting = asyncio.ensure_future(client.get(f"/v1/faults/{fault['id']}/wait?fired=2&timeout_ms=5000"))
        await asyncio.sleep(0.05)
        broker.faults.decide(produce())
        await asyncio.sleep(0.05)
        assert not waiting.done()
        broker.faults.decide(produce())
        answer = await asyncio.wait_for(waiting, 5)
        assert answer.status == 200 and (await answer.json())["fired"] == 2
        late = await client.get(f"/v1/faults/{fault['id']}/wait?fired=9&timeout_ms=50")
        assert late.status == 408 and (await late.json())["fired"] == 2
        assert broker.faults.faults[fault["id"]]._waiters == []  # a timed-out wait leaves nothing behind
    run(test)


def test_cluster_view_of_one_broker_and_operations_it_lacks():
    async def test(broker, client):
        broker.logs.create_topic("t", 2)
        cluster = await (await client.get("/v1/cluster")).json()
        assert cluster["brokers"] == [{"id": 1, "host": "127.0.0.1", "port": 9092, "alive": True, "paused": False,
                                       "fenced": False}]
        topic = next(t for t in cluster["topics"] if t["name"] == "t")
        assert [(p["partition"], p["leader"], p["isr"]) for p in topic["partitions"]] == [(0, 1, [1]), (1, 1, [1])]
        assert (await client.post("/v1/brokers/7/stop")).status == 404
        assert (await client.post("/v1/partitions/nope/0/leader", json={"broker": 1})).status == 404
        assert (await client.post("/v1/partitions/t/0/leader", json={"to": 1})).status == 400
        if not hasattr(broker, "stop_node"):  # one node without the cluster: said, not pretended
            answer = await client.post("/v1/brokers/1/stop")
            assert answer.status == 501 and "--brokers" in (await answer.json())["error"]
    run(test)


class FakeCluster:
    """The Cluster interface the control API calls (OWNERS.md interface 1), recording each call."""

    def __init__(self, broker):
        self._broker = broker
        self.calls = []
        self.nodes = {1: self._node(1), 2: self._node(2)}
        self.leaders = {}

    def __getattr__(self, name):
        return getattr(self._broker, name)

    @staticmethod
    def _node(node_id):
        class Node:
            alive, paused, host, port = True, False, "127.0.0.1", 9091 + node_id
        node = Node()
        node.node_id = node_id
        return node

    def stop_node(self, node_id):
        self.calls.append(("stop", node_id))
        self.nodes[node_id].alive = False

    def pause_node(self, node_id):
        self.calls.append(("pause", node_id))
        self.nodes[node_id].paused = True

    def move_leader(self, topic, partition, node_id):
        if node_id not in self.nodes:
            raise ValueError(f"broker {node_id} is not a replica")
        self.calls.append(("move_leader", topic, partition, node_id))
        self.leaders[(topic, partition)] = node_id

    def partition_state(self, topic, partition):
        leader = self.leaders.get((topic, partition), 1)
        return {"leader": leader, "leader_epoch": 3, "replicas": [1, 2], "isr": [1, 2], "offline": []}


def test_operations_reach_the_cluster_methods():
    async def main():
        broker = new_broker()
        broker.logs.create_topic("t", 1)
        cluster = FakeCluster(broker)
        async with TestClient(TestServer(build_app(cluster, [control]))) as client:
            stopped = await client.post("/v1/brokers/2/stop")
            assert stopped.status == 200 and (await stopped.json())["alive"] is False
            paused = await (await client.post("/v1/brokers/1/pause")).json()
            assert paused == {"id": 1, "host": "127.0.0.1", "port": 9092, "alive": True, "paused": True,
                              "fenced": False}
            moved = await client.post("/v1/partitions/t/0/leader", json={"broker": 2})
            assert moved.status == 200 and (await moved.json())["leader"] == 2
            refused = await client.post("/v1/partitions/t/0/leader", json={"broker": 9})
            assert refused.status == 409
            assert (await client.post("/v1/brokers/1/resume")).status == 501  # the fake has no resume_node
            assert cluster.calls == [("stop", 2), ("pause", 1), ("move_leader", "t", 0, 2)]
            view = await (await client.get("/v1/cluster")).json()
            assert [(b["id"], b["alive"], b["paused"]) for b in view["brokers"]] == [(1, True, True), (2, False, False)]
    asyncio.run(asyncio.wait_for(main(), 20))

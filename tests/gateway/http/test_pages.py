"""Every console page and JSON endpoint in-process (aiohttp's test client on the app), and the forms."""

import json

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from gateway.http import actions
from gateway.http.app import build_app
from tests.gateway.http.support import new_broker, run

PAGES = ["/cluster", "/topics", "/topics?internal=1", "/topics/orders", "/topics/orders/messages",
         "/topics/orders/messages?start=oldest&partition=0", "/groups", "/groups/billing", "/shares",
         "/transactions", "/clients", "/throughput"]
API = ["/api/cluster", "/api/topics", "/api/topics/orders", "/api/topics/orders/messages?start=oldest",
       "/api/groups", "/api/groups/billing", "/api/share-groups", "/api/transactions", "/api/clients",
       "/api/throughput"]


def _broker():
    broker = new_broker()

    async def seed():
        await actions.create_topic(broker, "orders", 2)
        for i in range(4):
            await actions.produce(broker, "orders", json.dumps({"n": i}).encode(), key=b"k", partition=0)
        await actions.commit_offsets(broker, "billing", {("orders", 0): 1})
    run(seed())
    return broker


async def _with_client(broker, body):
    async with TestClient(TestServer(build_app(broker))) as client:
        return await body(client)


def test_every_page_and_endpoint_answers_with_the_data():
    broker = _broker()

    async def body(client):
        for path in PAGES:
            response = await client.get(path)
            assert response.status == 200, path
            assert "text/html" in response.headers["Content-Type"]
        page = await (await client.get("/topics/orders/messages?start=oldest&partition=0")).text()
        assert page.count('class="message"') == 4 and "&#34;n&#34;: 3" in page
        group = await (await client.get("/groups/billing")).text()
        assert 'id="total-lag">3<' in group
        for path in API:
            response = await client.get(path)
            assert response.status == 200, path
            json.loads(await response.text())
        topic = json.loads(await (await client.get("/api/topics/orders")).text())
        assert [p["high_watermark"] for p in topic["partitions"]] == [4, 0]
        assert (await client.get("/topics/absent")).status == 404
        assert (await client.get("/api/groups/absent")).status == 404
        assert (await client.get("/api/topics/orders/messages?offset=x")).status == 400
        assert (await client.get("/api/topics/orders/messages?jsonpath=nope")).status == 400
    run(_with_client(broker, body))


def test_forms_change_state_through_the_handlers_and_report_kafka_errors():
    broker = _broker()

    async def body(client):
        r = await client.post("/topics", data={"name": "new", "partitions": "3", "configs": "segment.ms=600000"},
                              allow_redirects=False)
        assert r.status == 303 and r.headers["Location"].startswith("/topics/new?notice=")
        assert len(broker.logs.get("new").partitions) == 3 and broker.logs.get("new").configs == {"segment.ms": "600000"}
        r = await client.post("/topics", data={"name": "new"}, allow_redirects=False)
        assert "TOPIC_ALREADY_EXISTS" in r.headers["Location"]
        r = await client.post("/topics/new/produce", data={"key": "", "value": "v", "headers": "a: b", "partition": "2"},
                              allow_redirects=False)
        assert r.status == 303 and "offset+0" in r.headers["Location"]
        assert broker.logs.partition("new", 2).high_watermark == 1
        r = await client.post("/topics/new/produce", data={"value": "v", "headers": "no separator"},
                              allow_redirects=False)
        assert "error=" in r.headers["Location"]
        r = await client.post("/topics/new/configs", data={"set": "retention.ms=1000", "delete": "segment.ms"},
                              allow_redirects=False)
        assert "notice=" in r.headers["Location"] and broker.logs.get("new").configs == {"retention.ms": "1000"}
        r = await client.post("/topics/new/empty", allow_redirects=False)
        assert "notice=" in r.headers["Location"] and broker.logs.partition("new", 2).log_start_offset == 1
        r = await client.post("/groups/billing/reset", data={"topic": "orders", "to": "latest"}, allow_redirects=False)
        assert "notice=" in r.headers["Location"]
        assert broker.groups.offsets.get("billing", "orders", 0).committed_offset == 4
        r = await client.post("/groups/billing/reset", data={"topic": "orders", "to": "offset"}, allow_redirects=False)
        assert "needs+a+value" in r.headers["Location"]
        r = await client.post("/groups/billing/delete-offsets", data={"topic": "orders"}, allow_redirects=False)
        assert r.status == 303
        r = await client.post("/topics/new/delete", allow_redirects=False)
        assert r.headers["Location"].startswith("/topics?notice=") and broker.logs.get("new") is None
        r = await client.post("/topics/new/delete", allow_redirects=False)
        assert "UNKNOWN_TOPIC_OR_PARTITION" in r.headers["Location"]
        r = await client.post("/topics", data={"name": "x"}, headers={"Origin": "http://elsewhere.example"},
                              allow_redirects=False)
        assert r.status == 403 and broker.logs.get("x") is None
    run(_with_client(broker, body))


def test_metrics_parse_and_count_what_was_produced():
    broker = _broker()

    async def body(client):
        text = await (await client.get("/metrics")).text()
        families = {f.name: f for f in text_string_to_metric_families(text)}
        samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families.values() for s in f.samples}
        size = sum(p.segments.size for p in broker.logs.get("orders").partitions)
        assert samples[("kafka_server_brokertopicmetrics_bytesin_total", (("topic", "orders"),))] == size
        assert samples[("kafka_server_brokertopicmetrics_messagesin_total", (("topic", "orders"),))] == 4
        assert samples[("kafka_topic_partition_current_offset", (("partition", "0"), ("topic", "orders")))] == 4
        assert samples[("kafka_consumergroup_lag", (("consumergroup", "billing"), ("partition", "0"),
                                                    ("topic", "orders")))] == 3
        assert samples[("kafka_consumergroup_lag_sum", (("consumergroup", "billing"), ("topic", "orders")))] == 3
    run(_with_client(broker, body))

"""The web console in a real browser: Debian's headless chromium driven by Selenium (chromedriver from
Debian's chromium-driver, the same build as the browser, so no driver download and no version skew).

Each page loads and shows what real clients (confluent-kafka) just did; a message produced from the
page is read back by a real consumer; a reset from the page moves a real group's offsets. With
OTTLA_SCREENSHOTS=DIR each page is also saved as DIR/<page>.png (scripts/screenshots.py does that for
docs/screenshots). Ottla-only (the HTTP port): skipped against KAFKA_BOOTSTRAP; skipped with the
reason when chromium or chromedriver is not installed (.ci/run installs both).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from compat_tests import samples
from compat_tests import share_groups as share
from compat_tests.conftest import wait_for

pytestmark = [pytest.mark.groups, pytest.mark.timeout(180)]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
WAIT_S = 20.0


@pytest.fixture(scope="module")
def console(broker):
    if broker.http_port is None:
        pytest.skip("the console is Ottla's HTTP port; KAFKA_BOOTSTRAP points at another broker")
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield Page(driver, f"http://127.0.0.1:{broker.http_port}")
    finally:
        driver.quit()


class Page:
    def __init__(self, driver, base: str) -> None:
        self.driver = driver
        self.base = base

    def open(self, path: str):
        self.driver.get(self.base + path)
        return self

    def css(self, selector: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def all(self, selector: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def text(self, selector: str = "body") -> str:
        return self.css(selector).text

    def fill(self, form: str, **fields) -> None:
        for name, value in fields.items():
            element = self.css(f"{form} [name={name}]")
            if element.tag_name == "select":
                from selenium.webdriver.support.select import Select

                Select(element).select_by_visible_text(value)
            else:
                element.clear()
                element.send_keys(value)

    def submit(self, form: str, confirm: bool = False) -> None:
        from selenium.common.exceptions import WebDriverException

        before = self.css("html")
        self.css(f"{form} button[type=submit]").click()
        if confirm:
            self.driver.switch_to.alert.accept()

        def replaced() -> bool:  # the form's answer is a new page (a redirect after the POST)
            try:
                before.tag_name
                return False
            except WebDriverException:  # stale, or "does not belong to the document": the old page is gone
                pass
            try:
                return self.driver.execute_script("return document.readyState") == "complete"
            except WebDriverException:  # between documents
                return False

        wait_for(replaced, f"the page after submitting {form}")

    def snap(self, name: str) -> None:
        folder = os.environ.get("OTTLA_SCREENSHOTS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            self.driver.save_screenshot(str(Path(folder) / f"{name}.png"))


@pytest.fixture(scope="module")
def seeded(broker, console):
    """A topic with JSON records from confluent-kafka, a group that consumed part of them and left, an
    open transaction, and a share group holding records; the clients stay connected for the pages."""
    bootstrap = broker.bootstrap
    topic = samples.unique_name("console-orders")
    group = samples.unique_name("console-billing")
    share_group = samples.unique_name("console-share")
    share.create_topic(bootstrap, topic, partitions=2)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 500, "client.id": "console-test"})
    for i in range(20):
        producer.produce(topic, partition=i % 2, key=b"customer-%d" % (i % 4),
                         value=json.dumps({"order": i, "status": "paid" if i % 3 == 0 else "new"}).encode(),
                         headers=[("source", b"web"), ("seq", str(i).encode())])
    assert producer.flush(30) == 0
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                         "enable.auto.commit": False})
    consumer.subscribe([topic])
    got = []
    deadline = time.monotonic() + 40
    while len(got) < 20 and time.monotonic() < deadline:
        message = consumer.poll(1.0)
        if message is not None and message.error() is None:
            got.append(message)
    assert len(got) == 20
    consumer.commit(offsets=[TopicPartition(topic, 0, 7), TopicPartition(topic, 1, 4)], asynchronous=False)
    consumer.close()  # the group is Empty now, so resets are allowed
    txn = Producer({"bootstrap.servers": bootstrap, "transactional.id": samples.unique_name("console-txn"),
                    "linger.ms": 10})
    txn.init_transactions(30)
    txn.begin_transaction()
    txn.produce(topic, partition=0, value=b'{"order": "pending"}')
    assert txn.flush(30) == 0
    share.set_group_configs(bootstrap, share_group, {"share.auto.offset.reset": "earliest"})
    sharer = share.share_consumer(bootstrap, share_group, topic, share_acknowledgement_mode="explicit")
    held = wait_for(lambda: share.poll(sharer, 0.5), "the share consumer's first records", 40)
    try:
        yield {"topic": topic, "group": group, "share_group": share_group, "held": len(held), "producer": producer}
    finally:
        txn.abort_transaction(30)
        sharer.close()


def test_pages_show_what_clients_did(console, seeded):
    topic, group = seeded["topic"], seeded["group"]
    console.open("/cluster")
    assert "Brokers" in console.text() and console.all("#brokers tr")[1:]
    console.snap("cluster")
    console.open("/topics")
    row = next(r for r in console.all("#topics tr") if r.text.startswith(topic))
    assert row.text.split()[1:3] == ["2", "21"]  # partitions, messages (20 + the open transaction's record)
    console.snap("topics")
    console.open(f"/topics/{topic}")
    rows = [r.text.split() for r in console.all("#partitions tr")[1:]]
    assert [(r[0], r[3]) for r in rows] == [("0", "11"), ("1", "10")]  # partition, high watermark
    assert rows[0][4] == "10"  # last stable offset: held back by the open transaction
    console.snap("topic")
    console.open(f"/topics/{topic}/messages?partition=0&start=oldest&limit=10")
    messages = console.all("#messages tr.message")
    assert len(messages) == 10
    first = messages[0]
    assert "customer-0" in first.find_element("css selector", "td.key").text
    assert '"order": 0' in first.find_element("css selector", "td.value").text  # pretty-printed JSON
    assert "source" in first.find_element("css selector", "td.headers").text
    console.snap("messages")
    console.open("/groups")
    assert any(r.text.startswith(group) and r.text.split()[-1] == "10" for r in console.all("#groups tr"))
    console.snap("groups")
    console.open(f"/groups/{group}")
    assert console.text("#state") == "Empty" and console.text("#total-lag") == "10"  # 11 - 7 + 10 - 4: against the high watermark
    console.snap("group")
    console.open("/transactions")
    assert "Ongoing" in console.text("#transactions") and topic in console.text("#transactions")
    console.snap("transactions")
    console.open("/shares")
    row = next(r for r in console.all("#share-groups tr") if r.text.startswith(seeded["share_group"]))
    assert int(row.text.split()[4]) >= seeded["held"]  # acquired
    console.snap("shares")
    console.open(f"/shares/{seeded['share_group']}")
    assert topic in console.text("#share-partitions")
    console.snap("share")
    console.open("/clients")
    assert "librdkafka" in console.text("#clients") or "confluent" in console.text("#clients")
    console.snap("clients")


def test_throughput_chart_plots_what_a_client_produces(console, seeded):
    console.open("/throughput")
    producer = seeded["producer"]
    deadline = time.monotonic() + 2 * WAIT_S
    while time.monotonic() < deadline:
        for i in range(50):
            producer.produce(seeded["topic"], partition=1, value=b"x" * 1000)
        producer.flush(10)
        points = console.css("#line-in").get_attribute("points").split()
        enough = 2 if not os.environ.get("OTTLA_SCREENSHOTS") else 8  # a screenshot wants a few seconds of line
        if len(points) >= enough and any(float(p.split(",")[1]) < 230 for p in points):  # a rate above zero
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the produce line never rose")
    assert int(console.text("#total-in")) > 0
    console.snap("throughput")


def test_produce_from_the_page_is_read_by_a_real_consumer(console, seeded, bootstrap):
    topic = seeded["topic"]
    console.open(f"/topics/{topic}")
    console.fill("#produce", partition="1", key="from-the-page", value='{"hello": "browser"}',
                 headers="origin: console\ntrace: 42")
    console.submit("#produce")
    notice = console.text("#notice")
    assert notice.startswith(f"produced to {topic}-1 at offset ")
    offset = int(notice.rsplit(" ", 1)[1])
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": samples.unique_name("console-reader"),
                         "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(topic, 1, offset)])
        message = wait_for(lambda: (lambda m: m if m is not None and m.error() is None else None)(consumer.poll(1.0)),
                        "the record produced from the page")
        assert (message.offset(), message.key(), message.value()) == (offset, b"from-the-page", b'{"hello": "browser"}')
        assert message.headers() == [("origin", b"console"), ("trace", b"42")]
    finally:
        consumer.close()


def test_reset_from_the_page_moves_a_real_groups_offsets(console, seeded, bootstrap):
    topic, group = seeded["topic"], seeded["group"]
    console.open(f"/groups/{group}")
    console.fill("#reset", topic=topic, to="earliest")
    console.submit("#reset")
    assert "reset" in console.text("#notice")
    assert [c.text for c in console.all("#offsets td.committed")] == ["0", "0"]
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        committed = consumer.committed([TopicPartition(topic, 0), TopicPartition(topic, 1)], timeout=15)
        assert [tp.offset for tp in committed] == [0, 0]
    finally:
        consumer.close()
    console.open(f"/groups/{group}")
    console.fill("#reset", topic=topic, to="offset", value="3", partition="0")
    console.submit("#reset")
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        committed = consumer.committed([TopicPartition(topic, 0), TopicPartition(topic, 1)], timeout=15)
        assert [tp.offset for tp in committed] == [3, 0]
    finally:
        consumer.close()


def test_browser_filters_and_hex(console, seeded):
    topic = seeded["topic"]
    console.open(f"/topics/{topic}/messages")
    console.fill("#browse-form", start="oldest", jsonpath='$.status == "paid"', limit="100")
    console.submit("#browse-form")
    values = [json.loads(v.text) for v in console.all("#messages td.value pre.as-json")]
    assert sorted(v["order"] for v in values) == [0, 3, 6, 9, 12, 15, 18]
    console.css("input[name=view][value=hex]").click()
    hex_shown = [e for e in console.all("#messages td.value pre.as-hex") if e.is_displayed()]
    assert hex_shown and hex_shown[0].text.startswith("7b")  # "{"


def test_topic_create_configure_empty_and_delete_from_the_pages(console, seeded):
    name = samples.unique_name("console-made")
    console.open("/topics")
    console.fill("#create-topic", name=name, partitions="3", configs="retention.ms=3600000")
    console.submit("#create-topic")
    assert console.text("#notice") == f"created topic {name}"
    assert len(console.all("#partitions tr")) == 4
    modified = [r.text for r in console.all("#config-table tr.modified")]
    assert modified == ["retention.ms 3600000 DYNAMIC_TOPIC_CONFIG"]
    console.fill("#configs", set="segment.ms=600000")
    console.submit("#configs")
    assert {r.text.split()[0] for r in console.all("#config-table tr.modified")} == {"retention.ms", "segment.ms"}
    console.fill("#produce", partition="2", value="to be emptied")
    console.submit("#produce")
    console.submit("#empty", confirm=True)
    assert console.text("#notice").startswith(f"emptied {name}") and "2:1" in console.text("#notice")
    console.submit("#delete", confirm=True)
    assert console.text("#notice") == f"deleted topic {name}"
    console.open("/topics")
    assert name not in console.text("#topics")
    console.open("/topics")
    console.fill("#create-topic", name="bad name!")
    console.submit("#create-topic")
    assert "INVALID_TOPIC_EXCEPTION" in console.text("#error")

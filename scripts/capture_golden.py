"""Capture request frames from real clients, for the golden-bytes tests in tests/wire/golden/.

Starts Ottla advertising a recording proxy's port, so every connection of every client goes through
the proxy; the first frame of each (client, api key, version) is saved as
tests/wire/golden/<client>-<api_key>-v<version>.bin. Run by hand when a client is upgraded:

    .venv/bin/python scripts/capture_golden.py
"""

from __future__ import annotations

import asyncio
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "wire" / "golden"
BROKER_PORT, PROXY_PORT = 39092, 39093


async def pipe(reader, writer, record):
    buffer = b""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            if record is not None:
                buffer += data
                while len(buffer) >= 4 and len(buffer) >= 4 + struct.unpack(">i", buffer[:4])[0]:
                    size = struct.unpack(">i", buffer[:4])[0]
                    record(buffer[4:4 + size])
                    buffer = buffer[4 + size:]
    finally:
        writer.close()


def recorder(client: str):
    def record(frame: bytes) -> None:
        api_key, version = struct.unpack(">hh", frame[:4])
        path = OUT / f"{client}-{api_key}-v{version}.bin"
        if not path.exists():
            path.write_bytes(frame)
    return record


async def proxy(client_name: list[str]):
    async def handle(reader, writer):
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", BROKER_PORT)
        await asyncio.gather(pipe(reader, up_writer, recorder(client_name[0])), pipe(up_reader, writer, None))
    return await asyncio.start_server(handle, "127.0.0.1", PROXY_PORT)


CLIENTS = {
    "kafka-python": [sys.executable, "-c", """
from kafka import KafkaProducer, KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
b = "127.0.0.1:%d"
KafkaAdminClient(bootstrap_servers=b).create_topics([NewTopic("golden-kp", 1, 1), NewTopic("golden-kafkajs", 1, 1)])
p = KafkaProducer(bootstrap_servers=b); p.send("golden-kp", key=b"k", value=b"v", headers=[("h", b"x")]).get(10); p.close()
c = KafkaConsumer(bootstrap_servers=b, auto_offset_reset="earliest", consumer_timeout_ms=2000)
c.assign([TopicPartition("golden-kp", 0)]); list(c); c.close()
""" % PROXY_PORT],
    "aiokafka": [sys.executable, "-c", """
import asyncio
from aiokafka import AIOKafkaProducer, AIOKafkaConsumer, TopicPartition
async def main():
    b = "127.0.0.1:%d"
    p = AIOKafkaProducer(bootstrap_servers=b); await p.start(); await p.send_and_wait("golden-aio", b"v", key=b"k"); await p.stop()
    c = AIOKafkaConsumer(bootstrap_servers=b, auto_offset_reset="earliest"); await c.start()
    c.assign([TopicPartition("golden-aio", 0)]); await c.getmany(timeout_ms=2000); await c.stop()
asyncio.run(main())
""" % PROXY_PORT],
    "librdkafka": [sys.executable, "-c", """
from confluent_kafka import Producer, Consumer, TopicPartition
b = "127.0.0.1:%d"
p = Producer({"bootstrap.servers": b, "enable.idempotence": True}); p.produce("golden-rdk", b"v", b"k", headers=[("h", b"x")]); p.flush(10)
c = Consumer({"bootstrap.servers": b, "group.id": "golden", "auto.offset.reset": "earliest"})
c.assign([TopicPartition("golden-rdk", 0, 0)]); c.consume(1, 3); c.close()
""" % PROXY_PORT],
    "kcat": ["bash", "-c", "echo hello | kcat -b 127.0.0.1:%d -P -t golden-kcat -k k && "
             "kcat -b 127.0.0.1:%d -C -t golden-kcat -o beginning -e -q" % (PROXY_PORT, PROXY_PORT)],
    "kafkajs": ["node", str(ROOT / "compat_tests" / "js" / "produce.js"),
                '{"bootstrap": "127.0.0.1:%d", "topic": "golden-kafkajs", "idempotent": true, '
                '"messages": [{"key": "k", "value": "v", "headers": [["h", "x"]], "timestamp": 1000}]}' % PROXY_PORT],
}


async def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data:
        broker = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "--port", str(BROKER_PORT),
                                   "--advertised-port", str(PROXY_PORT), "--data-dir", data, "--log-level", "warning"],
                                  cwd=ROOT, stdout=subprocess.PIPE)
        broker.stdout.readline()
        name = [""]
        server = await proxy(name)
        try:
            for client, argv in CLIENTS.items():
                name[0] = client
                child = await asyncio.create_subprocess_exec(*argv, cwd=ROOT)
                await asyncio.wait_for(child.wait(), 60)
                print(client, "exit", child.returncode)
        finally:
            server.close()
            broker.terminate()
            broker.wait(10)


if __name__ == "__main__":
    asyncio.run(main())

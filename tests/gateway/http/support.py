"""An in-process broker (memory engine) with the metrics on, and the aiohttp test client on its app."""

import asyncio

from gateway import handlers  # noqa: F401  (registers every API handler)
from gateway.broker import Broker
from gateway.config import Config
from gateway.metrics import Metrics
from partitions.memory import MemoryStorage


def new_broker() -> Broker:
    broker = Broker(Config(memory=True, port=9092), MemoryStorage())
    broker.metrics = Metrics()
    return broker


def run(coro):
    return asyncio.run(coro)

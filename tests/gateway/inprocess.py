"""Handlers called in-process against the memory engine: request and response both go through the codecs."""

from __future__ import annotations

import asyncio

import structlog

from gateway import handlers  # noqa: F401  (fills the registry)
from gateway.broker import Broker
from gateway.config import Config
from gateway.registry import RequestContext, lookup
from partitions.memory import MemoryStorage
from wire.codec import decode, encode


def new_broker(storage=None, **config) -> Broker:
    return Broker(Config(**{"memory": True, **config}), storage if storage is not None else MemoryStorage())


def call(broker: Broker, api_key: int, version: int, body: dict, client_id: str = "test",
         principal: str = "User:ANONYMOUS", peer: str = ""):
    """The decoded response to `body` sent at `version` (None when the handler sends none)."""
    registration = lookup(api_key, version)
    assert registration is not None, f"api {api_key} v{version} is not served"
    request = decode(registration.api.request, version, encode(registration.api.request, version, body))
    ctx = RequestContext(broker, api_key, version, 1, client_id, structlog.get_logger(), peer=peer,
                         principal=principal)
    response = asyncio.run(registration.handler(ctx, request))
    if response is None:
        return None
    return decode(registration.api.response, version, encode(registration.api.response, version, response))

"""Faults on the request path: the pipeline swaps a request's handler for `faulted(...)` only while
some fault is armed (its one check when none is: `faults.armed`).

The wrapper sees the decoded request, asks the model which faults fire, then delays the request
(`delay_ms`, then it is handled or answered as below), drops the connection without answering
(`DropConnection`, which the pipeline turns into a close), or answers with the error built from the
declarations (gateway.faults.responses) instead of calling the handler. Nothing stored is touched.
A fault with a topic (and partition) matcher on an API whose errors are per partition answers only
the matched partitions with its error; the rest of the request is handled (gateway.faults.partial).
"""

from __future__ import annotations

import asyncio
from functools import partial

from gateway.faults.model import FaultSet


class DropConnection(Exception):
    """A fault closes this connection at this request, unanswered."""


class _Disarmed:
    armed = False


DISARMED = _Disarmed()  # what a pipeline reads when its broker has no FaultSet (tests' fakes)


def faults_of(broker) -> FaultSet | _Disarmed:
    return getattr(broker, "faults", None) or DISARMED


def faulted(reg, faults: FaultSet):
    """`reg` with its handler wrapped by the faults (the same `reg` when none could match its API)."""
    if not faults.wants(reg.api.key):
        return reg
    wrapped = faults.wrapped.get(reg.api.key)
    if wrapped is None or wrapped[0] is not reg:
        from dataclasses import replace

        wrapped = (reg, replace(reg, handler=partial(_handle, faults, reg)))
        faults.wrapped[reg.api.key] = wrapped
    return wrapped[1]


def _node_id(ctx) -> int:
    node = getattr(ctx, "node", None)
    return node.node_id if node is not None else ctx.broker.node_id


def _topic_name(broker, topic_id: bytes) -> str | None:
    topic = broker.logs.get_by_id(topic_id)
    return topic.name if topic is not None else None


async def _handle(faults: FaultSet, reg, ctx, request):
    from gateway.faults.requests import request_facts  # only once a fault is armed: not at start-up
    from gateway.faults.responses import error_response

    api = reg.api
    facts = request_facts(api.request, ctx.api_version, request, api_key=api.key, broker=_node_id(ctx),
                          client_id=ctx.client_id, topic_name=partial(_topic_name, ctx.broker))
    decision = faults.decide(facts)
    if decision is None:
        return await reg.handler(ctx, request)
    ctx.log.info("fault_fired", faults=[f.id for f in decision.faults], node_id=facts.broker,
                 error=decision.error.name if decision.error is not None else None, delay_ms=decision.delay_ms,
                 drop_connection=decision.drop_connection)
    if decision.delay_ms:
        await asyncio.sleep(decision.delay_ms / 1000)
    if decision.drop_connection:
        raise DropConnection()
    if decision.error is not None:
        erring = next(f for f in decision.faults if f.error is not None)
        if erring.topic is not None:
            answer = await _partial(erring, decision, reg, ctx, request)
            if answer is not _WHOLE:
                return answer
        return error_response(api.key, api.request, api.response, ctx.api_version, request, int(decision.error),
                              decision.message)
    return await reg.handler(ctx, request)


_WHOLE = object()


async def _partial(fault, decision, reg, ctx, request):
    """Only the matched partitions answer the error; the rest is handled (gateway.faults.partial)."""
    from gateway.faults import partial as p

    api = reg.api
    shape = p.shape(api.request, api.response, ctx.api_version)
    if shape is None:
        return _WHOLE
    halves = p.split(shape, request, fault.topic, fault.partition, partial(_topic_name, ctx.broker))
    if halves is None:
        return _WHOLE
    rest, matched = halves
    answer = p.injected(api, ctx.api_version, matched, int(decision.error), decision.message)
    if not rest.get(shape.topics.name):
        return answer
    return p.merge(shape, request, await reg.handler(ctx, rest), answer)

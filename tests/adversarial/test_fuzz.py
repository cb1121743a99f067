"""The schema-driven fuzzer in CI: a bounded budget over every served API and version, no findings.

`scripts/fuzz.py --frames 1000000` is the long run (the README has its figure).
"""

from __future__ import annotations

import asyncio
import os

from gateway.registry import HANDLERS
from tests.adversarial.fuzzer import Harness, Limits

BUDGET_S = float(os.environ.get("OTTLA_FUZZ_SECONDS", "20"))


def test_no_frame_makes_a_handler_fail_or_a_response_unencodable():
    harness = Harness(seed=int(os.environ.get("OTTLA_FUZZ_SEED", "10")), limits=Limits())
    report = asyncio.run(harness.run(seconds=BUDGET_S))
    assert not report.findings, report.summary()
    served_keys = {key for key, _ in report.served}
    assert served_keys == set(HANDLERS), f"never reached: {set(HANDLERS) - served_keys}"
    assert report.outcomes["answered"] > report.frames // 2, report.summary()  # not all rejected at the decoder


def test_the_fuzzer_finds_a_handler_that_raises():
    """The harness's own check: a handler bug planted for one API is reported, with its API and version."""
    harness = Harness(seed=3)
    registration = HANDLERS[18]  # ApiVersions

    async def broken(ctx, request):
        raise RuntimeError("planted")

    harness_targets = [(18, v) for v in range(registration.advertised_min, registration.max_version + 1)]
    harness.targets = harness_targets
    harness._sweep = list(harness_targets)
    original = registration.handler
    object.__setattr__(registration, "handler", broken)
    try:
        report = asyncio.run(harness.run(frames=50))
    finally:
        object.__setattr__(registration, "handler", original)
    assert any(f.kind == "handler_failed" and f.api == "ApiVersions" for f in report.findings.values())

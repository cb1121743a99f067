"""The schema-driven fuzzer, outside CI: every served API and version, mutated at its limits.

    .venv/bin/python scripts/fuzz.py --frames 1000000        # the README's long run
    .venv/bin/python scripts/fuzz.py --seconds 60 --seed 7

Prints the outcome counts and every distinct finding (`handler_failed`, `response_encode_failed`);
exits 1 when there is one. The engine is tests/adversarial/fuzzer.py (CI runs it for ~20 s).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.logs import configure  # noqa: E402
from tests.adversarial.fuzzer import Harness, Limits  # noqa: E402


async def main_async(args) -> int:
    configure("error")  # coordinators log what they do: millions of lines would be the run's cost
    limits = Limits(huge_array=args.huge_array)
    harness = Harness(seed=args.seed, limits=limits)
    step = args.report_every
    done = 0
    while args.frames is None or done < args.frames:
        batch = step if args.frames is None else min(step, args.frames - done)
        report = await harness.run(frames=batch, seconds=args.seconds)
        done += batch
        print(f"{report.frames:,} frames, {report.seconds:.0f} s, {len(report.findings)} findings", flush=True)
        if args.seconds is not None and report.seconds >= args.seconds:
            break
    print(harness.report.summary())
    return 1 if harness.report.findings else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=None, help="stop after this many frames")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--huge-array", type=int, default=2000, help="the largest array a request may carry")
    parser.add_argument("--report-every", type=int, default=50_000)
    args = parser.parse_args()
    if args.frames is None and args.seconds is None:
        args.frames = 1_000_000
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()

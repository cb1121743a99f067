"""The cyclic GC held back while `ottla serve` starts (gateway/cli.py), given back once Server.start has frozen what
start-up loaded (gateway/server.py).

Start-up makes ~25,000 objects that live as long as the broker (modules, classes, functions, config tables) and
almost no cyclic garbage: the GC's passes over them (45 young and 4 middle collections, 9-10 ms of the ~110 ms to
the first Metadata) find nothing to free. `hold()` stops automatic collection; `release()` runs right after
`gc.freeze()` has moved everything start-up made to the permanent generation, and restores the automatic
collection as it was, so a serving broker collects as before. The few hundred cycles start-up does leave (argparse's
help formatters, datetime.py's pure-Python classes that `_datetime` replaces) are frozen with the rest instead of
collected: README, Start-up and idle memory, fourth pass.
"""

from __future__ import annotations

import gc

_held = False


def hold() -> None:
    """Stop automatic collection until release() (only if it is on: a caller's gc.disable() is left alone)."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def release() -> None:
    """Automatic collection back on, if hold() stopped it; otherwise nothing."""
    global _held
    if _held:
        _held = False
        gc.enable()


def held() -> bool:
    return _held

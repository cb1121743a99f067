"""`datetime` without running datetime.py's pure-Python half, for `ottla serve` (gateway/cli.py calls `install()`
before anything imports it; structlog.processors does, for its timestamps).

CPython's datetime.py defines every class and function in Python (~160 functions, 7 classes), then replaces them
all with `from _datetime import *` (the C implementation) and deletes its own: the module a program sees holds
only `_datetime`'s names, `__all__` and `sys`. Running it costs ~1 ms of start-up CPU and leaves its pure-Python
classes and functions as cyclic garbage (with their code objects ~0.25 MiB, which start-up's held-back GC,
gateway/startup_gc.py, would freeze). `install()` makes that same module directly: a module object from
datetime's own spec (its name, file, loader), holding `_datetime`'s public names and docstring, datetime.py's
`__all__` and `sys`. Without `_datetime` (another Python), or with datetime imported already, nothing is done and
datetime.py runs as usual. tests/gateway/test_c_datetime.py compares the module with one datetime.py made.
"""

from __future__ import annotations

import sys

ALL = ("date", "datetime", "time", "timedelta", "timezone", "tzinfo", "MINYEAR", "MAXYEAR", "UTC")  # datetime.py's


def install() -> bool:
    """Put the module in sys.modules as `datetime` (True), unless it is imported already or _datetime is missing."""
    if "datetime" in sys.modules:
        return False
    try:
        import _datetime
    except ImportError:
        return False
    from importlib.util import find_spec, module_from_spec

    spec = find_spec("datetime")
    if spec is None or spec.origin is None:
        return False
    module = module_from_spec(spec)
    module.__dict__.update({k: v for k, v in vars(_datetime).items() if not k.startswith("__")})
    module.__doc__ = _datetime.__doc__
    module.__all__ = ALL
    module.sys = sys
    sys.modules["datetime"] = module
    return True

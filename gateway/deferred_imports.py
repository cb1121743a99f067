"""Standard-library modules that the broker's dependencies import at start-up but a serving broker may never call:
bound at once, run on first use (`ottla` calls `defer_unused()` before anything else is imported).

- `pdb` (and with it bdb, cmd, code, codeop, glob, pprint): construct's package `__init__` imports construct.debug
  for its Debugger construct, which calls pdb.post_mortem. Ottla never uses Debugger.
- `hashlib` (OpenSSL's _hashlib and its digest table): construct.core imports it for Compiled's cache key. Ottla
  never compiles a construct; SCRAM (gateway/security/scram.py, credentials.py) uses hashlib when a SASL/SCRAM
  listener or `--user` is configured, and its first attribute read runs it then.

`defer(name)` puts in sys.modules a module object made from the module's spec (its name, file, loader) whose code
has not run yet. `import pdb` anywhere binds that object as usual; the first read of an attribute it does not have
yet (`pdb.post_mortem`, `hashlib.sha256`, `from hashlib import pbkdf2_hmac`, `breakpoint()`) runs the module's code
in that same object, once, and from then on it is an ordinary module (its class is types.ModuleType again, so later
reads cost nothing extra). The run holds the module's own lock: a second thread's first read waits for it rather than seeing a
half-run module (Python 3.11's importlib.util.LazyLoader lets it see one, fixed in 3.13). A module already imported,
or one without a source loader, is left alone. Not for modules whose attributes are read at import time by what
the broker imports anyway (ssl: asyncio.sslproto and uvloop read ssl.SSLError and others as they are imported, so
OpenSSL is loaded whatever the listeners; README, Latency and efficiency: start-up).
"""

from __future__ import annotations

import sys
import threading
import types
from importlib.util import find_spec, module_from_spec

UNUSED_AT_START = ("pdb", "hashlib")
_locks: dict[str, threading.RLock] = {}  # one per deferred module: only that module's first readers wait
_running: set[str] = set()


class DeferredModule(types.ModuleType):
    """A module whose code runs at the first read of a missing attribute (`__getattr__` runs only for those)."""

    def __getattr__(self, attr: str):
        spec = self.__spec__
        with _locks[spec.name]:
            if type(self) is DeferredModule and spec.name not in _running:
                _running.add(spec.name)
                try:
                    spec.loader.exec_module(self)
                except BaseException:
                    if sys.modules.get(spec.name) is self:
                        del sys.modules[spec.name]  # as a failed import: the next `import` tries again
                    raise
                finally:
                    _running.discard(spec.name)
                    self.__class__ = types.ModuleType
        return types.ModuleType.__getattribute__(self, attr)  # AttributeError as usual when it has none


def defer(name: str) -> bool:
    """Bind `name` without running it (True), unless it is imported already or cannot be deferred (False)."""
    if name in sys.modules or "." in name:
        return False
    spec = find_spec(name)
    if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module") or spec.origin is None:
        return False
    module = module_from_spec(spec)
    _locks[name] = threading.RLock()
    module.__class__ = DeferredModule
    sys.modules[name] = module
    return True


def defer_unused() -> None:
    for name in UNUSED_AT_START:
        defer(name)


def is_deferred(name: str) -> bool:
    """True while `name` is bound but its code has not run."""
    return type(sys.modules.get(name)) is DeferredModule

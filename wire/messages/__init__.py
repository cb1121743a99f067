"""Every declared Kafka API by api key: the one registry that codecs, ApiVersions and tests read.

Each module in this package declares one API (or a small family) as `Api` objects; they are
collected here, and declaring one api key twice is an error.
"""

from __future__ import annotations

import importlib
import pkgutil

from wire.schema import Api

APIS: dict[int, Api] = {}


def _collect() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, Api):
                if value.key in APIS and APIS[value.key] is not value:
                    raise ValueError(f"api key {value.key} declared twice ({APIS[value.key].name}, {value.name})")
                APIS[value.key] = value


_collect()

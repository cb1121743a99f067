"""CRC-32C (Castagnoli) from the `crc32c` wheel's C extension, loaded without its package's __init__.

That __init__ reads its own version through importlib.metadata, which imports email, zipfile and
more: most of the broker's start-up import time on the produce path's account (start-up to the first
Metadata is a goal, issue 14). The extension module itself is the same one `from crc32c import
crc32c` returns; if the wheel's layout ever changes, the ordinary import is used.
"""

from __future__ import annotations


def _load():
    try:
        import importlib.machinery
        import importlib.util
        import sys

        spec = importlib.util.find_spec("crc32c")  # finds the package without running it
        for directory in spec.submodule_search_locations or ():
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                path = f"{directory}/_crc32c{suffix}"
                try:
                    open(path, "rb").close()
                except OSError:
                    continue
                loader = importlib.machinery.ExtensionFileLoader("crc32c._crc32c", path)
                module = importlib.util.module_from_spec(importlib.util.spec_from_file_location(
                    "crc32c._crc32c", path, loader=loader))
                loader.exec_module(module)
                sys.modules.setdefault("crc32c._crc32c", module)
                return module.crc32c
    except Exception:  # any surprise: the package's own import below
        pass
    from crc32c import crc32c as function

    return function


crc32c = _load()

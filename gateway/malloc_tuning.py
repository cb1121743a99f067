"""glibc malloc's thresholds for big buffers, set once the broker serves records.

Fetch and Produce handle buffers of 0.1-50 MB (a partition's batches joined, a response encoded, a
request copied to be stamped). glibc serves every allocation above its mmap threshold (128 KiB at
first, raised by each freed mapping up to 32 MiB) with a fresh mapping and returns freed heap above
its trim threshold to the kernel, so such a buffer costs a page fault per 4 KiB each time it is made:
an 8-partition Fetch (8 MB) spent 1.4 ms/MB of broker CPU, of which 1.2 ms was faults (in-process,
RocksDB: 0.22 ms/MB with the thresholds below). So the thresholds are fixed where glibc's own dynamic
rule can take them anyway (mmap 32 MiB, its maximum; trim twice that), and buffers up to 32 MiB are
reused from the heap. So that a burst's memory is still given back (tests/gateway/test_resource_bounds.py),
the broker's MemoryPool calls give_back() (malloc_trim) when it empties after holding at least
GIVE_BACK_AFTER_BYTES (requests and unsent responses): a steady consumer's 8 MB responses are reused,
a 50 MB one or a flood of half-sent requests is returned. Not glibc (musl, macOS): nothing is changed.

Deferred to the first Produce or Fetch, so start-up does not import ctypes.
"""

from __future__ import annotations

import structlog

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
MMAP_THRESHOLD = 32 << 20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit: the largest it accepts
TRIM_THRESHOLD = 64 << 20  # what glibc sets itself when its mmap threshold reaches 32 MiB

GIVE_BACK_AFTER_BYTES = 16 << 20

tried = False  # the handlers call tune() until this is set
_libc = None  # set once the thresholds are applied


def tune() -> bool:
    """Set the thresholds once (later calls do nothing); True if glibc took them."""
    global tried, _libc
    if tried:
        return False
    tried = True
    import os

    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):  # not a glibc system
        glibc = None
    if not glibc:
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        ok = bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(libc.mallopt(M_TRIM_THRESHOLD,
                                                                                      TRIM_THRESHOLD))
    except (OSError, AttributeError, ValueError):
        ok = False
    if ok:
        _libc = libc
    structlog.get_logger().info("malloc_thresholds_set", applied=ok, libc=glibc, mmap_threshold=MMAP_THRESHOLD,
                                trim_threshold=TRIM_THRESHOLD)
    return ok


def give_back() -> None:
    """Return the heap's free memory to the kernel now (after a burst); nothing before tune() applied."""
    if _libc is not None:
        _libc.malloc_trim(0)

"""glibc malloc's thresholds for big buffers, set once the broker serves records.

Fetch and Produce handle buffers of 0.1-50 MB (a partition's batches joined, a response encoded, a
request copied to be stamped). glibc serves every allocation above its mmap threshold (128 KiB at
first, raised by each freed mapping up to 32 MiB) with a fresh mapping and returns freed heap above
its trim threshold to the kernel, so such a buffer costs a page fault per 4 KiB each time it is made:
an 8-partition Fetch (8 MB) spent 1.4 ms/MB of broker CPU, of which 1.2 ms was faults (in-process,
RocksDB: 0.22 ms/MB with the thresholds below). So the thresholds are fixed where glibc's own dynamic
rule can take them anyway (mmap 32 MiB, its maximum; trim twice that), and buffers up to 32 MiB are
reused from the heap. Cost: up to TRIM_THRESHOLD of freed heap stays mapped after a burst
(ARCHITECTURE.md, resource model). Not glibc (musl, macOS): nothing is changed.

Deferred to the first Produce or Fetch, so start-up does not import ctypes.
"""

from __future__ import annotations

import structlog

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
MMAP_THRESHOLD = 32 << 20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit: the largest it accepts
TRIM_THRESHOLD = 64 << 20  # what glibc sets itself when its mmap threshold reaches 32 MiB

tried = False  # the handlers call tune() until this is set


def tune() -> bool:
    """Set the thresholds once (later calls do nothing); True if glibc took them."""
    global tried
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
    structlog.get_logger().info("malloc_thresholds_set", applied=ok, libc=glibc, mmap_threshold=MMAP_THRESHOLD,
                                trim_threshold=TRIM_THRESHOLD)
    return ok

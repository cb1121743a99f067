"""How much of a client's data the kernel may hold for a connection before the broker reads it.

Kafka sets socket.receive.buffer.bytes (100 KiB by default) on its listening socket, which accepted
connections inherit; Ottla does the same (gateway/node.py bind). With the OS's autotuned buffer (up to
net.ipv4.tcp_rmem's max, 32 MiB here) a loop that fell behind let 3-12 MB of a producer's small
requests queue in the kernel where no stamp sees them (30-110 ms of 108,000 records/s at 8 partitions):
the client saw a writable socket and went on sending one small request per partition each linger.ms.
Bounded, the client cannot write, its records wait in its own queue and go in larger requests.

A connection whose request is larger than that gets a buffer of its largest request (up to
MAX_BYTES; Linux doubles what is set, so about two such requests fit): a 1 MB request through a
100 KiB window arrives in pieces, each waiting for the client to be woken and write again (closed-loop
produce at 1 partition cost 1.63 ms of broker CPU per MB against 1.11 with the OS's buffer, 3
alternated runs each; grown to the request's size, 1.30 against 1.37). The buffer only grows, so what
waits unseen is bounded by about two of the connection's largest requests, whose cost per byte is the
lowest (a client that fell behind batches its records into them).
"""

from __future__ import annotations

import socket

MAX_BYTES = 4 * 1024 * 1024  # (Linux also caps SO_RCVBUF at net.core.rmem_max, and doubles it for bookkeeping)
NEVER = 1 << 62  # a request size no connection sends: the buffer is not grown (the OS's, or at MAX_BYTES)


def initial_fit(broker) -> int:
    """The request size above which a new connection's buffer grows: the configured size; NEVER when
    socket.receive.buffer.bytes is -1 (the OS's autotuned buffer, left alone)."""
    configs = getattr(broker, "configs", None)
    size = configs.broker("socket.receive.buffer.bytes") if configs is not None else -1
    return size if size > 0 else NEVER


def grow(transport, request_bytes: int) -> int:
    """Set the connection's receive buffer to `request_bytes` (at most MAX_BYTES). Returns the request size
    it now fits: the caller grows it again only for a larger one."""
    want = min(MAX_BYTES, request_bytes)
    extra = getattr(transport, "get_extra_info", None)
    sock = extra("socket") if extra is not None else None
    if sock is None:
        return NEVER
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, want)
    except (OSError, AttributeError):  # (a closed socket, or a transport without socket options)
        return NEVER
    return NEVER if want >= MAX_BYTES else request_bytes

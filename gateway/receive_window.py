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


def listener_bytes(receive_buffer_bytes: int) -> int | None:
    """The rule for socket.receive.buffer.bytes, in one place: > 0 is the SO_RCVBUF a listener gets (and
    its accepted connections inherit); anything else (Kafka's -1) leaves the OS's autotuned buffer (None)."""
    return receive_buffer_bytes if receive_buffer_bytes > 0 else None


def initial_fit(broker, node=None) -> int:
    """The request size above which a new connection's buffer grows: what its listener was given (the
    node's `receive_buffer_bytes`, set by Node.bind); NEVER for the OS's autotuned buffer, left alone.
    Without a bound node (a pipeline outside a server: tests, benches) the broker's config by the same
    rule; a test double without configs: the OS's."""
    if node is not None and node.bound:
        size = node.receive_buffer_bytes
    else:
        configs = getattr(broker, "configs", None)
        size = listener_bytes(configs.broker("socket.receive.buffer.bytes")) if configs is not None else None
    return NEVER if size is None else size


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

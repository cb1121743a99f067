"""gateway/receive_window.py: a connection's kernel receive buffer starts at socket.receive.buffer.bytes and
grows to its largest request (up to MAX_BYTES), never shrinking; -1 leaves the OS's autotuned buffer."""

from __future__ import annotations

import socket

from gateway import receive_window
from gateway.broker import Broker
from gateway.config import Config
from gateway.pipeline import ConnectionLimits, RequestPipeline
from partitions.memory import MemoryStorage
from tests.gateway.test_pipeline import FakeTransport, metadata, produce, run, settle


class SocketTransport(FakeTransport):
    """A fake transport over a real socket (get_extra_info("socket")), for its socket options and FIONREAD."""

    def __init__(self, sock) -> None:
        super().__init__()
        self.sock = sock

    def get_extra_info(self, name, default=None):
        return self.sock if name == "socket" else default


def _rcvbuf(sock) -> int:
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)


def test_a_request_larger_than_the_buffer_grows_it_to_its_size_and_smaller_ones_do_not():
    async def main():
        left, right = socket.socketpair()
        try:
            right.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 100 * 1024)  # as accepted from the listener
            start = _rcvbuf(right)
            broker = Broker(Config(memory=True), MemoryStorage())
            assert receive_window.initial_fit(broker) == 102400  # Kafka's default
            transport = SocketTransport(right)
            pipeline = RequestPipeline(broker, transport, connection_id="c-1", peer="p", limits=ConnectionLimits())
            transport.pipeline = pipeline
            pipeline.receive_data(metadata(1) + produce("t", b"v" * 1000, 2))  # small: left alone
            await settle()
            assert _rcvbuf(right) == start
            big = produce("t", b"w" * 300_000, 3)
            pipeline.receive_data(big)
            await settle()
            grown = _rcvbuf(right)
            assert grown >= len(big) - 4 > start  # (Linux reports twice what was set)
            pipeline.receive_data(produce("t", b"x" * 200_000, 4))  # smaller than the largest: no shrinking
            await settle()
            assert _rcvbuf(right) == grown
            assert [c for c, _ in transport.frames()] == [1, 2, 3, 4]
        finally:
            left.close()
            right.close()
    run(main())


def test_grow_is_capped_and_then_stops_asking():
    with socket.socket() as sock:
        assert receive_window.grow(SocketTransport(sock), 64 * 1024 * 1024) == receive_window.NEVER
        assert _rcvbuf(sock) <= 2 * receive_window.MAX_BYTES
    assert receive_window.grow(FakeTransport(), 1 << 20) == receive_window.NEVER  # no socket: nothing to set


def test_minus_one_leaves_the_os_buffer_alone():
    broker = Broker(Config(memory=True, properties=(("socket.receive.buffer.bytes", "-1"),)), MemoryStorage())
    assert receive_window.initial_fit(broker) == receive_window.NEVER
    assert receive_window.initial_fit(object()) == receive_window.NEVER  # (a test double without configs)

"""socket.receive.buffer.bytes: the SO_RCVBUF of the broker's listening sockets, which accepted connections
inherit (as Kafka's acceptor sets it on its server socket); -1 leaves the OS's autotuned buffer."""

from __future__ import annotations

import socket

from gateway.configs.broker_defs import BROKER_CONFIGS
from gateway.node import Endpoint, Node


def _accepted_rcvbuf(receive_buffer_bytes: int | None) -> tuple[int, int]:
    node = Node(0, [Endpoint("PLAINTEXT", "127.0.0.1", 0, "127.0.0.1", 0)])
    (listener,) = node.bind() if receive_buffer_bytes is None else node.bind(receive_buffer_bytes)
    try:
        with socket.create_connection(listener.getsockname()) as client:
            listener.setblocking(True)
            accepted, _ = listener.accept()
            with accepted:
                return (listener.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
                        accepted.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
    finally:
        listener.close()


def test_accepted_connections_inherit_the_configured_receive_buffer():
    with socket.socket() as plain:
        os_default = plain.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    listener, accepted = _accepted_rcvbuf(100 * 1024)
    # Linux reports twice the value set (its bookkeeping share); either way not the OS's default
    assert listener == accepted and accepted in (100 * 1024, 200 * 1024) and accepted != os_default


def test_minus_one_and_no_value_leave_the_os_buffer():
    with socket.socket() as plain:
        os_default = plain.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    assert _accepted_rcvbuf(-1)[0] == os_default
    assert _accepted_rcvbuf(None)[0] == os_default


def test_the_config_is_acted_on_with_kafkas_default():
    key = BROKER_CONFIGS["socket.receive.buffer.bytes"]
    assert key.default == 102400 and key.ignored is None

"""A blocking test client that speaks the protocol through the project's own codecs."""

from __future__ import annotations

import socket
import struct

from wire.codec import decode, encode
from wire.headers import encode_request_header, response_header_size
from wire.messages import APIS


class RawClient:
    def __init__(self, address: tuple[str, int], client_id: str = "raw-test", timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(address, timeout=timeout)
        self.client_id = client_id
        self.next_correlation_id = 1

    @classmethod
    def once_listening(cls, address: tuple[str, int], within_s: float = 60.0) -> "RawClient":
        """Connected as soon as a broker that is starting accepts (polling; OSError after `within_s`)."""
        import time

        deadline = time.monotonic() + within_s
        while True:
            try:
                return cls(address, timeout=30)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def send(self, api_key: int, version: int, body: dict, correlation_id: int | None = None) -> int:
        if correlation_id is None:
            correlation_id = self.next_correlation_id
            self.next_correlation_id += 1
        payload = encode_request_header(api_key, version, correlation_id, self.client_id)
        payload += encode(APIS[api_key].request, version, body)
        self.send_raw(struct.pack(">i", len(payload)) + payload)
        return correlation_id

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv_frame(self) -> bytes:
        size = struct.unpack(">i", self._read(4))[0]
        return self._read(size)

    def recv(self, api_key: int, version: int) -> tuple[int, object]:
        """(correlation id, decoded body) of the next response."""
        frame = self.recv_frame()
        correlation_id = struct.unpack_from(">i", frame)[0]
        return correlation_id, decode(APIS[api_key].response, version, frame, response_header_size(api_key, version))

    def request(self, api_key: int, version: int, body: dict):
        sent = self.send(api_key, version, body)
        correlation_id, response = self.recv(api_key, version)
        assert correlation_id == sent
        return response

    def is_closed_by_peer(self, wait: float = 5.0) -> bool:
        self.sock.settimeout(wait)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def _read(self, n: int) -> bytes:
        chunks = []
        while n:
            chunk = self.sock.recv(n)
            if not chunk:
                raise ConnectionError("closed by broker")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self.sock.close()

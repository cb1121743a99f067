"""One request, one answer, for the few admin APIs no client library offers yet (KIP-932's ShareGroupDescribe and
DescribeShareGroupOffsets, ListGroups' type filter): encoded and decoded with Ottla's own declarations in
wire/messages (the ones the broker's decoders use and the fuzzer checks), over a blocking socket.

Only PLAINTEXT: a --command-config asking for SSL or SASL is refused with a usage error rather than sent in
clear. Versions are the highest both this side and the broker's ApiVersions answer support.
"""

from __future__ import annotations

import socket
import struct
from typing import Any

from gateway.tools._output import CliError, kafka_error_name, usage

API_VERSIONS_KEY = 18


class Connection:
    def __init__(self, host: str, port: int, timeout: float, client_id: str = "ottla-cli"):
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as error:
            raise CliError(f"cannot connect to {host}:{port}: {error.strerror or error}", name="_TRANSPORT") from None
        self.reader = self.sock.makefile("rb")
        self.client_id = client_id
        self.correlation_id = 0
        self.versions: dict[int, tuple[int, int]] = {}
        answer = self._send(API_VERSIONS_KEY, 3, {"client_software_name": "ottla-cli", "client_software_version": "1"})
        self.versions = {a.api_key: (a.min_version, a.max_version) for a in answer.api_keys}

    def version(self, api_key: int) -> int:
        from wire.messages import APIS

        ours = APIS[api_key].request.valid_versions
        low, high = self.versions.get(api_key, (0, -1))
        common = [v for v in range(low, high + 1) if v in ours]
        if not common:
            raise CliError(f"the broker does not offer {APIS[api_key].name} (key {api_key})",
                           name="UNSUPPORTED_VERSION")
        return max(common)

    def request(self, api_key: int, body: dict[str, Any]) -> tuple[int, Any]:
        """(the version used, the decoded answer)."""
        version = self.version(api_key)
        return version, self._send(api_key, version, body)

    def _send(self, api_key: int, version: int, body: dict[str, Any]):
        from wire.codec import decode, encode
        from wire.headers import encode_request_header, response_header_size
        from wire.messages import APIS

        self.correlation_id += 1
        payload = encode_request_header(api_key, version, self.correlation_id, self.client_id)
        payload += encode(APIS[api_key].request, version, body)
        try:
            self.sock.sendall(struct.pack(">i", len(payload)) + payload)
            head = self.reader.read(4)
            if len(head) < 4:
                raise ConnectionError("connection closed")
            (size,) = struct.unpack(">i", head)
            frame = self.reader.read(size)
            if len(frame) < size:
                raise ConnectionError("connection closed mid-answer")
        except (OSError, ConnectionError) as error:
            raise CliError(f"{APIS[api_key].name}: {error}", name="NETWORK_EXCEPTION") from None
        (correlation,) = struct.unpack(">i", frame[:4])
        if correlation != self.correlation_id:
            raise CliError(f"{APIS[api_key].name}: answer for correlation id {correlation}", name="CORRUPT_MESSAGE")
        return decode(APIS[api_key].response, version, frame, response_header_size(api_key, version))

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


def check_plaintext(config: dict[str, Any]) -> None:
    protocol = str(config.get("security.protocol", "PLAINTEXT")).upper()
    if protocol != "PLAINTEXT":
        raise usage(f"this verb speaks PLAINTEXT only (its APIs are in no client library yet); security.protocol "
                    f"is {protocol}")


def raise_for(code: int, message: str | None, what: str) -> None:
    if code:
        name = kafka_error_name(code)
        raise CliError(f"{what}: {message or name}", name=name)

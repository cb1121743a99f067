"""A client of the control API (gateway/http/control.py) with the standard library only: what the
`ottla broker|fault|leader` tools and ottla.testing call. Errors raise `ControlError(status, message)`.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request

ENV_CONTROL = "OTTLA_CONTROL"


class ControlError(Exception):
    def __init__(self, status: int, message: str, body: dict | None = None) -> None:
        super().__init__(f"{status}: {message}")
        self.status, self.message, self.body = status, message, body or {}


def control_url(given: str | None) -> str | None:
    """--control URL, else $OTTLA_CONTROL; "host:port" alone means http://host:port."""
    url = given or os.environ.get(ENV_CONTROL)
    if url and "://" not in url:
        url = "http://" + url
    return url.rstrip("/") if url else None


class ControlClient:
    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def request(self, method: str, path: str, body: dict | None = None, timeout: float | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                answer = json.loads(exc.read() or b"{}")
            except ValueError:
                answer = {}
            raise ControlError(exc.code, answer.get("error") or exc.reason, answer) from None
        except (urllib.error.URLError, OSError) as exc:
            raise ControlError(0, f"cannot reach the control API at {self.url}: {getattr(exc, 'reason', exc)}") from None

    # the cluster ---------------------------------------------------------------------------------

    def cluster(self) -> dict:
        return self.request("GET", "/v1/cluster")

    def broker(self, node_id: int, operation: str) -> dict:
        if operation not in ("stop", "start", "pause", "resume"):
            raise ValueError(operation)
        return self.request("POST", f"/v1/brokers/{int(node_id)}/{operation}")

    def move_leader(self, topic: str, partition: int, node_id: int) -> dict:
        return self.request("POST", f"/v1/partitions/{urllib.parse.quote(topic, safe='')}/{int(partition)}/leader",
                            {"broker": int(node_id)})

    def set_isr(self, topic: str, partition: int, node_ids: list[int]) -> dict:
        return self.request("POST", f"/v1/partitions/{urllib.parse.quote(topic, safe='')}/{int(partition)}/isr",
                            {"brokers": [int(n) for n in node_ids]})

    def move_coordinator(self, kind: str, key: str, node_id: int) -> dict:
        return self.request("POST", "/v1/coordinators", {"kind": kind, "key": key, "broker": int(node_id)})

    # faults --------------------------------------------------------------------------------------

    def add_fault(self, **spec) -> dict:
        return self.request("POST", "/v1/faults", {k: v for k, v in spec.items() if v is not None})

    def faults(self) -> list[dict]:
        return self.request("GET", "/v1/faults")["faults"]

    def fault(self, fault_id: int) -> dict:
        return self.request("GET", f"/v1/faults/{int(fault_id)}")

    def remove_fault(self, fault_id: int) -> dict:
        return self.request("DELETE", f"/v1/faults/{int(fault_id)}")

    def clear_faults(self) -> list[dict]:
        return self.request("DELETE", "/v1/faults")["faults"]

    def wait_fault(self, fault_id: int, fired: int = 1, timeout: float = 30.0) -> dict:
        """The fault once it fired `fired` times; ControlError(408) if it did not within `timeout` s."""
        return self.request("GET", f"/v1/faults/{int(fault_id)}/wait?fired={int(fired)}&timeout_ms={int(timeout * 1000)}",
                            timeout=timeout + 10)

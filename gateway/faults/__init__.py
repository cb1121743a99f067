"""Fault injection: one model (model.py), read generically from the wire declarations (requests.py,
responses.py), applied on the request path by gateway.faults.serve, driven by the front ends
(gateway/http/control.py, gateway/tools/{broker,fault,leader}.py, ottla.testing, `--faults FILE`)."""

from wire.lazy import exports

# each name from its submodule on first use: a broker with no faults never builds the records (gateway.faults.kinds)
_EXPORTS = {"Decision": "gateway.faults.kinds", "Fault": "gateway.faults.kinds", "FaultSet": "gateway.faults.model",
            "FaultSpecError": "gateway.faults.model", "RequestFacts": "gateway.faults.kinds",
            "load_faults_file": "gateway.faults.model"}
__all__ = sorted(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)

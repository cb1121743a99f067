"""Fault injection: one model (model.py), read generically from the wire declarations (requests.py,
responses.py), applied on the request path by gateway.faults.serve, driven by the front ends
(gateway/http/control.py, gateway/tools/{broker,fault,leader}.py, ottla.testing, `--faults FILE`)."""

from gateway.faults.model import Decision, Fault, FaultSet, FaultSpecError, RequestFacts, load_faults_file

__all__ = ["Decision", "Fault", "FaultSet", "FaultSpecError", "RequestFacts", "load_faults_file"]

"""Transactions: the transaction coordinator (a sans-IO state machine), staged offsets and the marker writer."""

import importlib

# imported on first use (PEP 562), so a submodule (timers, markers, config) can be imported without them
_LAZY = {
    "InitResult": "gateway.txn.coordinator",
    "MarkerWriter": "gateway.txn.coordinator",
    "Markers": "gateway.txn.coordinator",
    "TransactionCoordinator": "gateway.txn.coordinator",
    "TxnConfig": "gateway.txn.coordinator",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = globals()[name] = getattr(importlib.import_module(module), name)
    return value

"""Transactions: the transaction coordinator (a sans-IO state machine), staged offsets and the marker writer."""

from wire.lazy import exports

# each name imported from its submodule on first use, so importing a submodule (timers, markers) does not
# import the coordinator
_EXPORTS = dict.fromkeys(["InitResult", "MarkerWriter", "Markers", "TransactionCoordinator", "TxnConfig"],
                         "gateway.txn.coordinator")
__all__ = sorted(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)

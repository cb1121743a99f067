"""Transactions: the transaction coordinator (a sans-IO state machine), staged offsets and the marker writer."""

from gateway.txn.coordinator import InitResult, Markers, MarkerWriter, TransactionCoordinator, TxnConfig

__all__ = ["InitResult", "MarkerWriter", "Markers", "TransactionCoordinator", "TxnConfig"]

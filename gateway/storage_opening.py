"""The broker's storage, and `ottla serve` opening it on a thread while it imports the rest of the broker.

Opening RocksDB is 5-6 ms of CPU but 15-40 ms of wall time on a fresh data directory (the fsyncs of its MANIFEST,
OPTIONS and CURRENT files and their directory), and rocksdict releases the GIL while it opens. `ottla serve`
(gateway/cli.py) therefore starts `StorageOpening` once the Config is known and logging configured, then imports
the server, the handlers' registry, asyncio's loop and the rest (~60 ms of CPU) while RocksDB opens on the other
core; Server.start takes the storage from it (waiting if it is not open yet: its `storage_ms` phase is that wait),
or opens it itself when it was given none (tests, other callers). The thread imports nothing: partitions.rocks is
imported before it starts (two threads importing overlapping modules could see a partly run one). An error of the
open (a data directory another broker holds, a bad path) is raised by `result()`, in Server.start, as before. The
descriptor limit is raised first (RocksDB opens all its table files as it opens: Server.start would raise it
only after).
"""

from __future__ import annotations

import os
import threading


def open_storage(config):
    """The storage the Config names: memory, or RocksDB under data_dir/rocksdb (created if missing)."""
    if config.memory:
        from partitions.memory import MemoryStorage

        return MemoryStorage()
    from partitions.rocks import RocksStorage

    os.makedirs(config.data_dir, exist_ok=True)
    return RocksStorage(os.path.join(config.data_dir, "rocksdb"))


class StorageOpening:
    """open_storage(config) run on a thread from construction; `result()` waits for it and returns it (or raises
    what it raised). With --memory there is nothing to wait for: it is made at once, on the caller's thread."""

    def __init__(self, config) -> None:
        self._storage = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        if config.memory:
            self._storage = open_storage(config)
            self._done.set()
            return
        from gateway.admission import raise_fd_limit
        import partitions.rocks  # noqa: F401  (imported here: the thread must import nothing)

        raise_fd_limit()
        threading.Thread(target=self._open, args=(config,), name="ottla-open-storage", daemon=True).start()

    def _open(self, config) -> None:
        try:
            self._storage = open_storage(config)
        except BaseException as exc:  # raised again by result(), on the thread that starts the server
            self._error = exc
        finally:
            self._done.set()

    def result(self):
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._storage

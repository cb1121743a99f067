"""gateway.storage_opening: `ottla serve` opens RocksDB on a thread while it imports the server; Server.start takes
the storage from it, and an open that failed raises in Server.start as before."""

from __future__ import annotations

import asyncio
import threading

import pytest

from gateway.cli import parser, serve_config
from gateway.server import Server
from gateway.storage_opening import StorageOpening, open_storage
from partitions.memory import MemoryStorage
from partitions.rocks import RocksStorage


def _config(*flags: str):
    argv = ["serve", "--port", "0", *flags]
    return serve_config(parser(tools=False).parse_args(argv), argv)


def test_rocksdb_opens_on_its_own_thread_and_result_waits_for_it(tmp_path, monkeypatch):
    threads = []
    real = RocksStorage.__init__

    def opening(self, *args, **kwargs):
        threads.append(threading.current_thread().name)
        real(self, *args, **kwargs)

    monkeypatch.setattr(RocksStorage, "__init__", opening)
    storage = StorageOpening(_config("--data-dir", str(tmp_path / "data"))).result()
    try:
        assert isinstance(storage, RocksStorage) and threads == ["ottla-open-storage"]
        assert (tmp_path / "data" / "rocksdb" / "CURRENT").exists()
    finally:
        storage.close()


def test_memory_storage_is_made_at_once_on_the_callers_thread():
    opening = StorageOpening(_config("--memory"))
    assert opening._done.is_set() and isinstance(opening.result(), MemoryStorage)


def test_an_open_that_failed_raises_from_result_as_open_storage_raises(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    config = _config("--data-dir", str(tmp_path / "file"))
    with pytest.raises(OSError) as direct:
        open_storage(config)
    with pytest.raises(type(direct.value)):
        StorageOpening(config).result()


def test_a_data_dir_held_by_another_broker_fails_in_server_start(tmp_path):
    config = _config("--data-dir", str(tmp_path / "data"))
    held = open_storage(config)
    try:
        with pytest.raises(Exception, match="lock"):
            asyncio.run(Server(config, StorageOpening(config)).start())
    finally:
        held.close()


def test_server_start_takes_the_opened_storage(tmp_path):
    config = _config("--data-dir", str(tmp_path / "data"))
    opening = StorageOpening(config)
    storage = opening.result()

    async def main():
        server = Server(config, opening)
        await server.start()
        try:
            assert server.broker.storage is storage
        finally:
            server.stop()
            await server.shutdown()

    asyncio.run(main())

"""A full disk: Produce answers KAFKA_STORAGE_ERROR, Fetch keeps serving, nothing acknowledged is lost.

The data dir is a small tmpfs mounted here (needs root, or CAP_SYS_ADMIN; skipped otherwise), filled
by producing until RocksDB's write-ahead log cannot grow. The broker is then killed with SIGKILL,
the tmpfs enlarged, and a new broker must return every acknowledged record.
"""

import signal
import subprocess

import pytest

from tests.gateway.conftest import BrokerProcess
from tests.gateway.test_handlers import create, fetch, produce
from wire.errors import ErrorCode
from wire.records import build_batch, iter_batches, iter_records

TMPFS_MB = 12
VALUE = b"x" * 100_000


@pytest.fixture
def small_disk(tmp_path):
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MB}m", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def test_a_full_disk_refuses_produce_keeps_reads_and_loses_nothing_acknowledged(small_disk):
    data = str(small_disk / "data")
    broker = BrokerProcess("--data-dir", data)
    try:
        client = broker.client()
        create(client, "full")
        acknowledged, refused = [], []
        for i in range(TMPFS_MB * 20):  # far more than fits
            value = b"%d-" % i + VALUE
            answer = produce(client, "full", build_batch([(b"k%d" % i, value, [], 1000 + i)]))
            if answer.error_code == ErrorCode.NONE:
                acknowledged.append((answer.base_offset, value))
            else:
                refused.append(answer.error_code)
                if len(refused) == 3:
                    break
        assert acknowledged and refused == [ErrorCode.KAFKA_STORAGE_ERROR] * 3
        assert broker.alive()
        blob = fetch(client, "full", 0, max_bytes=1 << 30, partition_max_bytes=1 << 30).responses[0].partitions[0]
        assert blob.error_code == ErrorCode.NONE  # reads go on
        assert [(r.offset, r.value) for _, b in iter_batches(blob.records) for r in iter_records(b)] == acknowledged
        client.close()
        broker.log.flush()
        with open(broker.log.name) as f:
            assert f.read().count("storage_write_failed") == 1  # logged once, not per refused write
    finally:
        broker.proc.send_signal(signal.SIGKILL)
        broker.proc.wait(10)
    subprocess.run(["mount", "-o", f"remount,size={TMPFS_MB * 4}m", str(small_disk)], check=True)
    again = BrokerProcess("--data-dir", data)
    try:
        client = again.client()
        blob = fetch(client, "full", 0, max_bytes=1 << 30, partition_max_bytes=1 << 30).responses[0].partitions[0]
        assert [(r.offset, r.value) for _, b in iter_batches(blob.records) for r in iter_records(b)] == acknowledged
        assert produce(client, "full", build_batch([(b"k", b"after", [], 5)])).error_code == ErrorCode.NONE
        client.close()
    finally:
        again.stop()

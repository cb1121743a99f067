"""gateway/records_offload.py: a big decompressed block is unmapped on the codec worker, never on the loop
(80 MiB of touched pages take 25-110 ms to return to the kernel: tests/adversarial/test_decompression_stall.py
saw that as a stall of every other client when the last reference was dropped on the loop)."""

from __future__ import annotations

import mmap
import threading

import wire.record_codec as record_codec
from tests.adversarial.stall import request_frame
from tests.adversarial.test_decompression_stall import MIB, zstd_batch_of_zeros
from tests.adversarial.test_work_bounds import _attack, _response, run
from wire.errors import ErrorCode


class _TracedMap(mmap.mmap):
    freed_on: list[str] = []

    def __del__(self) -> None:
        _TracedMap.freed_on.append(threading.current_thread().name)


def test_a_big_block_is_freed_on_the_codec_worker_not_on_the_loop(monkeypatch):
    monkeypatch.setattr(record_codec, "mmap", type("traced_mmap_module", (), {"mmap": _TracedMap}))
    _TracedMap.freed_on.clear()
    frame = request_frame(0, 9, {"transactional_id": None, "acks": -1, "timeout_ms": 1000, "topic_data": [
        {"name": "zeros", "partition_data": [{"index": 0, "records": zstd_batch_of_zeros(8 * MIB)}]}]})
    stall, _ = run(_attack(frame, lambda b: b.logs.create_topic("zeros", 1)))
    assert _response(0, 9, stall.frame).responses[0].partition_responses[0].error_code == ErrorCode.NONE
    assert _TracedMap.freed_on and all(name.startswith("ottla-codec") for name in _TracedMap.freed_on), \
        _TracedMap.freed_on

"""Class 1 for record validation: a small compressed batch that decompresses to many MiB does not hold the
loop. Every compressed batch is decompressed to be validated; a big block is decompressed on the codec
worker (gateway/records_offload.py), so a second client's ApiVersions p99 stays under 50 ms meanwhile,
whether the block is accepted (one 80 MiB record of zeros: Kafka, too, takes it within max.message.bytes,
which counts compressed bytes) or refused (past the 100 MiB a batch may decompress to: MESSAGE_TOO_LARGE).
"""

from __future__ import annotations

import cramjam
import pytest

from tests.adversarial.stall import request_frame
from tests.adversarial.test_work_bounds import _attack, _response, assert_bounded, run
from tests.wire.test_records import raw_batch, record, varints
from wire.errors import ErrorCode

PRODUCE = 0
MIB = 1024 * 1024


def zstd_batch_of_zeros(size: int) -> bytes:
    """One record whose value is `size` zero bytes, zstd-compressed (a few KiB); a valid CRC."""
    body = record(b"\x00", varints(0, 0, -1, size), bytes(size), varints(0))
    return bytes(raw_batch(bytes(cramjam.zstd.compress(body, level=1)), count=1, attributes=4))


@pytest.mark.parametrize("size, code", [(80 * MIB, ErrorCode.NONE), (120 * MIB, ErrorCode.MESSAGE_TOO_LARGE)])
def test_a_batch_decompressing_to_many_mib_stalls_no_one(size, code):
    batch = zstd_batch_of_zeros(size)
    assert len(batch) < 64 * 1024
    frame = request_frame(PRODUCE, 9, {"transactional_id": None, "acks": -1, "timeout_ms": 1000, "topic_data": [
        {"name": "zeros", "partition_data": [{"index": 0, "records": batch}]}]})
    stall, broker = run(_attack(frame, lambda b: b.logs.create_topic("zeros", 1)))
    answer = _response(PRODUCE, 9, stall.frame).responses[0].partition_responses[0]
    assert answer.error_code == code
    assert_bounded(stall)  # 50 ms over the prober's own p99 (tests.adversarial.test_work_bounds)

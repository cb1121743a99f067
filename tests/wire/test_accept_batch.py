"""wire.records.accept_batch: a Produce entry's one-call check (C, wire/_record_walk.c) and its Python twin.

accept never decides an error: it answers (header, summary) for an entry the full path would accept, the
same values that path computes, and None for everything else (the full path then names the fault). Both
implementations are held to the same answer on hand-made faults and on random mutations."""

from __future__ import annotations

import random
import struct

import pytest

from tests.wire.test_record_validation import MALFORMED, good
from tests.wire.test_records import SAMPLE, T0, raw_batch, with_crc
from wire import record_validation, records as records_module
from wire.crc import crc32c
from wire.record_codec import CorruptRecordError
from wire.records import (
    INT64_MAX,
    INT64_MIN,
    accept_python,
    build_batch,
    split_batches,
    validate_batch,
    validate_records,
)

IMPLEMENTATIONS = {"python": accept_python}
if record_validation.ACCELERATED:
    from wire._record_walk import accept as c_accept

    IMPLEMENTATIONS["c"] = c_accept

MAX = 1 << 20
NO_BOUNDS = (INT64_MIN, INT64_MAX)


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def accept(request):
    return IMPLEMENTATIONS[request.param]


def test_the_c_version_is_the_one_used_when_built():
    if record_validation.ACCELERATED:
        assert records_module.accept_batch is IMPLEMENTATIONS["c"]
    else:
        assert records_module.accept_batch is accept_python


def full_path(batch: bytes, bounds=None):
    """What PartitionLog._validate computes for the entry (raises on a fault)."""
    (pos, header), = split_batches(batch)
    validate_batch(batch, pos, header)
    return header, validate_records(batch, pos, header, timestamp_bounds=bounds)


VALID = {
    "sample": build_batch(SAMPLE),
    "one record": build_batch([(b"k", b"v", [], T0)]),
    "null key and value": build_batch([(None, None, [], T0)]),
    "idempotent": build_batch([(b"k", b"v", [], T0)] * 3, producer_id=7, producer_epoch=1, base_sequence=4),
    "transactional": build_batch([(b"k", b"v", [], T0)], producer_id=7, producer_epoch=0, base_sequence=0,
                                 transactional=True),
    "log append time attribute": build_batch([(b"k", b"v", [], T0)], log_append_time=True),
    "no timestamps": build_batch([(b"k", b"v", [], -1)] * 2),
    "leader epoch set": build_batch([(b"k", b"v", [], T0)], partition_leader_epoch=5),
    "big (GIL released)": build_batch([(None, bytes(1024), [], T0)] * 80),
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_a_valid_entry_gives_what_the_full_path_computes(accept, name):
    batch = VALID[name]
    assert accept(batch, MAX, *NO_BOUNDS, False) == full_path(batch)
    assert accept(memoryview(batch), MAX, *NO_BOUNDS, False) == full_path(batch)  # (decoded with views=True)
    header, summary = accept(batch, MAX, *NO_BOUNDS, False)
    assert type(header) is records_module.BatchHeader and type(summary) is record_validation.RecordsSummary


def _edit(batch: bytes, offset: int, fmt: str, value, crc: bool = True) -> bytes:
    buf = bytearray(batch)
    struct.pack_into(fmt, buf, offset, value)
    return bytes(with_crc(buf) if crc else buf)


BASE = build_batch([(b"k", b"v", [], T0), (None, b"w", [], T0 + 5)])
REFUSED = {
    "none": None,
    "empty": b"",
    "header truncated": BASE[:40],
    "batch truncated": BASE[:-1],
    "two batches": BASE + BASE,
    "trailing byte": BASE + b"\x00",
    "batch length below the header": _edit(BASE, 8, ">i", 10, crc=False),
    "magic 1": _edit(BASE, 16, ">b", 1),
    "base offset 1": _edit(BASE, 0, ">q", 1, crc=False),
    "bad crc": _edit(BASE, 17, ">I", 12345, crc=False),
    "unknown codec": _edit(BASE, 21, ">h", 6),
    "control": _edit(BASE, 21, ">h", 0x20),
    "record count 0": _edit(_edit(BASE, 57, ">i", 0), 23, ">i", -1),
    "last offset delta off": _edit(BASE, 23, ">i", 5),
    "base timestamp -2": _edit(BASE, 27, ">q", -2),
    "max timestamp below base": _edit(BASE, 35, ">q", T0 - 1),
    "idempotent without a sequence": _edit(_edit(BASE, 43, ">q", 3), 53, ">i", -1),
    "record offset delta wrong": bytes(raw_batch(good(0) + good(5), count=2)),
}
REFUSED.update({f"walk: {name}": bytes(raw_batch(block, count=count))
                for name, (block, count, _, _) in MALFORMED.items()})


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_any_fault_or_compressed_entry_is_left_to_the_full_path(accept, name):
    assert accept(REFUSED[name], MAX, *NO_BOUNDS, False) is None


@pytest.mark.parametrize("codec", [1, 2, 3, 4])
def test_a_compressed_entry_is_checked_but_for_its_records(accept, codec):
    """(header, None): every batch-level check passed (the CRC too); its records are walked once decompressed."""
    batch = build_batch(SAMPLE, compression=codec)
    (_, header), = split_batches(batch)
    assert accept(batch, MAX, *NO_BOUNDS, False) == (header, None)
    assert accept(batch, MAX, *NO_BOUNDS, True) == (header, None)  # null keys are only known after the walk
    assert accept(batch, MAX, T0 + 10**6, T0 + 10**6, False) == (header, None)  # and its timestamps
    broken = bytearray(batch)
    broken[-1] ^= 0xFF
    assert accept(bytes(broken), MAX, *NO_BOUNDS, False) is None  # a bad CRC
    assert accept(bytes(with_crc(broken)), MAX, *NO_BOUNDS, False) == (header._replace(
        crc=struct.unpack_from(">I", with_crc(broken), 17)[0]), None)  # records are not looked at


def test_max_message_bytes_is_the_whole_batch(accept):
    assert accept(BASE, len(BASE), *NO_BOUNDS, False) is not None
    assert accept(BASE, len(BASE) - 1, *NO_BOUNDS, False) is None


def test_timestamp_bounds_are_inclusive_and_skip_unset_records(accept):
    batch = build_batch([(b"k", b"v", [], T0), (b"k", b"v", [], T0 + 10)])
    assert accept(batch, MAX, T0, T0 + 10, False) is not None
    assert accept(batch, MAX, T0 + 1, T0 + 10, False) is None
    assert accept(batch, MAX, T0, T0 + 9, False) is None
    unset = build_batch([(b"k", b"v", [], -1)])
    assert accept(unset, MAX, T0, T0, False) is not None  # -1: no timestamp, never out of range
    stamped = build_batch([(b"k", b"v", [], T0)], log_append_time=True)
    assert accept(stamped, MAX, T0 + 1, T0 + 2, False) is not None  # a LogAppendTime batch's are not checked


def test_a_compacted_topic_refuses_null_keys(accept):
    keyed = build_batch([(b"k", b"v", [], T0)])
    keyless = build_batch([(b"k", b"v", [], T0), (None, b"v", [], T0)])
    assert accept(keyed, MAX, *NO_BOUNDS, True) is not None
    assert accept(keyless, MAX, *NO_BOUNDS, True) is None
    assert accept(keyless, MAX, *NO_BOUNDS, False)[1].null_keys == 1


def test_the_c_and_python_versions_agree_on_random_mutations():
    """Byte flips (the CRC fixed up in half the cases, so the checks past it run too), truncations,
    appended bytes; and bounds around the records' timestamps."""
    rng = random.Random(14)
    seeds = [build_batch(SAMPLE), BASE, VALID["idempotent"], VALID["no timestamps"], build_batch(SAMPLE, compression=3)]
    for _ in range(3000):
        buf = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 3)):
            action = rng.random()
            if not buf:
                break
            if action < 0.8:
                buf[rng.randrange(len(buf))] = rng.randrange(256)
            elif action < 0.9:
                del buf[rng.randrange(len(buf)):]
            else:
                buf += bytes(rng.randrange(1, 8))
        if len(buf) > 21 and rng.random() < 0.5:
            with_crc(buf)
        low, high = rng.choice([NO_BOUNDS, (T0 - 10, T0 + 1000), (T0 + 1, T0 + 5), (T0 - 3, T0 + 7)])
        compacted, limit = rng.random() < 0.2, rng.choice([MAX, len(buf), 70])
        answers = {name: accept(bytes(buf), limit, low, high, compacted) for name, accept in IMPLEMENTATIONS.items()}
        assert len(set(map(repr, answers.values()))) == 1, (bytes(buf).hex(), low, high, compacted, limit, answers)
        accepted = answers["python"]
        if accepted is not None and accepted[1] is None:  # compressed: the full path's batch-level checks pass
            (pos, header), = split_batches(bytes(buf))
            validate_batch(bytes(buf), pos, header)
            assert header == accepted[0] and header.compression != 0
        elif accepted is not None:  # whatever accept takes, the full path takes and computes the same
            assert full_path(bytes(buf)) == accepted
        else:
            try:
                header, summary = full_path(bytes(buf), None)
            except (CorruptRecordError, ValueError):  # (ValueError: not exactly one batch)
                continue
            assert (header.compression != 0 or header.is_control or header.base_offset != 0 or header.size > limit
                    or (compacted and summary.null_keys) or (low, high) != NO_BOUNDS)


STORED = {"python": records_module.stored_python}
if record_validation.ACCELERATED:
    from wire._record_walk import stored as c_stored

    STORED["c"] = c_stored


@pytest.mark.parametrize("name", sorted(STORED))
@pytest.mark.parametrize("stamped", [False, True])
@pytest.mark.parametrize("moved", [False, True])
def test_stored_copy_builds_what_stored_batch_builds(name, stamped, moved):
    """One copy of the batch with its offsets, epoch, max timestamp (and LogAppendTime bit) set, the CRC
    recomputed only when a field it covers changed; the batch may sit anywhere in the buffer."""
    for batch in (BASE, VALID["log append time attribute"], VALID["idempotent"], VALID["big (GIL released)"]):
        header = records_module.read_header(batch)
        buffer, pos = (b"\x07" * 13 + batch + b"\x09" * 5, 13) if moved else (batch, 0)
        for max_timestamp in (header.max_timestamp, header.max_timestamp + 17, -1):
            for base_offset, epoch in ((0, -1), (12345678901, 7)):
                expected = records_module.stored_batch(buffer, pos, header, base_offset, epoch, max_timestamp, stamped)
                got = STORED[name](buffer, pos, header.size, base_offset, epoch, max_timestamp, stamped)
                assert type(got) is bytes and got == expected
                (_, stored_header), = split_batches(got)
                assert crc32c(got[21:]) == stored_header.crc  # its CRC holds
                assert stored_header.base_offset == base_offset and stored_header.max_timestamp == max_timestamp


def test_stored_copy_refuses_a_batch_outside_the_buffer():
    if "c" not in STORED:
        pytest.skip("wire._record_walk is not built")
    with pytest.raises(ValueError):
        STORED["c"](BASE, 5, len(BASE), 0, 0, T0, False)
    with pytest.raises(ValueError):
        STORED["c"](BASE, 0, 20, 0, 0, T0, False)

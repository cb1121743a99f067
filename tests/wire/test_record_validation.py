"""Record-level validation (wire/record_validation.py): each rule, both walkers (C and Python), bombs, properties."""

from __future__ import annotations

import struct
import time
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from kafka.record.default_records import DefaultRecordBatch

from tests.wire.test_records import CODEC_NAMES, CODECS, SAMPLE, T0, raw_batch, record, varints, with_crc
from wire import record_codec, record_validation
from wire.errors import ErrorCode
from wire.record_codec import decompress_bounded
from wire.record_validation import (
    RecordValidationError,
    check_records,
    check_timestamp_bounds,
    keyless_record_indexes,
    walk_python,
)
from wire.records import (
    HEADER_SIZE,
    CorruptRecordError,
    build_batch,
    compress,
    iter_records,
    keyless_record_errors,
    read_header,
    split_batches,
    validate_batch,
    validate_records,
)

WALKERS = {"python": walk_python}
if record_validation.ACCELERATED:
    from wire._record_walk import walk as c_walk

    WALKERS["c"] = c_walk


@pytest.fixture(params=sorted(WALKERS))
def walker(request, monkeypatch):
    """Run the test with each record walker behind check_records."""
    monkeypatch.setattr(record_validation, "_walk", WALKERS[request.param])
    return WALKERS[request.param]


def good(delta: int = 0, *, key: bytes | None = b"k", value: bytes | None = b"v", ts_delta: int = 0,
         headers: tuple = ()) -> bytes:
    """One well-formed record with the given offset delta."""
    fields = [b"\x00", varints(ts_delta, delta)]
    for data in (key, value):
        fields.append(varints(-1) if data is None else varints(len(data)) + data)
    fields.append(varints(len(headers)))
    for header_key, header_value in headers:
        fields.append(varints(len(header_key)) + header_key)
        fields.append(varints(-1) if header_value is None else varints(len(header_value)) + header_value)
    return record(*fields)


# (records block, record_count) -> (index of the record at fault, message fragment)
MALFORMED = {
    "fewer records than counted": (good(0), 2, 1, "premature EOF"),
    "2^31-1 records claimed, one held": (good(0), 2**31 - 1, 1, "premature EOF"),
    "record length varint truncated": (good(0) + b"\x80", 2, 1, "premature EOF"),
    "record length varint too long": (good(0) + b"\xff\xff\xff\xff\xff\x01", 2, 1, "invalid record structure"),
    "record length overruns": (varints(200) + good(0), 1, 0, "expected 200 bytes in record payload, but instead "
                               "the buffer has only"),
    "negative record length": (varints(-5) + good(0), 1, 0, "invalid record structure"),
    "empty record": (varints(0), 1, 0, "invalid record structure"),
    "timestamp varlong truncated": (record(b"\x00", b"\x80"), 1, 0, "invalid record structure"),
    "timestamp varlong too long": (record(b"\x00", b"\xff" * 10, b"\x00" * 5), 1, 0, "invalid record structure"),
    "offset delta 5 where 1 is due": (good(0) + good(5), 2, 1, "offset delta 5"),
    "offset deltas out of order": (good(1) + good(0), 2, 0, "offset delta 1"),
    "negative offset delta": (good(-1), 1, 0, "offset delta -1"),
    "key overruns record": (record(b"\x00", varints(0, 0, 50), b"k"), 1, 0, "invalid record structure"),
    "value overruns record": (record(b"\x00", varints(0, 0, -1, 9), b"v"), 1, 0, "invalid record structure"),
    "header count missing": (record(b"\x00", varints(0, 0, -1, -1)), 1, 0, "invalid record structure"),
    "negative header count": (record(b"\x00", varints(0, 0, -1, -1, -1)), 1, 0, "number of record headers -1"),
    "header count too large": (record(b"\x00", varints(0, 0, -1, -1, 40)), 1, 0, "40 is larger than the remaining"),
    "negative header key": (record(b"\x00", varints(0, 0, -1, -1, 1, -1, -1)), 1, 0, "negative header key size -1"),
    "header key overruns": (record(b"\x00", varints(0, 0, -1, -1, 1, 9), b"h", varints(-1)), 1, 0,
                            "invalid record structure"),
    "header value overruns": (record(b"\x00", varints(0, 0, -1, -1, 1, 1), b"h", varints(9), b"v"), 1, 0,
                              "invalid record structure"),
    "record longer than its fields": (record(b"\x00", varints(0, 0, -1, -1, 0), b"extra"), 1, 0,
                                      "expected to read 11 bytes in record payload, but instead read 6"),
    "bytes after the last record": (good(0) + b"\x00", 1, None, "records still remaining"),
    "a second good record not counted": (good(0) + good(1), 1, None, "records still remaining"),
}


@pytest.mark.parametrize("body, count, index, message", MALFORMED.values(), ids=MALFORMED.keys())
@pytest.mark.parametrize("codec", CODECS, ids=CODEC_NAMES.get)
def test_each_rule_refuses_with_invalid_record_naming_the_record(walker, body, count, index, message, codec):
    batch = raw_batch(compress(codec, body), count=count, attributes=codec)
    header = read_header(batch)
    validate_batch(batch, 0, header)  # the CRC and the header are fine: only the records are wrong
    with pytest.raises(RecordValidationError) as err:
        validate_records(batch, 0, header)
    assert err.value.code == ErrorCode.INVALID_RECORD
    assert message.lower() in str(err.value).lower()
    expected_index = count if index is None else index  # trailing bytes: after the last counted record
    assert err.value.record_index == expected_index
    assert err.value.record_errors == [(expected_index, str(err.value))]


@pytest.mark.parametrize("codec", CODECS, ids=CODEC_NAMES.get)
def test_well_formed_batch_summary(walker, codec):
    batch = build_batch(SAMPLE, compression=codec)
    summary = validate_records(batch, 0, read_header(batch))
    assert summary.count == len(SAMPLE)
    assert summary.null_keys == 1  # SAMPLE[1]; SAMPLE[2]'s empty key is a key
    assert summary.max_timestamp == max(ts for *_, ts in SAMPLE)
    assert summary.size == len(build_batch(SAMPLE)) - HEADER_SIZE  # the uncompressed records block


def test_summary_counts_null_keys_and_keyless_record_errors_name_them(walker):
    body = good(0, key=None) + good(1) + good(2, key=b"") + good(3, key=None, headers=((b"h", None),))
    batch = raw_batch(body, count=4)
    summary = validate_records(batch, 0, read_header(batch))
    assert (summary.count, summary.null_keys, summary.size) == (4, 2, len(body))
    assert keyless_record_indexes(memoryview(batch)[HEADER_SIZE:], 4) == [0, 3]
    errors = keyless_record_errors(batch, 0, read_header(batch), "compacted-0")
    assert errors == [(i, "Compacted topic cannot accept message without key in topic partition compacted-0")
                      for i in (0, 3)]


def test_max_timestamp_is_base_plus_the_largest_delta_and_wraps_as_java(walker):
    body = good(0, ts_delta=5) + good(1, ts_delta=-3) + good(2, ts_delta=70)
    assert check_records(body, 3, T0).max_timestamp == T0 + 70
    assert check_records(body, 3, T0).min_timestamp == T0 - 3
    assert check_records(good(0, ts_delta=0) + good(1, ts_delta=9), 2, -1).min_timestamp == 8  # -1 is no timestamp
    assert check_records(good(0), 1, -1).min_timestamp == -1
    assert check_records(good(0, ts_delta=-10), 1, 5).max_timestamp == -1  # below NO_TIMESTAMP: stays -1
    assert check_records(good(0, ts_delta=1), 1, 2**63 - 1).max_timestamp == -1  # wrapped to -2^63
    assert check_records(good(0, ts_delta=-(2**63)), 1, 2**63 - 1).max_timestamp == -1


def test_varints_use_java_int_arithmetic(walker):
    # a 5-byte length whose top bits Java drops: 0x8f... reads as the same int as its 32-bit truncation
    rec = good(0)
    length = len(rec) - 1
    five_bytes = bytes([(length << 1) & 0x7F | 0x80, 0x80, 0x80, 0x80, 0x70])  # bits above 32 set, dropped
    assert check_records(five_bytes + rec[1:], 1, 0).count == 1


# ---- message.timestamp.before/after.max.ms (LogValidator.validateTimestamp) ----

HOUR = 3_600_000


@pytest.mark.parametrize("deltas, before, after, refused", [
    ((0, 10), 2**63 - 1, HOUR, []),
    ((0, HOUR + 1), 2**63 - 1, HOUR, [1]),  # one record more than an hour ahead of the clock
    ((HOUR + 5, -HOUR - 5, 0), 1000, HOUR, [0, 1]),
    ((-(2**62), 0), 2**63 - 1, 2**63 - 1, []),  # Kafka 4 defaults for before: anything in the past
])
def test_timestamps_out_of_range_are_invalid_timestamp_naming_each_record(walker, deltas, before, after, refused):
    body = b"".join(good(i, ts_delta=d) for i, d in enumerate(deltas))
    summary = check_records(body, len(deltas), T0)
    if not refused:
        check_timestamp_bounds(summary, body, T0, T0, before, after)
        return
    with pytest.raises(RecordValidationError) as err:
        check_timestamp_bounds(summary, body, T0, T0, before, after)
    assert err.value.code == ErrorCode.INVALID_TIMESTAMP
    assert str(err.value) == "One or more records have been rejected due to invalid timestamp"
    assert [index for index, _ in err.value.record_errors] == refused
    index, message = err.value.record_errors[0]
    high = f"{T0 + after}" if after < 2**62 else f"{(T0 + after + 2**63) % 2**64 - 2**63}"
    assert message == (f"Timestamp {T0 + deltas[index]} of message with offset {index} is out of range. The "
                       f"timestamp should be within [{T0 - before}, {high}]")


def test_records_without_timestamps_are_not_checked(walker):
    body = good(0, ts_delta=0) + good(1, ts_delta=HOUR * 5)
    summary = check_records(body, 2, -1)  # base -1: record 0 has no timestamp (-1), record 1 is in 1970
    check_timestamp_bounds(summary, body, -1, T0, 2**63 - 1, HOUR)  # 1970 is allowed, -1 is not a time
    with pytest.raises(RecordValidationError) as err:
        check_timestamp_bounds(summary, body, -1, T0, 1000, HOUR)
    assert [index for index, _ in err.value.record_errors] == [1]  # never record 0
    check_timestamp_bounds(check_records(good(0), 1, -1), good(0), -1, T0, 0, 0)  # only -1: nothing to check


# ---- decompression is bounded ----

BOMB_SIZE = 256 * 1024 * 1024
LIMIT = 16 * 1024 * 1024  # above HEAP_OUTPUT_BYTES: the attempt that fails is an mmap of the limit


@pytest.fixture(scope="module")
def bombs():
    """codec -> a small block that decompresses to 256 MiB of zeros."""
    zeros = bytes(BOMB_SIZE)
    return {codec: compress(codec, zeros) for codec in (1, 2, 3, 4)}


@pytest.mark.parametrize("codec", [1, 2, 3, 4], ids=CODEC_NAMES.get)
def test_decompression_bomb_is_refused_within_the_limit(bombs, codec, monkeypatch):
    bomb = bombs[codec]
    assert len(bomb) < BOMB_SIZE // 20
    batch = raw_batch(bomb, count=1, attributes=codec)
    mapped = []  # the output goes to anonymous mmaps (untracked by tracemalloc): record their sizes
    real_mmap = record_codec.mmap.mmap
    monkeypatch.setattr(record_codec.mmap, "mmap", lambda fd, size: mapped.append(size) or real_mmap(fd, size))
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(CorruptRecordError) as err:
            validate_records(batch, 0, read_header(batch), max_uncompressed=LIMIT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.value.code == ErrorCode.MESSAGE_TOO_LARGE
    assert all(size <= LIMIT for size in mapped)  # never the 256 MiB the block claims
    assert peak < record_codec.HEAP_OUTPUT_BYTES + (1 << 20)  # and on the heap one buffer of 4 MiB at most
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize("codec", [1, 2, 3, 4], ids=CODEC_NAMES.get)
def test_bounded_decompression_takes_highly_compressible_blocks_up_to_the_limit(codec):
    body = b"".join(good(i, value=bytes(5000)) for i in range(300))  # ~1.5 MB of zeros: > 100x for most codecs
    data = compress(codec, body)
    assert bytes(decompress_bounded(codec, data, len(body))) == body
    with pytest.raises(CorruptRecordError) as err:
        decompress_bounded(codec, data, len(body) - 1)
    assert err.value.code == ErrorCode.MESSAGE_TOO_LARGE


@pytest.mark.parametrize("codec, data", [(1, b"\x1f\x8b\x08\x00garbage"), (3, b"\x04\x22\x4d\x18garbage"),
                                         (4, b"\x28\xb5\x2f\xfdgarbage"), (2, b"\xff\xff\xff\xff\x0f\x00"),
                                         (6, b"x")])
def test_undecodable_blocks_are_corrupt_messages(codec, data):
    with pytest.raises(CorruptRecordError) as err:
        decompress_bounded(codec, data, LIMIT)
    assert err.value.code == ErrorCode.CORRUPT_MESSAGE


# ---- properties ----

record_strategy = st.tuples(
    st.one_of(st.none(), st.binary(max_size=30)),
    st.one_of(st.none(), st.binary(max_size=120)),
    st.lists(st.tuples(st.text(max_size=6), st.one_of(st.none(), st.binary(max_size=6))), max_size=3),
    st.integers(0, 2**41),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(record_strategy, min_size=1, max_size=8), st.sampled_from(CODECS))
def test_batches_from_build_batch_always_pass(records, codec):
    batch = build_batch(records, compression=codec)
    header = read_header(batch)
    for walk in WALKERS.values():
        block = memoryview(batch)[HEADER_SIZE:] if codec == 0 else decompress_bounded(codec, batch[HEADER_SIZE:], 1 << 24)
        kind, count, null_keys, max_timestamp, min_timestamp = walk(block, header.record_count,
                                                                    header.base_timestamp)
        assert (kind, count) == (0, len(records))
        assert null_keys == sum(key is None for key, *_ in records)
        assert (max_timestamp, min_timestamp) == (max(ts for *_, ts in records), min(ts for *_, ts in records))


def kafka_python_reads(batch: bytes, count: int) -> bool:
    """An independent reader: kafka-python's DefaultRecordBatch reads `count` records, offsets 0..count-1."""
    try:
        records = list(DefaultRecordBatch(batch))
    except Exception as exc:  # noqa: BLE001 -- any failure of the other reader means "not readable", except:
        return "UnicodeDecodeError" in str(exc)  # it decodes header keys strictly; Kafka accepts any bytes
    return [r.offset for r in records] == list(range(count))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(record_strategy, min_size=1, max_size=6), st.sampled_from(CODECS), st.integers(0, 10**6),
       st.integers(0, 255))
def test_single_byte_mutations_with_a_fixed_crc_never_crash_nor_pass_unreadable(records, codec, where, value):
    batch = bytearray(build_batch(records, compression=codec))
    index = HEADER_SIZE + where % (len(batch) - HEADER_SIZE)  # inside the records: the header has its own tests
    batch[index] = value
    with_crc(batch)
    header = read_header(batch)
    answers = set()
    for walk in WALKERS.values():
        record_validation._walk, saved = walk, record_validation._walk
        try:
            validate_batch(batch, 0, header)
            summary = validate_records(batch, 0, header)
        except CorruptRecordError as exc:  # only Kafka errors, never a crash
            assert exc.code in (ErrorCode.INVALID_RECORD, ErrorCode.CORRUPT_MESSAGE)
            answers.add(("refused", exc.code, getattr(exc, "record_index", None)))
            continue
        finally:
            record_validation._walk = saved
        answers.add(("passed", summary))
        # what passed must be readable, record by record, by our reader and by kafka-python's
        ours = list(iter_records(batch))
        assert [r.offset for r in ours] == list(range(header.record_count))
        if all(r.attributes < 0x80 for r in ours):  # kafka-python reads the int8 attributes as a varint
            assert kafka_python_reads(bytes(batch), header.record_count)
    assert len(answers) == 1, f"the walkers disagree: {answers}"


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200), st.integers(1, 40), st.integers(-(2**63), 2**63 - 1))
def test_c_and_python_walkers_agree_on_any_bytes(block, count, base_timestamp):
    answers = {walk(block, count, base_timestamp) for walk in WALKERS.values()}
    assert len(answers) == 1, answers


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(-3, 3), st.one_of(st.none(), st.binary(max_size=5))), min_size=1,
                max_size=5),
       st.binary(max_size=3))
def test_walkers_agree_on_nearly_valid_blocks(deltas, tail):
    body = b"".join(good(i + shift, key=key) for i, (shift, key) in enumerate(deltas)) + tail
    answers = {walk(body, len(deltas), T0) for walk in WALKERS.values()}
    assert len(answers) == 1, answers


@pytest.mark.skipif(not record_validation.ACCELERATED,
                    reason="wire._record_walk is not built (no compiler, or `pip install -e .` not re-run): "
                           "the C walker is untested and produce validation runs in Python")
def test_the_c_walker_is_in_use():
    assert record_validation._walk is c_walk


def test_split_then_validate_a_multi_codec_blob(walker):
    blob = bytearray().join(build_batch(SAMPLE, compression=codec) for codec in CODECS)
    found = split_batches(blob)
    assert [validate_records(blob, pos, header).count for pos, header in found] == [len(SAMPLE)] * len(CODECS)


def test_record_count_near_int32_max_stops_at_the_data():
    batch = raw_batch(good(0), count=2**31 - 1)
    struct.pack_into(">i", batch, 23, 2**31 - 2)  # lastOffsetDelta consistent with the count
    with_crc(batch)
    validate_batch(batch, 0, read_header(batch))
    started = time.perf_counter()
    with pytest.raises(RecordValidationError, match="premature EOF"):
        validate_records(batch, 0, read_header(batch))
    assert time.perf_counter() - started < 0.1

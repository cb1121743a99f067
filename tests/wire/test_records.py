"""Record batches: golden bytes from kafka-python and librdkafka, read-back by kafka-python, corruption."""

from __future__ import annotations

import socket
import struct

import confluent_kafka
import pytest
from crc32c import crc32c
from hypothesis import HealthCheck, given, settings, strategies as st
from kafka import codec as kafka_codec
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder
from kafka.record.util import decode_varint, encode_varint

from wire.errors import ErrorCode
from wire.record_codec import read_varint, write_varint
from wire.records import (
    HEADER_SIZE,
    BatchHeader,
    CorruptRecordError,
    Record,
    assign_offsets,
    build_batch,
    compress,
    control_batch,
    decompress,
    iter_batches,
    iter_records,
    read_header,
    set_partition_leader_epoch,
    split_batches,
    stamp_log_append_time,
    validate_batch,
    validate_records,
)

CODECS = [0, 1, 2, 3, 4]  # none, gzip, snappy, lz4, zstd
CODEC_NAMES = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}
T0 = 1_700_000_000_000

# Keys, values and headers a reader must keep apart: null vs empty, non-ASCII header keys, null header
# values, timestamps that go backwards inside a batch, values long enough to compress.
SAMPLE = [
    (b"key-0", b"value-0 " * 40, [("trace", b"abc"), ("null-header", None)], T0),
    (None, b"no key " * 30, [], T0 + 5),
    (b"", b"", [("épice", b"\x00\xff")], T0 - 3),
    (b"key-3", None, [], T0 + 1000),
    (b"k" * 300, b"long key " * 30, [("a", b""), ("a", b"repeated")], T0 + 7),
]


def expected_records(sample, base_offset, append_time=None):
    return [
        Record(base_offset + i, append_time if append_time is not None else ts, key, value, headers, 0)
        for i, (key, value, headers, ts) in enumerate(sample)
    ]


def kafka_python_batch(sample, codec, *, producer=(-1, -1, -1), transactional=False) -> bytearray:
    builder = DefaultRecordBatchBuilder(
        magic=2, compression_type=codec, is_transactional=transactional, producer_id=producer[0],
        producer_epoch=producer[1], base_sequence=producer[2], batch_size=1 << 20,
    )
    for i, (key, value, headers, ts) in enumerate(sample):
        assert builder.append(i, ts, key, value, headers) is not None
    return builder.build()


def kafka_python_read(batch) -> tuple[DefaultRecordBatch, list]:
    reader = DefaultRecordBatch(bytes(batch))
    assert reader.validate_crc(), "kafka-python rejects the CRC"
    return reader, [(r.offset, r.timestamp, r.key, r.value, r.headers) for r in reader]


def with_crc(batch: bytearray) -> bytearray:
    """Recompute the CRC of a hand-edited batch."""
    struct.pack_into(">I", batch, 17, crc32c(bytes(batch[21:])))
    return batch


def raw_batch(body: bytes, *, count: int, attributes: int = 0, base_timestamp: int = T0) -> bytearray:
    """A batch header around a hand-made records block, with a valid CRC."""
    header = struct.pack(
        ">qiibIhiqqqhii", 0, HEADER_SIZE - 12 + len(body), -1, 2, 0, attributes, count - 1,
        base_timestamp, base_timestamp, -1, -1, -1, count,
    )
    return with_crc(bytearray(header + body))


def varints(*values: int) -> bytes:
    out = bytearray()
    for value in values:
        write_varint(value, out)
    return bytes(out)


# ---- golden bytes: kafka-python's encoder ----


@pytest.mark.parametrize("codec", CODECS, ids=CODEC_NAMES.get)
def test_iter_records_reads_kafka_python_batches(codec):
    batch = kafka_python_batch(SAMPLE, codec)
    header = read_header(batch)
    assert header.compression == codec  # kafka-python sends uncompressed when compression does not pay
    assign_offsets(batch, 0, 4242)
    assert list(iter_records(batch)) == expected_records(SAMPLE, 4242)
    validate_batch(batch, 0, header)
    validate_records(batch, 0, header)


@pytest.mark.parametrize("codec", CODECS, ids=CODEC_NAMES.get)
def test_header_matches_kafka_python_for_idempotent_transactional_batch(codec):
    batch = kafka_python_batch(SAMPLE, codec, producer=(77, 3, 120), transactional=True)
    header = read_header(batch)
    reader = DefaultRecordBatch(bytes(batch))
    assert header.size == reader.size_in_bytes == len(batch)
    assert (header.producer_id, header.producer_epoch, header.base_sequence) == (77, 3, 120)
    assert header.is_transactional and not header.is_control and not header.log_append_time
    assert header.compression == reader.compression_type == codec
    assert (header.base_timestamp, header.max_timestamp) == (T0, T0 + 1000)
    assert header.record_count == len(SAMPLE) and header.last_offset == len(SAMPLE) - 1
    validate_batch(batch, 0, header)


# ---- golden bytes: librdkafka (confluent-kafka's in-process mock cluster, read back raw with Fetch v4) ----


def _fetch_raw(host: str, port: int, topic: str) -> bytes:
    """The records blob of partition 0 from offset 0, by a hand-written Fetch v4."""
    name = topic.encode()
    body = (
        struct.pack(">hhih", 1, 4, 7, 4) + b"test"
        + struct.pack(">iiiib", -1, 0, 0, 1 << 22, 0)
        + struct.pack(">ih", 1, len(name)) + name + struct.pack(">iiqi", 1, 0, 0, 1 << 22)
    )
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(struct.pack(">i", len(body)) + body)
        data = b""
        while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
            chunk = sock.recv(1 << 20)
            assert chunk, "mock broker closed the connection"
            data += chunk
    pos = 4 + 4 + 4  # size, correlation_id, throttle_time_ms
    pos += 4 + 2 + len(name) + 4  # topics count, topic name, partitions count
    _, error_code, _, _, aborted = struct.unpack_from(">ihqqi", data, pos)
    assert error_code == 0
    pos += 26 + max(aborted, 0) * 16
    (size,) = struct.unpack_from(">i", data, pos)
    return data[pos + 4 : pos + 4 + size]


@pytest.fixture(scope="module")
def librdkafka_blobs():
    """codec -> records blob written by librdkafka (zstd from an idempotent producer)."""
    blobs = {}
    for codec, name in CODEC_NAMES.items():
        producer = confluent_kafka.Producer({
            "test.mock.num.brokers": 1, "compression.codec": name, "linger.ms": 500,
            "enable.idempotence": codec == 4, "log_level": 0,
        })
        # the leader known and a long linger first: on a loaded machine a record queued alone went out
        # alone, and librdkafka stores a batch that compression does not shrink uncompressed
        producer.list_topics("golden", timeout=5)
        for key, value, headers, ts in SAMPLE:
            producer.produce("golden", key=key, value=value, headers=headers, timestamp=ts, partition=0)
        assert producer.flush(10) == 0
        broker = next(iter(producer.list_topics(timeout=5).brokers.values()))
        blobs[codec] = _fetch_raw(broker.host, broker.port, "golden")
    return blobs


@pytest.mark.parametrize("codec", CODECS, ids=CODEC_NAMES.get)
def test_iter_records_reads_librdkafka_batches(librdkafka_blobs, codec):
    blob = librdkafka_blobs[codec]
    batches = list(iter_batches(blob))
    assert [header.compression for header, _ in batches] == [codec] * len(batches)
    records = [record for _, batch in batches for record in iter_records(batch)]
    assert records == expected_records(SAMPLE, 0)
    for pos, header in split_batches(bytearray(blob)):
        validate_batch(blob, pos, header)
        validate_records(blob, pos, header)
        assert (header.producer_id >= 0) == (codec == 4)


# ---- build_batch / control_batch read back by kafka-python ----


@pytest.mark.parametrize("codec", CODECS, ids=CODEC_NAMES.get)
def test_build_batch_is_read_by_kafka_python(codec):
    batch = build_batch(
        SAMPLE, base_offset=90, compression=codec, producer_id=5, producer_epoch=2, base_sequence=33,
        transactional=True, partition_leader_epoch=4,
    )
    reader, records = kafka_python_read(batch)
    assert records == [(r.offset, r.timestamp, r.key, r.value, r.headers) 
                       for r in expected_records(SAMPLE, 90)]
    assert reader.compression_type == codec and reader.is_transactional and not reader.is_control_batch
    assert (reader.producer_id, reader.producer_epoch, reader.base_sequence) == (5, 2, 33)
    assert reader.leader_epoch == 4 and reader.max_timestamp == T0 + 1000 and reader.first_timestamp == T0
    validate_batch(batch, 0, read_header(batch))
    validate_records(batch, 0, read_header(batch))


@pytest.mark.parametrize("commit", [True, False])
def test_control_batch_is_a_transaction_marker_for_kafka_python(commit):
    batch = control_batch(8, 1, commit=commit, coordinator_epoch=17, timestamp_ms=T0, base_offset=55)
    reader, _ = kafka_python_read(batch)
    (marker,) = list(DefaultRecordBatch(batch))
    assert reader.is_control_batch and reader.is_transactional
    assert (reader.producer_id, reader.producer_epoch, reader.base_offset) == (8, 1, 55)
    assert (marker.version, marker.commit, marker.abort) == (0, commit, not commit)
    assert struct.unpack(">hi", marker.value) == (0, 17)
    header = read_header(batch)
    assert header.is_control and header.record_count == 1 and header.base_sequence == -1


# ---- in-place rewrites ----


@pytest.mark.parametrize("codec", [0, 1])
def test_assign_offsets_and_leader_epoch_keep_the_crc(codec):
    batch = bytearray(build_batch(SAMPLE, compression=codec))
    assign_offsets(batch, 0, 1 << 40)
    set_partition_leader_epoch(batch, 0, 9)
    reader, records = kafka_python_read(batch)
    assert [offset for offset, *_ in records] == [(1 << 40) + i for i in range(len(SAMPLE))]
    assert read_header(batch).partition_leader_epoch == reader.leader_epoch == 9
    validate_batch(batch, 0, read_header(batch))


@pytest.mark.parametrize("codec", CODECS, ids=CODEC_NAMES.get)
def test_stamp_log_append_time_recomputes_crc(codec):
    first = build_batch(SAMPLE[:2], compression=codec)
    second = bytearray(build_batch(SAMPLE, compression=codec))
    blob = bytearray(first) + second
    pos, header = split_batches(blob)[1]
    stamp_log_append_time(blob, pos, header, T0 + 99_999)
    stamped = blob[pos:]
    reader, records = kafka_python_read(stamped)
    assert reader.timestamp_type == 1 and reader.max_timestamp == T0 + 99_999
    assert [ts for _, ts, *_ in records] == [T0 + 99_999] * len(SAMPLE)
    assert read_header(stamped).base_timestamp == T0 and read_header(stamped).compression == codec
    assert list(iter_records(stamped)) == expected_records(SAMPLE, 0, append_time=T0 + 99_999)
    validate_batch(blob, pos, read_header(blob, pos))
    assert blob[: len(first)] == first  # the batch before is untouched


def test_stamp_log_append_time_accepts_time_before_create_time():
    batch = bytearray(build_batch(SAMPLE))
    stamp_log_append_time(batch, 0, read_header(batch), T0 - 60_000)  # broker clock behind the producer's
    validate_batch(batch, 0, read_header(batch))
    assert kafka_python_read(batch)[0].max_timestamp == T0 - 60_000


# ---- splitting blobs ----


def test_split_batches_and_iter_batches_find_every_batch():
    parts = [build_batch(SAMPLE[:n], compression=n % 5, base_offset=10 * n) for n in (1, 3, 5)]
    blob = b"".join(parts)
    positions = [0, len(parts[0]), len(parts[0]) + len(parts[1])]
    split = split_batches(blob)
    assert [pos for pos, _ in split] == positions
    assert [header.base_offset for _, header in split] == [10, 30, 50]
    assert [bytes(batch) for _, batch in iter_batches(blob)] == parts


@pytest.mark.parametrize("cut", [1, HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + 10])
def test_iter_batches_skips_a_partial_trailing_batch(cut):
    parts = [build_batch(SAMPLE[:2]), build_batch(SAMPLE, base_offset=2)]
    blob = parts[0] + parts[1][:cut]
    assert [bytes(batch) for _, batch in iter_batches(blob)] == [parts[0]]
    with pytest.raises(CorruptRecordError) as err:
        split_batches(blob)
    assert err.value.code == ErrorCode.CORRUPT_MESSAGE


def test_iter_batches_of_an_empty_blob_is_empty():
    assert list(iter_batches(b"")) == []


@pytest.mark.parametrize(
    "blob, code",
    [
        (b"", ErrorCode.INVALID_RECORD),
        (b"\x00" * 12, ErrorCode.CORRUPT_MESSAGE),
        (b"\x00" * 100, ErrorCode.CORRUPT_MESSAGE),
        (b"garbage! " * 20, ErrorCode.CORRUPT_MESSAGE),
    ],
    ids=["empty", "shorter than a header", "batch length 0", "batch length beyond the blob"],
)
def test_split_batches_rejects_impossible_blobs(blob, code):
    with pytest.raises(CorruptRecordError) as err:
        split_batches(blob)
    assert err.value.code == code


def test_split_batches_rejects_absurd_length_and_bad_magic():
    absurd = bytearray(build_batch(SAMPLE))
    struct.pack_into(">i", absurd, 8, 2**31 - 1)
    with pytest.raises(CorruptRecordError, match="truncated"):
        split_batches(absurd)
    old_magic = bytearray(build_batch(SAMPLE))
    old_magic[16] = 1
    with pytest.raises(CorruptRecordError) as err:
        split_batches(build_batch(SAMPLE) + old_magic)
    assert err.value.code == ErrorCode.INVALID_RECORD
    with pytest.raises(CorruptRecordError):
        iter_records(old_magic)
    with pytest.raises(CorruptRecordError) as err:
        validate_batch(old_magic, 0, read_header(old_magic))
    assert err.value.code == ErrorCode.INVALID_RECORD


def test_read_header_needs_61_bytes():
    batch = build_batch(SAMPLE)
    assert isinstance(read_header(batch), BatchHeader)
    with pytest.raises(CorruptRecordError):
        read_header(batch[:60])
    with pytest.raises(CorruptRecordError):
        read_header(batch, len(batch) - 60)


# ---- validate_batch ----


@pytest.mark.parametrize("index", [21, 40, HEADER_SIZE, -1])
def test_validate_batch_rejects_a_wrong_crc(index):
    batch = bytearray(build_batch(SAMPLE, compression=1))
    batch[index] ^= 0x01
    with pytest.raises(CorruptRecordError, match="crc") as err:
        validate_batch(batch, 0, read_header(batch))
    assert err.value.code == ErrorCode.CORRUPT_MESSAGE
    assert not DefaultRecordBatch(bytes(batch)).validate_crc()  # kafka-python agrees


def edited(field_offset: int, fmt: str, value: int) -> bytearray:
    batch = bytearray(build_batch(SAMPLE))
    struct.pack_into(fmt, batch, field_offset, value)
    return with_crc(batch)


@pytest.mark.parametrize(
    "batch, code",
    [
        (edited(57, ">i", 0), ErrorCode.INVALID_RECORD),  # record_count 0
        (edited(57, ">i", len(SAMPLE) + 1), ErrorCode.INVALID_RECORD),  # count != last_offset_delta + 1
        (edited(23, ">i", -1), ErrorCode.INVALID_RECORD),  # last_offset_delta
        (edited(21, ">h", 5), ErrorCode.CORRUPT_MESSAGE),  # compression codec 5
        (edited(27, ">q", -2), ErrorCode.INVALID_TIMESTAMP),  # base_timestamp below -1
        (edited(35, ">q", T0 - 1), ErrorCode.INVALID_TIMESTAMP),  # CreateTime max below base
        (edited(43, ">q", 12), ErrorCode.INVALID_RECORD),  # a producer id without a sequence
    ],
)
def test_validate_batch_rejects_inconsistent_headers(batch, code):
    with pytest.raises(CorruptRecordError) as err:
        validate_batch(batch, 0, read_header(batch))
    assert err.value.code == code


def test_validate_batch_accepts_missing_timestamps():
    batch = bytearray(build_batch([(b"k", b"v", [], -1), (b"k", b"v", [], -1)]))
    validate_batch(batch, 0, read_header(batch))
    assert [r.timestamp for r in iter_records(batch)] == [-1, -1]


def test_validate_batch_needs_the_whole_batch():
    batch = build_batch(SAMPLE)
    with pytest.raises(CorruptRecordError, match="truncated"):
        validate_batch(batch[:-1], 0, read_header(batch))


# ---- malformed records (iter_records and validate_records) ----


def record(*fields: bytes) -> bytes:
    body = b"".join(fields)
    return varints(len(body)) + body


GOOD = record(b"\x00", varints(0, 0, 1), b"k", varints(1), b"v", varints(0))
MALFORMED = {  # (records block, record_count)
    "varint too long": (GOOD + b"\xff\xff\xff\xff\xff\x01", 2),
    "record length overruns": (varints(200) + GOOD, 1),
    "negative record length": (varints(-5) + GOOD, 1),
    "key overruns record": (record(b"\x00", varints(0, 0, 50), b"k"), 1),
    "negative header count": (record(b"\x00", varints(0, 0, -1, -1, -1)), 1),
    "negative header key": (record(b"\x00", varints(0, 0, -1, -1, 1, -1, -1)), 1),
    "header value overruns": (record(b"\x00", varints(0, 0, -1, -1, 1, 1), b"h", varints(9), b"v"), 1),
    "record longer than fields": (record(b"\x00", varints(0, 0, -1, -1, 0), b"extra"), 1),
    "empty record": (varints(0), 1),
    "leftover bytes": (GOOD + b"\x00", 1),
    "fewer records than counted": (GOOD, 2),
}


@pytest.mark.parametrize("body, count", MALFORMED.values(), ids=MALFORMED.keys())
@pytest.mark.parametrize("codec", [0, 3])
def test_malformed_records_raise_corrupt_record_error(body, count, codec):
    batch = raw_batch(compress(codec, body), count=count, attributes=codec)
    header = read_header(batch)
    validate_batch(batch, 0, header)  # the batch header is fine: only the records are malformed
    with pytest.raises(CorruptRecordError) as err:
        list(iter_records(batch))
    assert err.value.code == ErrorCode.INVALID_RECORD
    with pytest.raises(CorruptRecordError):
        validate_records(batch, 0, header)


def test_header_key_that_is_not_utf8_reads_as_java_does():
    body = record(b"\x00", varints(0, 0, -1, -1, 1, 2), b"\xc3\x28", varints(-1))  # Java: U+FFFD, no error
    batch = raw_batch(body, count=1)
    validate_records(batch, 0, read_header(batch))
    assert [r.headers for r in iter_records(batch)] == [[("\ufffd(", None)]]


def test_validate_records_requires_offset_deltas_from_zero():
    second = record(b"\x00", varints(0, 5, -1, -1, 0))  # offset delta 5 where 1 is due
    batch = raw_batch(GOOD + second, count=2)
    assert [r.offset for r in iter_records(batch)] == [0, 5]  # readers report what is there
    with pytest.raises(CorruptRecordError, match="offset delta"):
        validate_records(batch, 0, read_header(batch))


def test_undecodable_compressed_block_is_corrupt():
    batch = raw_batch(b"not gzip at all", count=1, attributes=1)
    with pytest.raises(CorruptRecordError):
        list(iter_records(batch))


# ---- compression interop with the codecs kafka-python uses ----

PAYLOAD = b"".join(b"record %d of a compressible block; " % i for i in range(5000))
KAFKA_PYTHON_ENCODERS = {
    1: kafka_codec.gzip_encode,
    2: kafka_codec.snappy_encode,  # xerial framing, 32 KiB blocks
    3: kafka_codec.lz4_encode,
    4: kafka_codec.zstd_encode,
}
KAFKA_PYTHON_DECODERS = {
    1: kafka_codec.gzip_decode,
    2: kafka_codec.snappy_decode,
    3: kafka_codec.lz4_decode,
    4: kafka_codec.zstd_decode,
}


@pytest.mark.parametrize("codec", [1, 2, 3, 4], ids=CODEC_NAMES.get)
def test_compression_interoperates_with_kafka_python(codec):
    assert decompress(codec, KAFKA_PYTHON_ENCODERS[codec](PAYLOAD)) == PAYLOAD
    ours = compress(codec, PAYLOAD)
    assert len(ours) < len(PAYLOAD) // 4
    assert KAFKA_PYTHON_DECODERS[codec](ours) == PAYLOAD
    assert decompress(codec, memoryview(bytearray(ours))) == PAYLOAD


def test_snappy_reads_raw_and_xerial_and_writes_raw():
    xerial = kafka_codec.snappy_encode(PAYLOAD, xerial_compatible=True)
    raw = kafka_codec.snappy_encode(PAYLOAD, xerial_compatible=False)
    assert xerial.startswith(b"\x82SNAPPY\x00") and not raw.startswith(b"\x82SNAPPY\x00")
    assert decompress(2, xerial) == decompress(2, raw) == PAYLOAD
    assert not compress(2, PAYLOAD).startswith(b"\x82SNAPPY\x00")  # librdkafka's raw form


def test_lz4_frames_have_independent_blocks():
    frame = compress(3, PAYLOAD)
    assert frame[:4] == b"\x04\x22\x4d\x18"  # LZ4 frame magic
    assert frame[4] & 0x20  # FLG block-independence: Kafka's Java reader decodes blocks one by one


def test_zstd_streamed_frames_without_content_size():
    import zstandard

    stream = zstandard.ZstdCompressor().compressobj()
    frame = stream.compress(PAYLOAD) + stream.flush()
    assert decompress(4, frame) == PAYLOAD


@pytest.mark.parametrize(
    "codec, data",
    [
        (1, b"\x1f\x8b garbage"),
        (2, b"\xff\xff\xff\xff\x0f\x00"),  # raw snappy declaring 4 GiB from 6 bytes
        (2, b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x10\x00abc"),  # xerial block overruns
        (2, b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00"),  # xerial size truncated
        (3, b"\x04\x22\x4d\x18garbage"),
        (4, b"\x28\xb5\x2f\xfd" + b"\xe0" + struct.pack("<Q", 1 << 50) + b"\x01\x00\x00"),  # 1 PiB claimed
        (5, b"x"),
        (7, b""),
    ],
)
def test_decompress_rejects_bad_data_and_unknown_codecs(codec, data):
    with pytest.raises(CorruptRecordError):
        decompress(codec, data)


# ---- varints against kafka-python's ----


@given(st.integers(-(2**63), 2**63 - 1))
def test_varlong_matches_kafka_python(value):
    ours = bytearray()
    write_varint(value, ours)
    theirs = bytearray()
    encode_varint(value, theirs.append)
    assert ours == theirs
    assert read_varint(ours, 0, len(ours), 10) == (value, len(ours))
    assert decode_varint(bytes(ours), 0) == (value, len(ours))


@given(st.integers(-(2**31), 2**31 - 1))
def test_varint_reads_int32_in_at_most_five_bytes(value):
    encoded = varints(value)
    assert len(encoded) <= 5 and read_varint(encoded, 0, len(encoded)) == (value, len(encoded))


def test_varint_longer_than_five_bytes_is_corrupt():
    with pytest.raises(CorruptRecordError, match="longer"):
        read_varint(b"\x80\x80\x80\x80\x80\x01", 0, 6)
    with pytest.raises(CorruptRecordError, match="truncated"):
        read_varint(b"\x80\x80", 0, 2)


# ---- nothing but CorruptRecordError, whatever the bytes ----

record_strategy = st.tuples(
    st.one_of(st.none(), st.binary(max_size=40)),
    st.one_of(st.none(), st.binary(max_size=200)),
    st.lists(st.tuples(st.text(max_size=8), st.one_of(st.none(), st.binary(max_size=8))), max_size=3),
    st.integers(0, 2**42),
)


def exercise(blob) -> None:
    """Every entry point on `blob`; only CorruptRecordError may escape."""
    try:
        for pos, header in split_batches(blob):
            validate_batch(blob, pos, header)
            validate_records(blob, pos, header)
    except CorruptRecordError:
        pass
    try:
        for _, batch in iter_batches(blob):
            list(iter_records(batch))
    except CorruptRecordError:
        pass
    try:
        header = read_header(blob)
        validate_batch(blob, 0, header)
    except CorruptRecordError:
        pass
    try:
        list(iter_records(blob))
    except CorruptRecordError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_raise_only_corrupt_record_error(blob):
    exercise(blob)
    exercise(bytes(61) + blob)  # a zero header then garbage


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(range(8)), st.binary(max_size=200))
def test_decompress_of_random_bytes_raises_only_corrupt_record_error(codec, data):
    prefixes = {1: b"\x1f\x8b\x08\x00", 2: b"\x82SNAPPY\x00", 3: b"\x04\x22\x4d\x18", 4: b"\x28\xb5\x2f\xfd"}
    for candidate in (data, prefixes.get(codec, b"") + data):
        try:
            assert isinstance(decompress(codec, candidate), bytes)
        except CorruptRecordError:
            pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(record_strategy, min_size=1, max_size=6),
    st.sampled_from(CODECS),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4),
    st.one_of(st.none(), st.integers(0, 10_000)),
    st.booleans(),
)
def test_mutated_batches_raise_only_corrupt_record_error(records, codec, flips, cut, fix_crc):
    batch = bytearray(build_batch(records, compression=codec))
    ((pos, header),) = split_batches(batch)  # the unmutated batch passes every check
    validate_batch(batch, 0, header)
    validate_records(batch, 0, header)
    assert len(list(iter_records(batch))) == len(records)
    for index, value in flips:
        batch[index % len(batch)] = value
    if cut is not None:
        del batch[cut % len(batch) :]
    if fix_crc and len(batch) > 21:
        with_crc(batch)
    exercise(bytes(batch))

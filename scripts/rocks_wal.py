"""Count the keys of each WriteBatch in a RocksDB write-ahead log, or of each record in Ottla's journal
(partitions/journal.py, which replaces RocksDB's WAL): how many writes a request cost.

Used by bench_groups.py to check that one OffsetCommit is one RocksDB write.
"""

from __future__ import annotations

import struct
from pathlib import Path

# RocksDB's WAL (db/log_format.h): 32 KiB blocks of physical records, each a 7-byte header (crc u32,
# length u16, type u8; 11 bytes with a log number for the recyclable types) and a fragment of a record.
WAL_BLOCK, WAL_HEADER = 32768, struct.Struct("<IHB")
WAL_FULL, WAL_FIRST, WAL_MIDDLE, WAL_LAST = 1, 2, 3, 4
WAL_RECYCLABLE = {5, 6, 7, 8, 11, 131}


def wal_files(data_dir: Path) -> list[Path]:
    """RocksDB's WAL files and Ottla's journal files under data_dir."""
    return sorted(p for pattern in ("*.log", "*.jnl") for p in data_dir.rglob(pattern) if p.stem.isdigit())


def wal_position(path: Path) -> int:
    """Where the next record will go: a RocksDB WAL's size; the end of a journal file's records (a reused
    file is longer than its records)."""
    if path.suffix != ".jnl":
        return path.stat().st_size
    data = path.read_bytes()
    end = 0
    for count in journal_record_sizes(data, int(path.stem)):
        end += JOURNAL_HEADER.size + JOURNAL_HEADER.unpack_from(data, end)[0]
    return end


def wal_batch_sizes(path: Path, start: int) -> list[int]:
    """The key count of each WriteBatch in a RocksDB WAL file (or each record of a journal file) from byte
    `start` (a record boundary) on; [] for a file removed since (the journal rotated)."""
    try:
        with path.open("rb") as wal:  # it may be large: read only what comes after start
            wal.seek(start)
            data = wal.read()
    except FileNotFoundError:
        return []
    if path.suffix == ".jnl":
        return journal_record_sizes(data, int(path.stem))
    counts, pos, record = [], 0, None
    while pos + WAL_HEADER.size <= len(data):
        left = WAL_BLOCK - (start + pos) % WAL_BLOCK
        _crc, length, kind = WAL_HEADER.unpack_from(data, pos)
        if left < WAL_HEADER.size or kind == 0:  # a block's zero trailer, or preallocated space
            pos += left
            continue
        header = WAL_HEADER.size + 4 * (kind in WAL_RECYCLABLE)
        fragment = data[pos + header : pos + header + length]
        if len(fragment) < length:
            break
        pos += header + length
        kind = kind - 4 if 5 <= kind <= 8 else kind
        if kind in (WAL_FULL, WAL_FIRST):
            record = bytearray(fragment)
        elif kind in (WAL_MIDDLE, WAL_LAST) and record is not None:
            record += fragment
        if kind in (WAL_FULL, WAL_LAST) and record is not None:  # other kinds: metadata, no batch
            counts.append(struct.unpack_from("<I", record, 8)[0])  # WriteBatch: sequence u64, count u32
            record = None
    return counts


JOURNAL_HEADER, JOURNAL_COUNT = struct.Struct("<III"), struct.Struct("<I")  # partitions/journal.py's


def journal_record_sizes(data: bytes, number: int) -> list[int]:
    """The op count of each whole record of journal file `number` in a run of its bytes (a reused file's
    older records name another number: they end the run)."""
    counts, pos = [], 0
    while pos + JOURNAL_HEADER.size + JOURNAL_COUNT.size <= len(data):
        length, _crc, named = JOURNAL_HEADER.unpack_from(data, pos)
        if named != number or pos + JOURNAL_HEADER.size + length > len(data):
            break
        counts.append(JOURNAL_COUNT.unpack_from(data, pos + JOURNAL_HEADER.size)[0])
        pos += JOURNAL_HEADER.size + length
    return counts

"""Ottla's journal: the write-ahead log of the RocksDB engine, in place of RocksDB's own.

RocksStorage writes every change it makes to the database (puts, deletes, range deletes, in order, one
record a write batch) here with one os.writev, then applies it to RocksDB with the WAL disabled. So an
acknowledged write is in the OS page cache before it is acknowledged, as it was with RocksDB's WAL
(it survives kill -9, not a machine crash: nothing is fsynced), at a fraction of the CPU: the CRC is the
hardware CRC-32C of wire/crc.py, where rocksdict's portable RocksDB build computes it in software.

Files: `<dir>/<number>.journal`, numbered up from 1. A record is a header (payload length u32, CRC-32C
of the payload u32, little-endian) and a payload: an op count u32, then per op a kind u8, a key length
u32 and a value length u32 (the range end's for a range delete) and the two byte strings.

Replaying the ops in order from any point at or before the last flushed one gives the same database
(each op sets its keys to what they were after it the first time), so on open every file is replayed
(a torn or corrupt record ends the replay: point in time, as RocksDB's default recovery), RocksDB is
flushed and the files are removed. While serving, a file that passes `limit` bytes is closed, the next
one opened, and RocksDB flushed in a worker thread (rocksdict releases the GIL while it flushes);
when that flush returns, every file before the new one is removed.
"""

from __future__ import annotations

import mmap
import os
import struct
import threading
from collections.abc import Callable, Iterator

import structlog

from wire.crc import crc32c

log = structlog.get_logger("ottla.storage")

HEADER = struct.Struct("<II")  # payload length, CRC-32C of the payload
COUNT = struct.Struct("<I")
OP = struct.Struct("<BII")  # kind, key length, value length
PUT, DELETE, DELETE_RANGE = 1, 2, 3
SUFFIX = ".journal"
DEFAULT_LIMIT = 64 << 20  # bytes a file takes before the journal rotates and RocksDB is flushed
IOV_MAX = 1000  # os.writev's array bound (Linux: 1024), headers included


class Ops:
    """One write batch's ops as journal payload parts (the caller applies the same ops to RocksDB)."""

    __slots__ = ("parts", "count")

    def __init__(self) -> None:
        self.parts: list[bytes] = [b""]  # [0]: the op count, filled in when the record is written
        self.count = 0

    def put(self, key: bytes, value: bytes) -> None:
        self.parts += (OP.pack(PUT, len(key), len(value)), key, value)
        self.count += 1

    def delete(self, key: bytes) -> None:
        self.parts += (OP.pack(DELETE, len(key), 0), key)
        self.count += 1

    def delete_range(self, start: bytes, end: bytes) -> None:
        self.parts += (OP.pack(DELETE_RANGE, len(start), len(end)), start, end)
        self.count += 1


def file_number(name: str) -> int | None:
    stem = name[: -len(SUFFIX)] if name.endswith(SUFFIX) else ""
    return int(stem) if stem.isdigit() else None


def journal_files(directory: str) -> list[tuple[int, str]]:
    """(number, path) of every journal file in `directory`, oldest first."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    numbered = ((file_number(name), name) for name in names)
    return sorted((n, os.path.join(directory, name)) for n, name in numbered if n is not None)


def read_records(path: str) -> Iterator[list[tuple[int, bytes, bytes]]]:
    """The ops of each whole, intact record of one file, in order (an op is (kind, key, value or range
    end)). Stops at a torn record (the file ends inside it) or a corrupt one; `Replay.intact` says which."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            return
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            pos = 0
            while pos < size:
                if pos + HEADER.size > size:
                    raise TornRecord(path, pos)
                length, crc = HEADER.unpack_from(data, pos)
                start, end = pos + HEADER.size, pos + HEADER.size + length
                if end > size:
                    raise TornRecord(path, pos)
                if length < COUNT.size or crc32c(data[start:end]) != crc:
                    raise CorruptRecord(path, pos)
                yield _ops(data, start, end)
                pos = end


class TornRecord(Exception):
    """The file ends inside a record: the process died while writing it (never acknowledged)."""


class CorruptRecord(Exception):
    """A record whose CRC does not match (or whose header cannot be one)."""


def replay(directory: str, apply: Callable[[list[tuple[int, bytes, bytes]]], None]) -> tuple[int, list[str]]:
    """Apply every intact record of every file, oldest first, stopping at the first torn or corrupt one
    (later files too: what follows a hole is not applied, point-in-time recovery). Returns the number of
    records applied and the files read (to remove once the database is flushed)."""
    files = [path for _, path in journal_files(directory)]
    records = 0
    for path in files:
        try:
            for ops in read_records(path):
                apply(ops)
                records += 1
        except (TornRecord, CorruptRecord) as exc:
            event = "journal_tail_torn" if isinstance(exc, TornRecord) else "journal_record_corrupt"
            log.warning(event, path=exc.args[0], position=exc.args[1], records_applied=records,
                        effect="replay stops here; what follows was never acknowledged" if isinstance(exc, TornRecord)
                        else "replay stops here (point in time); later records are dropped")
            break
    return records, files


def _ops(data, pos: int, end: int) -> list[tuple[int, bytes, bytes]]:
    (count,), pos = COUNT.unpack_from(data, pos), pos + COUNT.size
    ops = []
    for _ in range(count):
        kind, key_len, value_len = OP.unpack_from(data, pos)
        pos += OP.size
        key, value = data[pos : pos + key_len], data[pos + key_len : pos + key_len + value_len]
        pos += key_len + value_len
        ops.append((kind, key, value))
    if pos != end:
        raise ValueError(f"journal record's ops end at {pos}, its length says {end}")  # CRC-valid: a bug
    return ops


class Journal:
    """The append side. Not thread-safe for appends (the event loop's thread); flushes run in a worker."""

    def __init__(self, directory: str, flush: Callable[[], None], limit: int = DEFAULT_LIMIT) -> None:
        self.directory, self.limit, self._flush_db = directory, limit, flush
        os.makedirs(directory, exist_ok=True)
        existing = journal_files(directory)
        self._number = existing[-1][0] + 1 if existing else 1
        self._fd = self._open(self._number)
        self._size = 0
        self._flusher: threading.Thread | None = None
        self.bytes_written = 0
        self.flushes = 0

    def _open(self, number: int) -> int:
        return os.open(os.path.join(self.directory, f"{number:08d}{SUFFIX}"),
                       os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)

    def append(self, ops: Ops) -> None:
        """Write one record (one syscall unless the kernel writes short). On OSError the file is cut back to
        where the record began, so a failed write leaves nothing behind it, and the error is raised."""
        parts = ops.parts
        parts[0] = COUNT.pack(ops.count)
        crc = 0
        length = 0
        for part in parts:
            crc = crc32c(part, crc)
            length += len(part)
        iov = [HEADER.pack(length, crc), *parts] if len(parts) < IOV_MAX else [HEADER.pack(length, crc), b"".join(parts)]
        total = HEADER.size + length
        try:
            written = os.writev(self._fd, iov)
            if written < total:  # a short write (a signal, a nearly full disk): the rest, in order
                rest = memoryview(b"".join(iov))[written:]
                while rest:
                    rest = rest[os.write(self._fd, rest):]
        except OSError:
            self.undo_to(self._size)
            raise
        self._size += total
        self.bytes_written += total

    def rotate_if_full(self) -> None:
        """Past the limit (and no flush running): the next file, and RocksDB flushed in the worker."""
        if self._size >= self.limit and (self._flusher is None or not self._flusher.is_alive()):
            self._rotate()

    def undo_to(self, size: int) -> None:
        """Cut the current file back to `size` bytes (`position` before a record that RocksDB then refused,
        or a failed write)."""
        try:
            os.ftruncate(self._fd, size)
        except OSError as exc:  # the record stays; replay would apply a write that was refused
            log.error("journal_truncate_failed", directory=self.directory, error=str(exc))

    @property
    def position(self) -> int:
        return self._size

    def _rotate(self) -> None:
        os.close(self._fd)
        upto = self._number
        self._number += 1
        self._fd = self._open(self._number)
        self._size = 0
        self._flusher = threading.Thread(target=self._flush_and_trim, args=(upto,), name="ottla-journal-flush",
                                         daemon=True)
        self._flusher.start()

    def _flush_and_trim(self, upto: int) -> None:
        try:
            self._flush_db()
        except Exception as exc:  # a full disk: the files stay, replayed on open; the next rotation retries
            log.error("journal_flush_failed", directory=self.directory, error=str(exc))
            return
        self.flushes += 1
        self._remove(upto)

    def _remove(self, upto: int) -> None:
        for number, path in journal_files(self.directory):
            if number <= upto:
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass

    def wait(self) -> None:
        """Until the worker's flush, if one is running, is done."""
        if self._flusher is not None:
            self._flusher.join()

    def close(self, flushed: bool) -> None:
        """Close the file; remove every journal file if the database was flushed after the last append."""
        self.wait()
        os.close(self._fd)
        if flushed:
            self._remove(self._number)

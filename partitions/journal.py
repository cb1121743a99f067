"""Ottla's journal: the write-ahead log of the RocksDB engine, in place of RocksDB's own.

RocksStorage writes every change it makes to the database (puts, deletes, range deletes, in order, one
record a write batch) here with one os.pwritev, then applies it to RocksDB with the WAL disabled. So an
acknowledged write is in the OS page cache before it is acknowledged, as it was with RocksDB's WAL
(it survives kill -9, not a machine crash: nothing is fsynced), at a fraction of the CPU: the CRC is the
hardware CRC-32C of wire/crc.py, where rocksdict's portable RocksDB build computes it in software.

Files: `<dir>/<number>.jnl`, numbered up from 1. A record is a header (payload length u32, CRC-32C u32
of the file number and the payload, the file number u32; little-endian) and a payload: an op count u32,
then per op a kind u8, a key length u32 and a value length u32 (the range end's for a range delete)
and the two byte strings. (`<number>.journal` files are the first format, without the number; they
are still replayed.)

Replaying the ops in order from any point at or before the last flushed one gives the same database
(each op sets its keys to what they were after it the first time), so on open every file is replayed
in order, RocksDB is flushed and the files are removed (oldest first). The newest file's records end
at its first bad record (torn by the process dying, or the old bytes of a reused file, which name
another file number); a bad record in an older file is corruption and ends the replay (point in time,
RocksDB's default recovery). While serving, a file that passes `limit` bytes is cut to its records'
end and the next one opened, and RocksDB is flushed in a worker thread (rocksdict releases the GIL
while it flushes); when that flush returns, the files before the new one are removed, the newest of
them kept as the spare that the next rotation writes over (cheaper than a new file).
"""

from __future__ import annotations

import mmap
import os
import struct
import threading
import time
from collections.abc import Callable, Iterator

import structlog

from wire.crc import crc32c

log = structlog.get_logger("ottla.storage")

HEADER = struct.Struct("<III")  # payload length, CRC-32C of the file number and payload, the file number
HEADER_V1 = struct.Struct("<II")  # the first format (*.journal files): payload length, CRC-32C of the payload
COUNT = struct.Struct("<I")
NUMBER = struct.Struct("<I")
OP = struct.Struct("<BII")  # kind, key length, value length
PUT, DELETE, DELETE_RANGE = 1, 2, 3
SUFFIX, SUFFIX_V1 = ".jnl", ".journal"
SPARE = "spare.jnl-free"  # a flushed file kept to be written over (not named as a journal file: never replayed)
DEFAULT_LIMIT = 56 << 20  # bytes a file takes before the journal rotates and RocksDB is flushed: under
# RocksDB's 64 MiB memtable (records plus its overhead), so the journal's flush switches the memtable first
IOV_MAX = 1000  # os.pwritev's array bound (Linux: 1024), headers included
JOIN_BELOW = 64 << 10  # a record this small is joined before its CRC: 301 crc32c calls for 100 puts cost
# 32 us, one over the joined parts 1.8 us (the offsets bench); a big batch is written from its parts
JOIN_VALUE_BELOW = 256  # a put's value this small is joined to its op header and key (index entries, state)


class Ops:
    """One write batch's ops as journal payload parts (the caller applies the same ops to RocksDB)."""

    __slots__ = ("parts", "count")

    def __init__(self) -> None:
        self.parts: list[bytes] = [b""]  # [0]: the op count, filled in when the record is written
        self.count = 0

    def put(self, key: bytes, value: bytes) -> None:
        # the op's header joined to its key, and to its value too when small: the same bytes in fewer parts
        # (each part is a CRC call and an iovec; a Produce puts a small index entry beside each batch)
        if len(value) <= JOIN_VALUE_BELOW:
            self.parts.append(OP.pack(PUT, len(key), len(value)) + key + value)
        else:
            self.parts += (OP.pack(PUT, len(key), len(value)) + key, value)
        self.count += 1

    def delete(self, key: bytes) -> None:
        self.parts.append(OP.pack(DELETE, len(key), 0) + key)
        self.count += 1

    def delete_range(self, start: bytes, end: bytes) -> None:
        self.parts.append(OP.pack(DELETE_RANGE, len(start), len(end)) + start + end)
        self.count += 1


def file_number(name: str) -> int | None:
    stem = name.removesuffix(SUFFIX) if name.endswith(SUFFIX) else name.removesuffix(SUFFIX_V1)
    return int(stem) if stem != name and stem.isdigit() else None


def journal_files(directory: str) -> list[tuple[int, str]]:
    """(number, path) of every journal file in `directory`, oldest first."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    numbered = ((file_number(name), name) for name in names)
    return sorted((n, os.path.join(directory, name)) for n, name in numbered if n is not None)


class BadRecord(Exception):
    """Where a file's records end: a torn record (the process died writing it), the bytes of the file's
    previous use (a recycled file), a record cut off after RocksDB refused it, or corruption."""


def read_records(path: str, number: int) -> Iterator[list[tuple[int, bytes, bytes]]]:
    """The ops of each intact record of one file, in order (an op is (kind, key, value or range end));
    raises BadRecord(path, position) where they stop before the file's end. A record counts only if it
    names this file's number and its CRC (which covers the number) matches."""
    v1 = path.endswith(SUFFIX_V1)
    header = HEADER_V1 if v1 else HEADER
    seed = 0 if v1 else crc32c(NUMBER.pack(number))
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            return
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            pos = 0
            while pos < size:
                if pos + header.size > size:
                    raise BadRecord(path, pos)
                length, crc, *named = header.unpack_from(data, pos)
                start, end = pos + header.size, pos + header.size + length
                if named and named[0] != number or length < COUNT.size or end > size \
                        or crc32c(data[start:end], seed) != crc:
                    raise BadRecord(path, pos)
                yield _ops(data, start, end)
                pos = end


def replay(directory: str, apply: Callable[[list[tuple[int, bytes, bytes]]], None]) -> tuple[int, list[str]]:
    """Apply every intact record of every file, oldest first. The newest file's records end at the first
    bad one (a torn record, or a recycled file's old bytes); an older file was cut to its records' end when
    the journal rotated, so a bad record there is corruption: the replay stops (later files are not
    applied: point-in-time recovery, RocksDB's default). Returns the number of records applied and the
    files read (to remove once the database is flushed, oldest first)."""
    files = journal_files(directory)
    records = 0
    for i, (number, path) in enumerate(files):
        try:
            for ops in read_records(path, number):
                apply(ops)
                records += 1
        except BadRecord as exc:
            if i < len(files) - 1:
                log.error("journal_record_corrupt", path=path, position=exc.args[1], records_applied=records,
                          files_dropped=len(files) - 1 - i, effect="replay stops here (point in time)")
                break
    return records, [path for _, path in files]


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
    """The append side. Not thread-safe for appends (the event loop's thread); flushes run in a worker.
    Records are written at explicit offsets (os.pwritev) so that a flushed file can be reused: writing
    over a file's cached pages costs less than growing a new file and freeing an old one's."""

    def __init__(self, directory: str, flush: Callable[[], None], limit: int = DEFAULT_LIMIT) -> None:
        self.directory, self.limit, self._flush_db = directory, limit, flush
        os.makedirs(directory, exist_ok=True)
        try:  # numbers start again at 1 once the replayed files are gone: an old spare could hold records of
            os.unlink(os.path.join(directory, SPARE))  # a number about to be used again, so it goes
        except FileNotFoundError:
            pass
        existing = journal_files(directory)
        self._number = existing[-1][0] + 1 if existing else 1
        self._fd = self._open(self._number)
        self._size = 0
        self._seed = crc32c(NUMBER.pack(self._number))
        # One flush worker for the journal's life, told by a condition: starting a thread at each rotation made
        # the loop's thread wait in Thread.start until the OS ran the new thread (0.2-11 ms on a busy machine)
        self._work = threading.Condition()
        self._pending: int | None = None  # the newest file number the worker is to flush and remove up to
        self._busy = False  # a flush asked for and not done (set on the loop's thread, cleared by the worker)
        self._closing = False
        self._flusher = threading.Thread(target=self._worker, name="ottla-journal-flush", daemon=True)
        self._flusher.start()
        self.lock = threading.Lock()  # held by the writer around a record and its RocksDB write, and by trim()
        self.bytes_written = 0
        self.ops_written = 0  # puts, deletes and range deletes (the bench's keys-a-partition row)
        self.flushes = 0
        self.longest_rotation_s = 0.0  # the longest rotation on the appending thread (the bench's row)

    def _open(self, number: int) -> int:
        """File `number`, empty or the spare renamed (its old records name another number: never replayed)."""
        path = os.path.join(self.directory, f"{number:08d}{SUFFIX}")
        try:
            os.rename(os.path.join(self.directory, SPARE), path)
        except FileNotFoundError:
            pass
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)

    def append(self, ops: Ops) -> None:
        """Write one record at the end of the current file's records (one syscall unless the kernel writes
        short). On OSError the record's header is zeroed, so nothing of it is replayed, and the error is
        raised; the next record is written in its place."""
        parts = ops.parts
        parts[0] = COUNT.pack(ops.count)
        length = sum(map(len, parts))
        if length <= JOIN_BELOW or len(parts) >= IOV_MAX:  # many small parts: one CRC call over one copy
            parts = [b"".join(parts)]
        crc = self._seed
        for part in parts:
            crc = crc32c(part, crc)
        header = HEADER.pack(length, crc, self._number)
        iov = [header, *parts]
        total = HEADER.size + length
        try:
            written = os.pwritev(self._fd, iov, self._size)
            if written < total:  # a short write (a signal, a nearly full disk): the rest, in order
                rest = memoryview(b"".join(iov))[written:]
                while rest:
                    rest = rest[os.pwrite(self._fd, rest, self._size + total - len(rest)):]
        except OSError:
            self.undo_to(self._size)
            raise
        self._size += total
        self.bytes_written += total
        self.ops_written += ops.count

    def rotate_if_full(self) -> None:
        """Past the limit (and no flush running): the next file, and RocksDB flushed in the worker."""
        if self._size >= self.limit and not self._busy:
            started = time.perf_counter()
            self._rotate()
            self.longest_rotation_s = max(self.longest_rotation_s, time.perf_counter() - started)

    def undo_to(self, position: int) -> None:
        """Forget the record at `position` (`position` before a record that RocksDB then refused, or a failed
        write): its header is zeroed so a replay ends there, and the next record goes in its place."""
        self._size = position
        try:
            os.pwrite(self._fd, bytes(HEADER.size), position)
        except OSError as exc:  # the record stays; replay would apply a write that was refused
            log.error("journal_undo_failed", directory=self.directory, error=str(exc))

    @property
    def position(self) -> int:
        return self._size

    def _rotate(self, flush_in_worker: bool = True) -> int | None:
        """Cut the current file and open the next; the number of the file cut (None if it could not be)."""
        try:
            os.ftruncate(self._fd, self._size)  # the file ends where its records do: only the newest has a tail
        except OSError as exc:  # then it stays the current file
            log.error("journal_rotate_failed", directory=self.directory, error=str(exc))
            return None
        os.close(self._fd)
        upto = self._number
        self._number += 1
        self._fd = self._open(self._number)
        self._size = 0
        self._seed = crc32c(NUMBER.pack(self._number))
        if flush_in_worker:
            with self._work:
                self._busy, self._pending = True, upto
                self._work.notify_all()
        return upto

    def trim(self) -> None:
        """From a worker thread, after retention or the cleaner removed data: rotate, flush RocksDB, remove
        every file before the new one and the spare, so the disk space of removed records goes too.
        Raises what the flush raises (the files then stay)."""
        self.wait()
        with self.lock:
            try:  # first, so the next file is a new, empty one
                os.unlink(os.path.join(self.directory, SPARE))
            except FileNotFoundError:
                pass
            upto = self._rotate(flush_in_worker=False)
        if upto is None:
            return
        self._flush_db()
        self.flushes += 1
        self._remove(upto, keep_spare=False)

    def _worker(self) -> None:
        while True:
            with self._work:
                while self._pending is None and not self._closing:
                    self._work.wait()
                if self._pending is None:
                    return
                upto, self._pending = self._pending, None
            try:
                self._flush_and_trim(upto)
            finally:
                with self._work:
                    self._busy = False
                    self._work.notify_all()

    def _flush_and_trim(self, upto: int) -> None:
        try:
            self._flush_db()
        except Exception as exc:  # a full disk: the files stay, replayed on open; the next rotation retries
            log.error("journal_flush_failed", directory=self.directory, error=str(exc))
            return
        self.flushes += 1
        self._remove(upto, keep_spare=True)

    def _remove(self, upto: int, keep_spare: bool) -> None:
        """Remove the files up to `upto`, oldest first (what is left is always the newest files: replaying
        them is replaying a suffix of the ops); the newest of them becomes the spare if there is none."""
        old = [path for number, path in journal_files(self.directory) if number <= upto]
        spare = os.path.join(self.directory, SPARE)
        for i, path in enumerate(old):
            try:
                if keep_spare and i == len(old) - 1 and path.endswith(SUFFIX) and not os.path.exists(spare):
                    os.rename(path, spare)
                else:
                    os.unlink(path)
            except FileNotFoundError:
                pass

    def wait(self) -> None:
        """Until the worker's flush, if one was asked for, is done."""
        with self._work:
            while self._busy:
                self._work.wait()

    def close(self, flushed: bool) -> None:
        """Close the file; remove every journal file (and the spare) if the database was flushed after the
        last append."""
        self.wait()
        with self._work:
            self._closing = True
            self._work.notify_all()
        self._flusher.join()
        os.close(self._fd)
        if flushed:
            self._remove(self._number, keep_spare=False)
            try:
                os.unlink(os.path.join(self.directory, SPARE))
            except FileNotFoundError:
                pass
